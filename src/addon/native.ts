// Loads build/Release/pixveil_native.node and wraps its exports in the same signatures as the
// TypeScript fallbacks. Inputs are validated by the caller (src/addon/validate.ts); here they are
// only flattened into the one options object each export reads.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { errors } from '../errors.js';
import { packageRoot } from '../paths.js';
import type { RegionTensorPlan } from './region-plan.js';
import type { BlurRegion, BlurSpec, JpegBlocksOutcome, JpegBlocksRequest, PyramidLevel, RawImage, TensorSpec } from './types.js';

/** Must equal kAbiVersion in native/src/addon.cc; a stale build is refused rather than misread. */
export const NATIVE_ABI_VERSION = 4;
export const nativeAddonPath = path.join(packageRoot, 'build', 'Release', 'pixveil_native.node');

export type NativeBackend = 'cpu' | 'cuda';

export interface CudaStatus {
  /** The addon was built with the CUDA kernels (nvcc was found, PIXVEIL_CUDA not off). */
  compiled: boolean;
  deviceCount: number;
  /** A device is visible now; calls with useCuda run on it, otherwise on the CPU. */
  available: boolean;
  reason: string | null;
}

export interface NativeAddon {
  abiVersion: number;
  blurRegions(options: {
    data: Uint8Array;
    width: number;
    height: number;
    channels: number;
    regions: Float64Array;
    style: BlurSpec['style'];
    shape: BlurSpec['shape'];
    useCuda: boolean;
  }): NativeBackend;
  halveImage(options: { data: Uint8Array; width: number; height: number; channels: number; out: Uint8Array }): void;
  regionToTensor(
    options: Omit<RegionTensorPlan, 'level' | 'transform'> & {
      data: Uint8Array;
      width: number;
      height: number;
      channels: number;
      levelScale: number;
      out: Float32Array;
      outOffset: number;
    },
  ): void;
  nms(options: { boxes: Float32Array; scores: Float32Array; iouThreshold: number; classes: Int32Array | undefined }): Int32Array;
  cudaAvailable(): CudaStatus;
  /** glibc malloc thresholds for the whole process (allocator.cc); applied false elsewhere. */
  tuneAllocator(options: { mmapThreshold: number; trimThreshold: number }): { applied: boolean; reason: string };
  keepJpegBlocks(options: {
    jpeg: Uint8Array;
    pixels: Uint8Array;
    width: number;
    height: number;
    channels: number;
    regions: Float64Array;
    markers: Array<{ code: number; payload: Uint8Array }>;
  }): Promise<JpegBlocksOutcome>;
  jpegBlocksSupport(): { compiled: boolean; library: string | null };
}

export type NativeLoad = { ok: true; addon: NativeAddon } | { ok: false; reason: string };

export function loadNativeAddon(file = nativeAddonPath): NativeLoad {
  const shown = path.relative(packageRoot, file) || file;
  if (!fs.existsSync(file)) return { ok: false, reason: `${shown} is not built` };
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (err) {
    return { ok: false, reason: `${shown} failed to load: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}` };
  }
  if (addon.abiVersion !== NATIVE_ABI_VERSION) {
    return { ok: false, reason: `${shown} is stale (ABI ${addon.abiVersion}, this code needs ${NATIVE_ABI_VERSION})` };
  }
  return { ok: true, addon };
}

/** sharp's habit: the JS stack is captured before crossing, and the native message attached to it. */
function callNative<T>(op: string, fn: () => T): T {
  const stack = new Error();
  try {
    return fn();
  } catch (err) {
    const wrapped = errors.internal(`native ${op} failed: ${err instanceof Error ? err.message : String(err)}`);
    wrapped.stack = `${wrapped.name}: ${wrapped.message}\n${stack.stack?.split('\n').slice(1).join('\n') ?? ''}`;
    wrapped.cause = err;
    throw wrapped;
  }
}

/** callNative for a promise: the stack is still the caller's, captured before the work was queued. */
async function callNativeAsync<T>(op: string, fn: () => Promise<T>): Promise<T> {
  const stack = new Error();
  try {
    return await fn();
  } catch (err) {
    const wrapped = errors.internal(`native ${op} failed: ${err instanceof Error ? err.message : String(err)}`);
    wrapped.stack = `${wrapped.name}: ${wrapped.message}\n${stack.stack?.split('\n').slice(1).join('\n') ?? ''}`;
    wrapped.cause = err;
    throw wrapped;
  }
}

function flattenRegions(regions: BlurRegion[]): Float64Array {
  const flat = new Float64Array(regions.length * 4);
  regions.forEach((r, i) => flat.set([r.x, r.y, r.width, r.height], i * 4));
  return flat;
}

/**
 * The addon's stages with the fallbacks' signatures. With useCuda the blur runs on a GPU when one
 * is visible at call time, and on the CPU otherwise; blurRegionsWith reports which one ran. The
 * other stages have no CUDA version (docs/deployment.md, "GPU nodes", says why).
 */
export function createNativeOps(addon: NativeAddon, useCuda = false) {
  const blurRegionsWith = (image: RawImage, regions: BlurRegion[], spec: BlurSpec): NativeBackend =>
    callNative('blurRegions', () =>
      addon.blurRegions({
        data: image.data,
        width: image.width,
        height: image.height,
        channels: image.channels,
        regions: flattenRegions(regions),
        style: spec.style,
        shape: spec.shape,
        useCuda,
      }),
    );
  return {
    blurRegionsWith,
    blurRegions(image: RawImage, regions: BlurRegion[], spec: BlurSpec): void {
      blurRegionsWith(image, regions, spec);
    },
    halveImage(level: PyramidLevel): PyramidLevel {
      const width = Math.floor(level.width / 2);
      const height = Math.floor(level.height / 2);
      const out = new Uint8Array(width * height * 3);
      callNative('halveImage', () => addon.halveImage({ data: level.data, width: level.width, height: level.height, channels: level.channels, out }));
      return { data: out, width, height, channels: 3, scale: level.scale * 2 };
    },
    regionToTensor(level: PyramidLevel, plan: RegionTensorPlan, out: Float32Array, offset: number): void {
      // The plan's fields go across as they are; the transform and level stay on this side.
      const { level: _level, transform: _transform, ...job } = plan;
      callNative('regionToTensor', () =>
        addon.regionToTensor({
          ...job,
          data: level.data,
          width: level.width,
          height: level.height,
          channels: level.channels,
          levelScale: level.scale,
          out,
          outOffset: offset,
        }),
      );
    },
    nms(boxes: Float32Array, scores: Float32Array, iouThreshold: number, classes?: Int32Array): Int32Array {
      return callNative('nms', () => addon.nms({ boxes, scores, iouThreshold, classes }));
    },
    cudaAvailable: (): CudaStatus => addon.cudaAvailable(),
    jpegBlocksSupport: () => addon.jpegBlocksSupport(),
    keepJpegBlocks: (request: JpegBlocksRequest): Promise<JpegBlocksOutcome> =>
      callNativeAsync('keepJpegBlocks', () =>
        addon.keepJpegBlocks({
          jpeg: request.jpeg,
          pixels: request.image.data,
          width: request.image.width,
          height: request.image.height,
          channels: request.image.channels,
          regions: flattenRegions(request.regions),
          markers: request.markers ?? [],
        }),
      ),
  };
}

export type NativeOps = ReturnType<typeof createNativeOps>;
