import fs from 'node:fs';

/** What the plate model's precision choice needs to know about the CPU (plate-precision.ts). */
export interface CpuFeatures {
  /** VNNI int8 dot products (AVX-512 VNNI or AVX-VNNI): what makes onnxruntime's int8 convolutions win. */
  vnni: boolean;
  /** The flags that decided, for the start-up log and /v1/health ("avx512_vnni", "none", "unknown"). */
  evidence: string;
}

const VNNI_FLAGS = ['avx512_vnni', 'avx_vnni'] as const;

/** Reads the x86 flags line of /proc/cpuinfo text; anything else (arm64, no flags line) has no VNNI. */
export function cpuFeaturesFromCpuinfo(cpuinfo: string): CpuFeatures {
  const line = cpuinfo.split('\n').find((l) => /^flags\s*:/.test(l));
  if (!line) return { vnni: false, evidence: 'no x86 flags in /proc/cpuinfo' };
  const flags = new Set(line.slice(line.indexOf(':') + 1).trim().split(/\s+/));
  const found = VNNI_FLAGS.filter((f) => flags.has(f));
  return found.length > 0 ? { vnni: true, evidence: found.join(',') } : { vnni: false, evidence: flags.has('avx2') ? 'avx2, no vnni' : 'no avx2, no vnni' };
}

/** This machine's; a CPU whose flags cannot be read (not Linux) counts as one without VNNI. */
export function hostCpuFeatures(): CpuFeatures {
  try {
    return cpuFeaturesFromCpuinfo(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return { vnni: false, evidence: `unknown (${process.platform}/${process.arch}: no /proc/cpuinfo)` };
  }
}
