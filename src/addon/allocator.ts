// ALLOCATOR_TUNING: glibc malloc thresholds for the whole process (native/src/allocator.cc says why),
// set once at start by each command that runs the pipeline. bench/allocator.ts measures them.
import { loadNativeAddon, type NativeLoad } from './native.js';

/** A 4K RGB frame (25 MB) and every smaller per-image buffer stay in the heap; an 8K frame is still mapped and returned at once. */
export const ALLOCATOR_THRESHOLDS = Object.freeze({ mmapThreshold: 32 * 1024 * 1024, trimThreshold: 256 * 1024 * 1024 });

export interface AllocatorTuning {
  applied: boolean;
  /** For the start-up log: what was set, or why nothing was. */
  detail: string;
}

/** glibc reads these at start; a user who set them keeps what they chose. */
function environmentSetsMalloc(env: NodeJS.ProcessEnv): string | undefined {
  if (env.MALLOC_MMAP_THRESHOLD_ !== undefined || env.MALLOC_TRIM_THRESHOLD_ !== undefined) return 'MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_';
  if (env.GLIBC_TUNABLES?.includes('glibc.malloc.')) return 'GLIBC_TUNABLES';
  return undefined;
}

export function tuneAllocator(enabled: boolean, env: NodeJS.ProcessEnv = process.env, load: () => NativeLoad = loadNativeAddon): AllocatorTuning {
  if (!enabled) return { applied: false, detail: 'ALLOCATOR_TUNING=false: glibc defaults' };
  const fromEnv = environmentSetsMalloc(env);
  if (fromEnv) return { applied: false, detail: `${fromEnv} in the environment decides` };
  const native = load();
  if (!native.ok) return { applied: false, detail: `glibc defaults: ${native.reason}` };
  const { applied, reason } = native.addon.tuneAllocator(ALLOCATOR_THRESHOLDS);
  if (!applied) return { applied: false, detail: `glibc defaults: ${reason}` };
  return { applied: true, detail: `mmap threshold ${ALLOCATOR_THRESHOLDS.mmapThreshold / 2 ** 20} MiB, trim threshold ${ALLOCATOR_THRESHOLDS.trimThreshold / 2 ** 20} MiB` };
}
