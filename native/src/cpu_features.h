// Which x86 vector extensions this CPU has, each asked once. The addon is compiled for the baseline
// and picks its AVX2 and AVX-512 paths at run time, so one build runs on every x86-64 machine.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PIXVEIL_X86 1
#else
#define PIXVEIL_X86 0
#endif

namespace pixveil {

#if PIXVEIL_X86
inline bool CpuHasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

inline bool CpuHasAvx512F() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}

inline bool CpuHasAvx512Bw() {
  static const bool has = CpuHasAvx512F() && __builtin_cpu_supports("avx512bw");
  return has;
}

inline bool CpuHasAvx512Vbmi() {
  static const bool has = CpuHasAvx512Bw() && __builtin_cpu_supports("avx512vbmi");
  return has;
}
#else
// Elsewhere only the portable paths exist.
inline bool CpuHasAvx2() { return false; }
inline bool CpuHasAvx512F() { return false; }
inline bool CpuHasAvx512Bw() { return false; }
inline bool CpuHasAvx512Vbmi() { return false; }
#endif

}  // namespace pixveil
