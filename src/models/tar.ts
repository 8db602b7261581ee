import { Parser, type ReadEntry } from 'tar';

/** Why an archive could not give up the file asked for. */
export class TarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarError';
  }
}

/**
 * One regular file out of a tar or .tgz held in memory (the `tar` package's parser: ustar, GNU
 * long names, pax headers, gzip detected from the data). Nothing is written to disk. The parser
 * runs synchronously on a buffer fed in one `end()`, so this stays a plain function.
 */
export function extractFromTar(archive: Buffer, wanted: string): Buffer {
  const names: string[] = [];
  const chunks: Buffer[] = [];
  let found = false;
  let problem: string | undefined;
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const regular = entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile';
      const name = entry.path.replace(/^\.\//, '');
      if (regular) names.push(name);
      if (regular && !found && name === wanted) {
        found = true;
        entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      } else {
        entry.resume();
      }
    },
  });
  parser.on('error', (err: Error) => (problem ??= err.message));
  parser.on('warn', (_code: string, message: string | Error) => (problem ??= String(message instanceof Error ? message.message : message)));
  parser.end(archive);
  // A damaged header anywhere refuses the archive, even when the file asked for was readable.
  if (problem) throw new TarError(`Corrupt tar archive: ${problem}`);
  if (found) return Buffer.concat(chunks);
  const shown = names.slice(0, 20).join(', ');
  throw new TarError(`No file ${wanted} in the archive; it holds ${names.length} files${names.length ? `: ${shown}${names.length > 20 ? ', …' : ''}` : ''}`);
}
