import fs from 'node:fs';
import path from 'node:path';
import { errors } from '../errors.js';
import type { BodyFlow, BodySink } from './http.js';
import type { BodyAllowance } from './upload-budget.js';

/**
 * Bytes a body being written to disk may hold in memory: the write stream's buffer, plus what
 * uWS hands over in the callback that crossed it (its chunks are up to ~512 KiB). Charged to
 * the upload budget once, whatever the body's size.
 */
export const UPLOAD_FILE_WINDOW_BYTES = 1024 * 1024;
const WRITE_HIGH_WATER_BYTES = 256 * 1024;

/** A body written to disk: `file` inside `dir`, a folder of its own the route may put files made from it in. */
export interface SpooledBody {
  dir: string;
  file: string;
  size: number;
}

/**
 * A request body written to a temporary file as it arrives (video uploads), so memory holds a
 * window of it whatever its length: uWS is paused while the file's write buffer is full. The
 * folder is made at once (onData must be registered in the same tick) and removed by remove(),
 * which the server calls however the request ends.
 */
export class UploadFile {
  readonly dir: string;
  readonly file: string;
  private size = 0;
  private removed = false;
  private out?: fs.WriteStream;
  private writeError?: Error;

  constructor(tempDir: string, private readonly limit: number, allowance?: BodyAllowance) {
    allowance?.take(UPLOAD_FILE_WINDOW_BYTES);
    try {
      // The pid lets a later node tell a dead one's leftovers (sweepDeadWorkersTemp).
      this.dir = fs.mkdtempSync(path.join(tempDir, `pixveil-upload-${process.pid}-`));
    } catch (err) {
      throw errors.storage('write', `a temporary file in ${tempDir}`, err);
    }
    this.file = path.join(this.dir, 'body');
  }

  /** The sink readBodyInto writes to; `flow` pauses uWS on backpressure and fails the read on a write error. */
  sink(flow: BodyFlow): BodySink<SpooledBody> {
    const out = fs.createWriteStream(this.file, { flags: 'wx', highWaterMark: WRITE_HIGH_WATER_BYTES });
    this.out = out;
    out.on('error', (err) => {
      this.writeError = errors.storage('write', this.file, err);
      flow.fail(this.writeError);
    });
    out.on('drain', () => flow.resume());
    return {
      append: (chunk) => {
        if (this.size + chunk.byteLength > this.limit) return false;
        this.size += chunk.byteLength;
        // uWS reuses the chunk's memory once the callback returns: the stream gets a copy.
        if (!out.write(Buffer.copyBytesFrom(new Uint8Array(chunk)))) flow.pause();
        return true;
      },
      finish: () =>
        new Promise((resolve, reject) => {
          if (this.removed) return reject(errors.requestTimeout('the request ended before its body was kept'));
          out.end((err?: Error | null) => {
            if (err || this.writeError) reject(this.writeError ?? errors.storage('write', this.file, err));
            else resolve({ dir: this.dir, file: this.file, size: this.size });
          });
        }),
    };
  }

  /** Closes the file and removes the folder with all in it; safe to call more than once. */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    const out = this.out;
    if (out && !out.closed) {
      await new Promise<void>((resolve) => {
        out.once('close', () => resolve());
        out.destroy();
      });
    }
    await fs.promises.rm(this.dir, { recursive: true, force: true });
  }
}
