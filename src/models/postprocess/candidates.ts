import { pixelOps } from '../../addon/index.js';
import type { DecodeContext } from './decode-context.js';

/** A detection in image pixels (x1,y1 top-left, x2,y2 bottom-right). */
export interface RawDetection {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  classId: number;
  /** Face landmarks in image pixels (YuNet: eyes, nose tip, mouth corners), mapped like the box. */
  landmarks?: Array<[number, number]>;
}

/** Collects candidates above threshold in model-input coordinates, then maps, clips and NMS-filters them. */
export class CandidateSet {
  private readonly boxes: number[] = [];
  private readonly scores: number[] = [];
  private readonly classes: number[] = [];
  private readonly points: Array<number[] | undefined> = [];

  /** `points`: optional landmark coordinates x0,y0,x1,y1,… in model-input pixels. */
  add(x1: number, y1: number, x2: number, y2: number, score: number, classId: number, points?: number[]): void {
    this.boxes.push(x1, y1, x2, y2);
    this.scores.push(score);
    this.classes.push(classId);
    this.points.push(points);
  }

  /** Maps to image pixels with ctx.transform, clips to the image and applies NMS at ctx.iou. */
  finish(ctx: Pick<DecodeContext, 'transform' | 'imageWidth' | 'imageHeight' | 'iou'>, classAware: boolean): RawDetection[] {
    const { transform, imageWidth, imageHeight, iou } = ctx;
    if (this.scores.length === 0) return [];
    const boxes = Float32Array.from(this.boxes);
    const keep = pixelOps.nms(boxes, Float32Array.from(this.scores), iou, classAware ? Int32Array.from(this.classes) : undefined);
    const mapX = (v: number) => Math.min(imageWidth, Math.max(0, (v - transform.padX) / transform.scaleX));
    const mapY = (v: number) => Math.min(imageHeight, Math.max(0, (v - transform.padY) / transform.scaleY));
    const out: RawDetection[] = [];
    for (const i of keep) {
      const d = {
        x1: mapX(boxes[i * 4]),
        y1: mapY(boxes[i * 4 + 1]),
        x2: mapX(boxes[i * 4 + 2]),
        y2: mapY(boxes[i * 4 + 3]),
        score: this.scores[i],
        classId: this.classes[i],
      } as RawDetection;
      const points = this.points[i];
      if (points) d.landmarks = Array.from({ length: points.length / 2 }, (_, k): [number, number] => [mapX(points[2 * k]), mapY(points[2 * k + 1])]);
      if (d.x2 - d.x1 >= 1 && d.y2 - d.y1 >= 1) out.push(d);
    }
    return out;
  }
}
