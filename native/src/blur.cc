#include "blur.h"

#include <algorithm>
#include <string>
#include <vector>

#include "cuda/pixel_ops.h"

namespace pixveil {
namespace {

// Exact n / d by multiply and shift: integer division dominated the box passes. Exact for every
// n < 2^30, which holds because regions are at most 65535 px (window <= 16385, values <= 65280).
struct Divider {
  uint64_t multiplier;
  int shift;
  explicit Divider(uint32_t d) {
    int log2d = 0;
    while ((1ull << log2d) < d) log2d++;
    shift = 30 + log2d;
    multiplier = ((1ull << shift) + d - 1) / d;
  }
  uint32_t operator()(uint32_t n) const { return static_cast<uint32_t>((n * multiplier) >> shift); }
};

// One box pass along each row of a w×h×3 fixed-point buffer, edges clamped.
void HorizontalPass(const uint16_t* src, uint16_t* dst, int w, int h, int radius) {
  const uint32_t window = 2 * radius + 1;
  const uint32_t half = window / 2;
  const Divider divide(window);
  for (int y = 0; y < h; y++) {
    const uint16_t* row = src + static_cast<size_t>(y) * w * 3;
    uint16_t* out = dst + static_cast<size_t>(y) * w * 3;
    uint32_t s0 = 0, s1 = 0, s2 = 0;
    for (int i = -radius; i <= radius; i++) {
      const uint16_t* p = row + ClampIndex(i, w) * 3;
      s0 += p[0];
      s1 += p[1];
      s2 += p[2];
    }
    for (int x = 0; x < w; x++) {
      out[x * 3] = static_cast<uint16_t>(divide(s0 + half));
      out[x * 3 + 1] = static_cast<uint16_t>(divide(s1 + half));
      out[x * 3 + 2] = static_cast<uint16_t>(divide(s2 + half));
      const uint16_t* add = row + ClampIndex(x + radius + 1, w) * 3;
      const uint16_t* sub = row + ClampIndex(x - radius, w) * 3;
      s0 = s0 + add[0] - sub[0];
      s1 = s1 + add[1] - sub[1];
      s2 = s2 + add[2] - sub[2];
    }
  }
}

// One box pass down each column, walking rows so every access is sequential.
void VerticalPass(const uint16_t* src, uint16_t* dst, uint32_t* sums, int w, int h, int radius) {
  const size_t stride = static_cast<size_t>(w) * 3;
  const uint32_t window = 2 * radius + 1;
  const uint32_t half = window / 2;
  const Divider divide(window);
  std::fill(sums, sums + stride, 0u);
  for (int i = -radius; i <= radius; i++) {
    const uint16_t* row = src + ClampIndex(i, h) * stride;
    for (size_t k = 0; k < stride; k++) sums[k] += row[k];
  }
  for (int y = 0; y < h; y++) {
    uint16_t* out = dst + y * stride;
    const uint16_t* add = src + ClampIndex(y + radius + 1, h) * stride;
    const uint16_t* sub = src + ClampIndex(y - radius, h) * stride;
    for (size_t k = 0; k < stride; k++) {
      out[k] = static_cast<uint16_t>(divide(sums[k] + half));
      sums[k] = sums[k] + add[k] - sub[k];
    }
  }
}

// Scratch buffers reused across regions: sized once for the largest region.
struct Scratch {
  std::vector<uint16_t> a, b;
  std::vector<uint32_t> sums;
  std::vector<uint8_t> result;
  std::vector<double> dx2, dy2;
  std::vector<double> rows;  // low rows interpolated along x (UpsampleInto)
  std::vector<int> tapX0, tapX1;
  std::vector<double> tx;
};

// One low-resolution pixel per f × f block of the region: its mean, in 8.8 fixed point.
void LoadBlockMeans(const BlurJob& job, const Rect& rect, int f, int lw, int lh, uint16_t* out) {
  const int w = rect.x1 - rect.x0;
  const int h = rect.y1 - rect.y0;
  for (int by = 0; by < lh; by++) {
    const int y1 = std::min(h, (by + 1) * f);
    for (int bx = 0; bx < lw; bx++) {
      const int x1 = std::min(w, (bx + 1) * f);
      uint64_t sum[3] = {0, 0, 0};
      for (int y = by * f; y < y1; y++) {
        const uint8_t* in = job.data + (static_cast<size_t>(rect.y0 + y) * job.width + rect.x0) * job.channels;
        for (int x = bx * f; x < x1; x++) {
          for (int c = 0; c < 3; c++) sum[c] += in[x * job.channels + c];
        }
      }
      const uint64_t count = static_cast<uint64_t>(y1 - by * f) * (x1 - bx * f);
      for (int c = 0; c < 3; c++) out[(static_cast<size_t>(by) * lw + bx) * 3 + c] = BlockMeanFixed(sum[c], count);
    }
  }
}

// The blurred low-resolution region scaled back up to w × h, bilinearly, as 8-bit RGB: each low row
// is interpolated along x once (it serves about f output rows), then each output row mixes two.
void UpsampleInto(const uint16_t* low, int lw, int lh, int f, int w, int h, Scratch& s) {
  const size_t stride = static_cast<size_t>(w) * 3;
  s.rows.resize(static_cast<size_t>(lh) * stride);
  s.tapX0.resize(w);
  s.tapX1.resize(w);
  s.tx.resize(w);
  for (int x = 0; x < w; x++) BilinearTaps(x, f, lw, &s.tapX0[x], &s.tapX1[x], &s.tx[x]);
  for (int ly = 0; ly < lh; ly++) {
    const uint16_t* row = low + static_cast<size_t>(ly) * lw * 3;
    double* out = s.rows.data() + ly * stride;
    for (int x = 0; x < w; x++) {
      const int i0 = s.tapX0[x] * 3, i1 = s.tapX1[x] * 3;
      for (int c = 0; c < 3; c++) out[x * 3 + c] = LerpX(row[i0 + c], row[i1 + c], s.tx[x]);
    }
  }
  constexpr uint32_t kRound = 1u << (kFixedShift - 1);
  for (int y = 0; y < h; y++) {
    int y0, y1;
    double ty;
    BilinearTaps(y, f, lh, &y0, &y1, &ty);
    const double* top = s.rows.data() + y0 * stride;
    const double* bottom = s.rows.data() + y1 * stride;
    uint8_t* out = s.result.data() + y * stride;
    for (size_t k = 0; k < stride; k++) out[k] = static_cast<uint8_t>((LerpYFixed(top[k], bottom[k], ty) + kRound) >> kFixedShift);
  }
}

void GaussianInto(const BlurJob& job, const Rect& rect, Scratch& s) {
  const int w = rect.x1 - rect.x0;
  const int h = rect.y1 - rect.y0;
  const int radius = BlurRadiusFor(w, h);
  const int f = DecimationFor(radius);
  const int lw = (w + f - 1) / f;
  const int lh = (h + f - 1) / f;
  const int lowRadius = f > 1 ? static_cast<int>(JsRound(static_cast<double>(radius) / f)) : radius;
  const size_t n = static_cast<size_t>(lw) * lh * 3;
  s.a.resize(n);
  s.b.resize(n);
  s.sums.resize(static_cast<size_t>(lw) * 3);
  if (f > 1) {
    LoadBlockMeans(job, rect, f, lw, lh, s.a.data());
  } else {
    for (int y = 0; y < h; y++) {
      const uint8_t* in = job.data + (static_cast<size_t>(rect.y0 + y) * job.width + rect.x0) * job.channels;
      uint16_t* out = s.a.data() + static_cast<size_t>(y) * w * 3;
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < 3; c++) out[x * 3 + c] = static_cast<uint16_t>(in[x * job.channels + c] << kFixedShift);
      }
    }
  }
  // Three box passes per axis approximate a gaussian; cost does not grow with the radius.
  for (int pass = 0; pass < 3; pass++) {
    HorizontalPass(s.a.data(), s.b.data(), lw, lh, lowRadius);
    VerticalPass(s.b.data(), s.a.data(), s.sums.data(), lw, lh, lowRadius);
  }
  if (f > 1) {
    UpsampleInto(s.a.data(), lw, lh, f, w, h, s);
    return;
  }
  constexpr uint32_t kRound = 1u << (kFixedShift - 1);
  for (size_t i = 0; i < n; i++) s.result[i] = static_cast<uint8_t>((s.a[i] + kRound) >> kFixedShift);
}

void PixelateInto(const BlurJob& job, const Rect& rect, Scratch& s) {
  const int w = rect.x1 - rect.x0;
  const int h = rect.y1 - rect.y0;
  const int block = PixelSizeFor(w, h);
  for (int by = 0; by < h; by += block) {
    const int ey = std::min(h, by + block);
    for (int bx = 0; bx < w; bx += block) {
      const int ex = std::min(w, bx + block);
      const uint64_t count = static_cast<uint64_t>(ey - by) * (ex - bx);
      uint64_t sum[3] = {0, 0, 0};
      for (int y = by; y < ey; y++) {
        const uint8_t* in = job.data + (static_cast<size_t>(rect.y0 + y) * job.width + rect.x0 + bx) * job.channels;
        for (int x = 0; x < ex - bx; x++) {
          for (int c = 0; c < 3; c++) sum[c] += in[x * job.channels + c];
        }
      }
      // floor(sum / count + 0.5) in integers: Math.round of the mean, exactly.
      uint8_t mean[3];
      for (int c = 0; c < 3; c++) mean[c] = static_cast<uint8_t>((2 * sum[c] + count) / (2 * count));
      for (int y = by; y < ey; y++) {
        uint8_t* out = s.result.data() + (static_cast<size_t>(y) * w + bx) * 3;
        for (int x = 0; x < ex - bx; x++) {
          for (int c = 0; c < 3; c++) out[x * 3 + c] = mean[c];
        }
      }
    }
  }
}

void WriteBack(const BlurJob& job, const Rect& rect, const uint8_t* result, Scratch& s) {
  const int w = rect.x1 - rect.x0;
  const int h = rect.y1 - rect.y0;
  const bool ellipse = job.shape == BlurShape::Ellipse;
  if (ellipse) {
    // The squared terms of InsideEllipse per column and row: O(w + h) divisions, same bits.
    s.dx2.resize(w);
    s.dy2.resize(h);
    for (int x = 0; x < w; x++) s.dx2[x] = EllipseTerm(rect.x0 + x, rect.x0, rect.x1);
    for (int y = 0; y < h; y++) s.dy2[y] = EllipseTerm(rect.y0 + y, rect.y0, rect.y1);
  }
  for (int y = 0; y < h; y++) {
    uint8_t* out = job.data + (static_cast<size_t>(rect.y0 + y) * job.width + rect.x0) * job.channels;
    const uint8_t* in = result + static_cast<size_t>(y) * w * 3;
    for (int x = 0; x < w; x++) {
      if (ellipse && !(s.dx2[x] + s.dy2[y] <= 1)) continue;
      // Alpha, where present, stays as it was.
      for (int c = 0; c < 3; c++) out[x * job.channels + c] = in[x * 3 + c];
    }
  }
}

BlurStyle ParseStyle(const std::string& s) {
  if (s == "pixelate") return BlurStyle::Pixelate;
  if (s == "solid") return BlurStyle::Solid;
  return BlurStyle::Gaussian;
}

}  // namespace

void BlurRegionsCpu(const BlurJob& job) {
  Scratch scratch;
  for (size_t i = 0; i < job.regionCount; i++) {
    Rect rect;
    if (!ClipRegion(job.regions + i * 4, job.width, job.height, &rect)) continue;
    const size_t n = static_cast<size_t>(rect.x1 - rect.x0) * (rect.y1 - rect.y0) * 3;
    scratch.result.resize(n);
    if (job.style == BlurStyle::Gaussian) {
      GaussianInto(job, rect, scratch);
    } else if (job.style == BlurStyle::Pixelate) {
      PixelateInto(job, rect, scratch);
    } else {
      std::fill(scratch.result.begin(), scratch.result.end(), 0);
    }
    WriteBack(job, rect, scratch.result.data(), scratch);
  }
}

Napi::Value BlurRegions(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const Napi::Object o = info[0].As<Napi::Object>();
  Napi::Uint8Array data = o.Get("data").As<Napi::Uint8Array>();
  const Napi::Float64Array regions = o.Get("regions").As<Napi::Float64Array>();
  BlurJob job{};
  job.data = data.Data();
  job.width = o.Get("width").As<Napi::Number>().Int32Value();
  job.height = o.Get("height").As<Napi::Number>().Int32Value();
  job.channels = o.Get("channels").As<Napi::Number>().Int32Value();
  job.regions = regions.Data();
  job.regionCount = regions.ElementLength() / 4;
  job.style = ParseStyle(o.Get("style").As<Napi::String>().Utf8Value());
  job.shape = o.Get("shape").As<Napi::String>().Utf8Value() == "ellipse" ? BlurShape::Ellipse : BlurShape::Box;
  if (o.Get("useCuda").ToBoolean().Value() && cuda::DeviceCount() > 0) {
    std::string error;
    if (!cuda::BlurRegions(job, &error)) throw Napi::Error::New(env, "CUDA blur failed: " + error);
    return Napi::String::New(env, "cuda");
  }
  BlurRegionsCpu(job);
  return Napi::String::New(env, "cpu");
}

}  // namespace pixveil
