import { readFileSync } from 'node:fs';
import type { ChainableCommander, Redis } from 'ioredis';

// Scripts live in src/<owner>/lua as <name>-<numKeys>.lua, each with a KEYS/ARGV header.
type ScriptArg = string | number;
type Runner = (...args: ScriptArg[]) => Promise<unknown>;
type Definition = { lua: string; numberOfKeys: number };

/** Under tsx this file is src/redis/; compiled it runs from dist/src/redis/ and reads the source tree. */
function readLua(owner: string, file: string): string {
  for (const dir of [`../${owner}/lua/`, `../../../src/${owner}/lua/`]) {
    try {
      return readFileSync(new URL(dir + file, import.meta.url), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new Error(`Lua script ${file} not found in src/${owner}/lua (from ${import.meta.url}); ship src/${owner}/lua with the build`);
}

/** A line `--@include lib/x.lua` stands for that file of the same folder (shared local functions). */
const INCLUDE = /^--@include (\S+\.lua)$/gm;

function readScript(owner: string, file: string): string {
  return readLua(owner, file).replace(INCLUDE, (_, included: string) => readLua(owner, included));
}

/**
 * One folder's Lua scripts, read once and registered on each connection as ioredis commands
 * (EVALSHA, falling back to EVAL on NOSCRIPT). `files` maps command names to file names.
 */
export class ScriptSet<Name extends string> {
  private loaded?: Array<[Name, Definition]>;

  constructor(private readonly owner: string, private readonly files: Readonly<Record<Name, string>>) {}

  private definitions(): Array<[Name, Definition]> {
    this.loaded ??= (Object.entries(this.files) as Array<[Name, string]>).map(([name, file]) => [
      name,
      { lua: readScript(this.owner, file), numberOfKeys: Number(/-(\d+)\.lua$/.exec(file)![1]) },
    ]);
    return this.loaded;
  }

  define(redis: Redis): void {
    for (const [name, definition] of this.definitions()) redis.defineCommand(name, definition);
  }

  /** Keys first, then arguments, as the script's header lists them. */
  run(redis: Redis, name: Name, ...args: ScriptArg[]): Promise<unknown> {
    return (redis as unknown as Record<Name, Runner>)[name](...args);
  }

  /** Queues a script call on a pipeline or MULTI. */
  queue(pipeline: ChainableCommander, name: Name, ...args: ScriptArg[]): void {
    (pipeline as unknown as Record<Name, Runner>)[name](...args);
  }
}
