// Keeps a pool busy with a corpus: twice its task slots in flight, images taken in turn, so no thread
// waits for work. bench/run.ts and bench/settings-ab.ts measure through it.
import type { JobOptions } from '../src/job.js';
import type { ImagePool } from '../src/pool/image-pool.js';

export async function runThroughPool(pool: ImagePool, images: Buffer[], count: number, options: JobOptions): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: pool.capacity * 2 }, async () => {
      while (next < count) {
        const outcome = await pool.run(Buffer.from(images[next++ % images.length]), options);
        if (!outcome.ok) throw new Error(`${outcome.code}: ${outcome.message}`);
      }
    }),
  );
}
