// Child processes of a video job (ffprobe, the decoding and the encoding ffmpeg): each is waited
// for, killed on abort (timeout, erasure, shutdown) and never left running or unreaped.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** The last bytes of a process's stderr: enough for ffmpeg's one-line error, bounded whatever it prints. */
const STDERR_TAIL = 8 * 1024;

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The tail of what it printed on stderr. */
  stderr: string;
}

export interface RunningProcess {
  child: ChildProcessWithoutNullStreams;
  /** Resolves once the process has exited and been reaped (never rejects; a spawn error is exit code null with the error in stderr). */
  exited: Promise<ProcessExit>;
  /** SIGKILL if still running; safe to call more than once. */
  kill(): void;
}

/** Starts `bin args`, with `extraOutputs` more pipes from it after stderr (fd 3, ...); killed with SIGKILL when `signal` aborts. */
export function startProcess(bin: string, args: string[], signal?: AbortSignal, extraOutputs = 0): RunningProcess {
  const stdio: Array<'pipe'> = Array.from({ length: 3 + extraOutputs }, () => 'pipe' as const);
  const child = spawn(bin, args, { stdio }) as ChildProcessWithoutNullStreams;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });
  // A closed pipe (the other side died) is reported through the exit, not as an unhandled error.
  child.stdin.on('error', () => {});
  child.stdout.on('error', () => {});
  for (const extra of child.stdio.slice(3)) extra?.on('error', () => {});
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('error', (err) => {
      // Spawn failed (ENOENT): there is no process to wait for.
      if (child.pid === undefined) resolve({ code: null, signal: null, stderr: err.message });
    });
    child.once('close', (code, sig) => resolve({ code, signal: sig, stderr }));
  });
  if (signal) {
    if (signal.aborted) kill();
    else signal.addEventListener('abort', kill, { once: true });
    void exited.then(() => signal.removeEventListener('abort', kill));
  }
  return { child, exited, kill };
}

/** Runs to the end and returns stdout; the exit tells whether it worked. */
export async function runToEnd(bin: string, args: string[], signal?: AbortSignal): Promise<ProcessExit & { stdout: string }> {
  const proc = startProcess(bin, args, signal);
  proc.child.stdin.end();
  const chunks: Buffer[] = [];
  proc.child.stdout.on('data', (c: Buffer) => chunks.push(c));
  const exit = await proc.exited;
  return { ...exit, stdout: Buffer.concat(chunks).toString('utf8') };
}

/** The first line of ffmpeg's complaint, for an error message. */
export function firstLine(stderr: string): string {
  const line = stderr.split('\n').map((l) => l.trim()).find(Boolean);
  return line ? line.slice(0, 300) : 'no message';
}

export interface FfmpegBinaries {
  ffmpeg: string;
  ffprobe: string;
}

/**
 * Whether both binaries run here (`-version`), checked once at start-up: undefined when they do,
 * else what is wrong, for the 503 VIDEO_UNAVAILABLE answer and the start-up log.
 */
export async function ffmpegProblem(bins: FfmpegBinaries): Promise<string | undefined> {
  for (const [setting, bin] of [['FFMPEG_PATH', bins.ffmpeg], ['FFPROBE_PATH', bins.ffprobe]] as const) {
    const out = await runToEnd(bin, ['-hide_banner', '-version'], AbortSignal.timeout(10_000));
    if (out.code !== 0) return `${bin} (${setting}) does not run: ${firstLine(out.stderr)}`;
  }
  const encoders = await runToEnd(bins.ffmpeg, ['-hide_banner', '-encoders'], AbortSignal.timeout(10_000));
  if (!/\slibx264\s/.test(encoders.stdout)) return `${bins.ffmpeg} (FFMPEG_PATH) has no libx264 encoder`;
  return undefined;
}
