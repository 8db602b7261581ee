// Box arithmetic the tracker needs: overlap, blending two boxes, growing a box about its centre and
// keeping it inside the frame. Boxes are pixels, top-left corner plus size.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function iou(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/** The box a share t of the way from a to b (t = 0 is a, t = 1 is b). */
export function lerp(a: Rect, b: Rect, t: number): Rect {
  return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t, width: a.width + (b.width - a.width) * t, height: a.height + (b.height - a.height) * t };
}

/** Grows width and height by `share` of their size, about the centre. */
export function grow(r: Rect, share: number): Rect {
  const dx = (r.width * share) / 2;
  const dy = (r.height * share) / 2;
  return { x: r.x - dx, y: r.y - dy, width: r.width + 2 * dx, height: r.height + 2 * dy };
}

/** The part of r inside a frame of width × height, or null when none of it is. */
export function clip(r: Rect, width: number, height: number): Rect | null {
  const x = Math.max(0, r.x);
  const y = Math.max(0, r.y);
  const right = Math.min(width, r.x + r.width);
  const bottom = Math.min(height, r.y + r.height);
  if (right <= x || bottom <= y) return null;
  return { x, y, width: right - x, height: bottom - y };
}

/** Distance between the centres of a and b, in units of a's diagonal. */
export function centreDistance(a: Rect, b: Rect): number {
  const dx = a.x + a.width / 2 - (b.x + b.width / 2);
  const dy = a.y + a.height / 2 - (b.y + b.height / 2);
  return Math.hypot(dx, dy) / Math.max(1e-6, Math.hypot(a.width, a.height));
}
