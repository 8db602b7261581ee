// Which implementation runs the per-pixel stages (PIXEL_OPS=auto|cuda|native|ts): CUDA for the
// blur when the addon has the kernels, a GPU answers and the kernel gives the CPU's bytes on a
// small image at start; otherwise the addon on the CPU; otherwise TypeScript. An explicit choice
// that cannot run is an error for the start-up check (src/addon/index.ts checkPixelOps), never a
// silent step down.
import { createNativeOps, type NativeAddon, type NativeLoad } from './native.js';
import type { BlurRegion, BlurSpec, RawImage } from './types.js';

export const PIXEL_OPS_CHOICES = ['auto', 'cuda', 'native', 'ts'] as const;
export type PixelOpsMode = (typeof PIXEL_OPS_CHOICES)[number];
/** What /v1/health reports: `cuda` is the addon with the blur on the GPU, the other stages on the CPU. */
export type PixelOpsImplementation = 'cuda' | 'native' | 'typescript';

export interface PixelOpsChoice<Ops> {
  ops: Ops;
  implementation: PixelOpsImplementation;
  /** Said once on stderr by the main thread (a slower path than asked for by default). */
  note?: string;
  /** The choice asked for cannot run here: start-up stops with this line. */
  error?: string;
}

/** PIXEL_OPS, or the older PIXVEIL_NATIVE=off (= ts) when PIXEL_OPS is unset; a value outside the list is an error. */
export function pixelOpsMode(env: NodeJS.ProcessEnv): { mode: PixelOpsMode; error?: string } {
  const raw = env.PIXEL_OPS?.trim();
  if (!raw) return { mode: env.PIXVEIL_NATIVE === 'off' ? 'ts' : 'auto' };
  if ((PIXEL_OPS_CHOICES as readonly string[]).includes(raw)) return { mode: raw as PixelOpsMode };
  return { mode: 'auto', error: `Expected one of ${PIXEL_OPS_CHOICES.join(', ')} for PIXEL_OPS but received ${JSON.stringify(raw)}` };
}

/** A 96×64 RGBA image with edges and noise, and regions that cover every blur path (box, ellipse, clipped, 1 px). */
function checkImage(): { image: RawImage; regions: BlurRegion[] } {
  const width = 96;
  const height = 64;
  const data = new Uint8Array(width * height * 4);
  let seed = 11;
  for (let i = 0; i < data.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    data[i] = (i % 4 === 0 ? (i >> 2) % width : 0) * 2 + (seed % 64);
  }
  const regions = [
    { x: 5.5, y: 4.2, width: 40, height: 33 },
    { x: 60, y: 20, width: 50, height: 60 },
    { x: -3, y: 50, width: 12, height: 20 },
    { x: 30, y: 40, width: 1, height: 1 },
  ];
  return { image: { data, width, height, channels: 4 }, regions };
}

const STYLES: Array<BlurSpec['style']> = ['gaussian', 'pixelate', 'solid'];
const SHAPES: Array<BlurSpec['shape']> = ['box', 'ellipse'];

/** Why the CUDA blur cannot be used here, or undefined when it ran on a GPU and matched the CPU byte for byte. */
export function cudaBlurProblem(addon: NativeAddon): string | undefined {
  const status = addon.cudaAvailable();
  if (!status.compiled) return 'the native addon was built without CUDA (no nvcc at build time, or PIXVEIL_CUDA=off)';
  if (!status.available) return `no CUDA device answers (${status.reason ?? 'none visible'})`;
  const cpu = createNativeOps(addon, false);
  const gpu = createNativeOps(addon, true);
  const { image, regions } = checkImage();
  for (const style of STYLES) {
    for (const shape of SHAPES) {
      const expected = { ...image, data: image.data.slice() };
      const actual = { ...image, data: image.data.slice() };
      cpu.blurRegions(expected, regions, { style, shape });
      let backend: string;
      try {
        backend = gpu.blurRegionsWith(actual, regions, { style, shape });
      } catch (err) {
        return `the CUDA blur failed its start-up check: ${(err as Error).message}`;
      }
      if (backend !== 'cuda') return `the CUDA blur ran on ${backend} in its start-up check`;
      const differing = actual.data.reduce((n, v, i) => n + (v === expected.data[i] ? 0 : 1), 0);
      if (differing > 0) return `the CUDA blur (${style}, ${shape}) differs from the CPU in ${differing} bytes of its start-up check image`;
    }
  }
  return undefined;
}

const BUILD_HINT = 'build it with `npm run build:native` (needs cmake and a C++17 compiler)';

/**
 * `fallback` is the TypeScript table and `native(addon, useCuda)` builds the addon's, both from
 * src/addon/index.ts, so a stage added there needs nothing here.
 */
export function choosePixelOps<F, N>(mode: PixelOpsMode, load: () => NativeLoad, fallback: F, native: (addon: NativeAddon, useCuda: boolean) => N): PixelOpsChoice<F | N> {
  if (mode === 'ts') return { ops: fallback, implementation: 'typescript' };
  const loaded = load();
  if (!loaded.ok) {
    const typescript = { ops: fallback, implementation: 'typescript' as const };
    if (mode === 'auto') return { ...typescript, note: `native pixel ops unavailable (${loaded.reason}); using the slower TypeScript fallback. Build them with \`npm run build:native\` (needs cmake and a C++17 compiler)` };
    return { ...typescript, error: `PIXEL_OPS=${mode} needs the native addon, but ${loaded.reason}: ${BUILD_HINT}${mode === 'cuda' ? ' on a machine with nvcc' : ''}` };
  }
  const onCpu = { ops: native(loaded.addon, false), implementation: 'native' as const };
  if (mode === 'native') return onCpu;
  const problem = cudaBlurProblem(loaded.addon);
  if (!problem) return { ops: native(loaded.addon, true), implementation: 'cuda' };
  if (mode === 'cuda') return { ...onCpu, error: `PIXEL_OPS=cuda but ${problem}; set PIXEL_OPS=auto or native to blur on the CPU` };
  // No GPU is the common case and goes unsaid; a GPU whose kernel was refused is worth a line.
  return loaded.addon.cudaAvailable().available ? { ...onCpu, note: `CUDA blur not used (${problem}); blurring on the CPU` } : onCpu;
}
