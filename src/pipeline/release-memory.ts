import v8 from 'node:v8';
import vm from 'node:vm';

/** A job whose decoded image had at least this many pixels is followed by a full collection. */
export const COLLECT_AFTER_PIXELS = 16_000_000;

let collect: (() => void) | null | undefined;

/** V8's gc(), exposed once per thread without a command-line flag; null where V8 refuses. */
function collector(): (() => void) | null {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/**
 * Frees a large job's decoded pixels now rather than at the thread's next collection. The decoded
 * image, its pyramid and the encoder's input are buffers outside the JS heap that only a collection
 * frees, and an idle pool thread waits for its next task without running one, so a burst of large
 * images (or small files whose headers claim large ones) otherwise leaves the process holding what
 * they decoded for as long as the node stays idle (issue 21: 1.44 GB five minutes after four of them).
 * A full collection of a pool thread's small heap costs a few milliseconds, against the seconds a
 * 16 MP image takes, so smaller images are left to V8's own schedule.
 */
export async function releaseLargeImage(pixels: number): Promise<void> {
  const gc = pixels >= COLLECT_AFTER_PIXELS ? collector() : null;
  if (!gc) return;
  // Native buffers (sharp's output, the addon's) are freed by finalizers that Node runs on a later
  // turn of the thread's event loop, not inside the collection: give them those turns before the task ends.
  for (let round = 0; round < 2; round++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
