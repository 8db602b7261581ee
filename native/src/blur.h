// Region anonymization (gaussian, pixelate, solid; box or ellipse mask) on an interleaved
// 8-bit image, in place. Mirrors src/addon/fallback/blur.ts; see that file for the rules.
#pragma once

// nvcc compiles the kernels against the plain declarations only, without Node headers.
#ifndef __CUDACC__
#include <napi.h>
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>

#ifdef __CUDACC__
#define PIXVEIL_HD __host__ __device__
#else
#define PIXVEIL_HD
#endif

namespace pixveil {

enum class BlurStyle { Gaussian, Pixelate, Solid };
enum class BlurShape { Box, Ellipse };

struct Rect {
  int x0, y0, x1, y1;
};

struct BlurJob {
  uint8_t* data;
  int width, height, channels;
  const double* regions;  // x, y, width, height per region
  size_t regionCount;
  BlurStyle style;
  BlurShape shape;
};

// Intermediate gaussian values are 8.8 fixed point so three passes lose no visible precision.
constexpr int kFixedShift = 8;

// The rounding of JavaScript's Math.round, so both implementations pick the same sizes.
inline double JsRound(double v) { return std::floor(v + 0.5); }

inline bool ClipRegion(const double* r, int width, int height, Rect* out) {
  const double x0 = std::fmax(0.0, std::floor(r[0]));
  const double y0 = std::fmax(0.0, std::floor(r[1]));
  const double x1 = std::fmin(static_cast<double>(width), std::ceil(r[0] + r[2]));
  const double y1 = std::fmin(static_cast<double>(height), std::ceil(r[1] + r[3]));
  if (!(x1 - x0 >= 1 && y1 - y0 >= 1)) return false;
  *out = {static_cast<int>(x0), static_cast<int>(y0), static_cast<int>(x1), static_cast<int>(y1)};
  return true;
}

inline int BlurRadiusFor(int w, int h) {
  const int r = static_cast<int>(JsRound((w < h ? w : h) / 8.0));
  const int radius = r > 2 ? r : 2;
  const int longest = w > h ? w : h;
  return radius < longest ? radius : longest;
}

PIXVEIL_HD inline int ClampIndex(int i, int count) { return i < 0 ? 0 : (i >= count ? count - 1 : i); }

// Regions blurred with a radius of at least 2 × kLowResRadius are blurred at 1/f of their size, f =
// radius / kLowResRadius, and scaled back up bilinearly: the box passes then cost f² less, and a
// blur that wide has nothing left at the finer scale to lose. Same rule in src/addon/fallback/blur.ts.
constexpr int kLowResRadius = 8;
inline int DecimationFor(int radius) { return radius >= 2 * kLowResRadius ? radius / kLowResRadius : 1; }

// round(sum × 256 / count): a block's mean in 8.8 fixed point, exactly, in integers.
PIXVEIL_HD inline uint16_t BlockMeanFixed(uint64_t sum, uint64_t count) { return static_cast<uint16_t>((sum * 512 + count) / (2 * count)); }

// The two low-resolution samples around full-resolution pixel x (pixel centres aligned) and the
// weight of the second; clamped at the edges.
PIXVEIL_HD inline void BilinearTaps(int x, int f, int lowCount, int* i0, int* i1, double* t) {
  const double u = (x + 0.5) / f - 0.5;
  const double base = floor(u);
  *t = u - base;
  *i0 = ClampIndex(static_cast<int>(base), lowCount);
  *i1 = ClampIndex(static_cast<int>(base) + 1, lowCount);
}

// Bilinear mix of 8.8 fixed-point samples, rounded to 8.8: along x first (LerpX), then along y.
// No fused multiply-add on either side (CMake flags), so the CPU and CUDA agree bit for bit; the
// values are never negative, so truncating v + 0.5 rounds.
PIXVEIL_HD inline double LerpX(uint16_t a0, uint16_t a1, double tx) { return a0 * (1 - tx) + a1 * tx; }
PIXVEIL_HD inline uint16_t LerpYFixed(double top, double bottom, double ty) { return static_cast<uint16_t>(top * (1 - ty) + bottom * ty + 0.5); }

inline int PixelSizeFor(int w, int h) {
  const int s = static_cast<int>(std::ceil((w > h ? w : h) / 8.0));
  return s > 4 ? s : 4;
}

// ((v + 0.5 - centre) / radius)^2 along one axis of the ellipse inscribed in [lo, hi).
PIXVEIL_HD inline double EllipseTerm(int v, int lo, int hi) {
  const double centre = (lo + hi) / 2.0;
  const double radius = (hi - lo) / 2.0;
  const double d = (v + 0.5 - centre) / radius;
  return d * d;
}

// Image-space pixel (x, y) inside the ellipse inscribed in rect; same arithmetic as the fallback.
PIXVEIL_HD inline bool InsideEllipse(const Rect& rect, int x, int y) {
  return EllipseTerm(x, rect.x0, rect.x1) + EllipseTerm(y, rect.y0, rect.y1) <= 1;
}


void BlurRegionsCpu(const BlurJob& job);

#ifndef __CUDACC__
// blurRegions({ data, width, height, channels, regions: Float64Array, style, shape, useCuda })
// → 'cpu' | 'cuda', the backend that ran.
Napi::Value BlurRegions(const Napi::CallbackInfo& info);
#endif

}  // namespace pixveil
