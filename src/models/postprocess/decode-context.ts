import type { InputTransform } from '../../addon/types.js';

/**
 * What every output decoder needs besides the model's output tensors: the input's size,
 * how the image (or a region of it) was placed into that input, and how to filter.
 * One object instead of 9–11 positional parameters, so a new output kind cannot swap two numbers.
 */
export interface DecodeContext {
  /** Model input size in pixels (the tensor's width and height for this run). */
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** Full image size, for mapping boxes back and clipping them. */
  readonly imageWidth: number;
  readonly imageHeight: number;
  /** Input pixel = image pixel × scale + pad. */
  readonly transform: InputTransform;
  /** Lowest score kept. */
  readonly threshold: number;
  /** Overlap above which NMS drops the lower-scored box. */
  readonly iou: number;
}
