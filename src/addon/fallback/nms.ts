/**
 * Greedy non-maximum suppression. boxes holds x1,y1,x2,y2 per candidate; returns the
 * indices kept, highest score first. Candidates with different classes never suppress
 * each other when `classes` is given.
 */
export function nmsFallback(boxes: Float32Array, scores: Float32Array, iouThreshold: number, classes?: Int32Array): Int32Array {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const suppressed = new Uint8Array(n);
  const keep: number[] = [];
  for (let oi = 0; oi < n; oi++) {
    const i = order[oi];
    if (suppressed[i]) continue;
    keep.push(i);
    const ax1 = boxes[i * 4], ay1 = boxes[i * 4 + 1], ax2 = boxes[i * 4 + 2], ay2 = boxes[i * 4 + 3];
    const areaA = Math.max(0, ax2 - ax1) * Math.max(0, ay2 - ay1);
    for (let oj = oi + 1; oj < n; oj++) {
      const j = order[oj];
      if (suppressed[j] || (classes && classes[i] !== classes[j])) continue;
      const bx1 = boxes[j * 4], by1 = boxes[j * 4 + 1], bx2 = boxes[j * 4 + 2], by2 = boxes[j * 4 + 3];
      const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1);
      const ih = Math.min(ay2, by2) - Math.max(ay1, by1);
      if (iw <= 0 || ih <= 0) continue;
      const inter = iw * ih;
      const areaB = Math.max(0, bx2 - bx1) * Math.max(0, by2 - by1);
      if (inter / (areaA + areaB - inter) > iouThreshold) suppressed[j] = 1;
    }
  }
  return Int32Array.from(keep);
}
