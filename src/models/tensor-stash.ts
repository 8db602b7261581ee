/**
 * Input tensors kept between runs, by length. A fresh Float32Array per pass costs more than filling it:
 * YuNet at 1600×928 is an 18 MB tensor, whose new pages the kernel faults in and zeroes and whose
 * release drives V8's external-memory GCs (bench/stages.ts: ~15 ms of CPU per image). regionToTensor
 * writes every element (padding included), so a reused tensor needs no clearing.
 */
export class TensorStash {
  private readonly spare = new Map<number, Float32Array[]>();

  /** At most this many lengths (head-crop batches vary) and this many tensors of one length (tasks in flight per thread). */
  constructor(
    private readonly maxLengths = 6,
    private readonly perLength = 2,
  ) {}

  take(length: number): Float32Array {
    return this.spare.get(length)?.pop() ?? new Float32Array(length);
  }

  /** Once session.run is over with it: onnxruntime reads the tensor's memory in place. A detached (transferred) array is dropped. */
  give(tensor: Float32Array): void {
    if (tensor.length === 0) return;
    const list = this.spare.get(tensor.length);
    if (list) {
      if (list.length < this.perLength) list.push(tensor);
      return;
    }
    if (this.spare.size >= this.maxLengths) this.spare.delete(this.spare.keys().next().value!);
    this.spare.set(tensor.length, [tensor]);
  }
}
