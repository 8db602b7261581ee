// A pool thread's side of a video frame: detect on it or blur it, in place, and hand the pixels back.
import { Piscina } from 'piscina';
import type { DetectionSettings } from '../config/detection.js';
import { isPixveilError } from '../errors.js';
import { blurFrame, detectOnFrame } from '../pipeline/frame.js';
import { modelsInUse, type Detectors } from '../pipeline/detect.js';
import { stageTimer } from '../pipeline/stage-timer.js';
import type { FrameTask, FrameTaskResult, ImageTaskFailure } from './task.js';

export async function runFrameTask(task: FrameTask, detectors: Detectors, settings: DetectionSettings): Promise<FrameTaskResult | ImageTaskFailure> {
  const { timings, timed } = stageTimer();
  try {
    const { pixels, width, height } = task.frame;
    if (pixels.byteLength !== width * height * 3) throw new Error(`A ${width}x${height} RGB frame needs ${width * height * 3} bytes, got ${pixels.byteLength}`);
    const frame = { data: new Uint8Array(pixels), width, height, channels: 3 as const };
    const detections = task.boxes ? [] : await detectOnFrame(frame, task.options, detectors, settings, timed);
    if (task.boxes) {
      const boxes = task.boxes;
      await timed('blur', () => blurFrame(frame, boxes, task.options, settings));
    }
    const reply: FrameTaskResult = { ok: true, pixels, detections, timings, models: modelsInUse(detectors, task.options) };
    return Piscina.move({ [Piscina.transferableSymbol]: [pixels], [Piscina.valueSymbol]: reply } as never) as unknown as FrameTaskResult;
  } catch (err) {
    if (isPixveilError(err)) return { ok: false, code: err.code, message: err.message, retryable: err.retryable };
    return { ok: false, code: 'PROCESSING_ERROR', message: (err as Error).message, retryable: true };
  }
}
