#include "preprocess.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace pixveil {
namespace {

// Where content pixel i samples the level along one axis: the two neighbours (clamped to the
// level) and the weight of the second. Same arithmetic, in the same order, as the fallback.
struct Tap {
  int first, second, weight;
};

std::vector<Tap> TapsFor(int count, double origin, double scale, double levelScale, int limit) {
  std::vector<Tap> taps(count);
  for (int i = 0; i < count; i++) {
    const double position = (origin + (i + 0.5) / scale) / levelScale - 0.5;
    const double base = std::floor(position);
    const int weight = static_cast<int>(std::floor((position - base) * kWeightOne + 0.5));
    const int index = static_cast<int>(base);
    taps[i] = {std::clamp(index, 0, limit - 1), std::clamp(index + 1, 0, limit - 1), weight};
  }
  return taps;
}

// Pads only what the content does not cover.
void FillPadding(const RegionTensorJob& job) {
  const int w = job.tensorWidth, h = job.tensorHeight;
  const int x1 = job.offsetX + job.contentWidth, y1 = job.offsetY + job.contentHeight;
  const auto outside = [&](int y, int xFrom, int xTo) {
    if (xFrom >= xTo) return;
    if (job.nhwc) {
      float* p = job.out + (static_cast<size_t>(y) * w + xFrom) * 3;
      for (int x = xFrom; x < xTo; x++, p += 3) std::copy(job.pad, job.pad + 3, p);
      return;
    }
    const size_t plane = static_cast<size_t>(w) * h;
    for (int c = 0; c < 3; c++) {
      float* row = job.out + c * plane + static_cast<size_t>(y) * w;
      std::fill(row + xFrom, row + xTo, job.pad[c]);
    }
  };
  for (int y = 0; y < h; y++) {
    if (y < job.offsetY || y >= y1) {
      outside(y, 0, w);
    } else {
      outside(y, 0, job.offsetX);
      outside(y, x1, w);
    }
  }
}

inline int Lerp(int a, int b, int weight) { return a * (kWeightOne - weight) + b * weight; }

}  // namespace

void RegionToTensorCpu(const RegionTensorJob& job) {
  FillPadding(job);
  std::vector<Tap> columns = TapsFor(job.contentWidth, job.regionX, job.scaleX, job.levelScale, job.width);
  const std::vector<Tap> rows = TapsFor(job.contentHeight, job.regionY, job.scaleY, job.levelScale, job.height);
  // Byte offsets in the row, so the inner loop does no multiplications for addressing.
  for (Tap& t : columns) {
    t.first *= job.channels;
    t.second *= job.channels;
  }
  const size_t stride = static_cast<size_t>(job.width) * job.channels;
  const size_t plane = static_cast<size_t>(job.tensorWidth) * job.tensorHeight;
  const int s0 = job.source[0], s1 = job.source[1], s2 = job.source[2];
  for (int y = 0; y < job.contentHeight; y++) {
    const uint8_t* top = job.data + rows[y].first * stride;
    const uint8_t* bottom = job.data + rows[y].second * stride;
    const int wy = rows[y].weight;
    const size_t pixel = static_cast<size_t>(y + job.offsetY) * job.tensorWidth + job.offsetX;
    float* o0 = job.nhwc ? job.out + pixel * 3 : job.out + pixel;
    float* o1 = job.nhwc ? o0 + 1 : o0 + plane;
    float* o2 = job.nhwc ? o0 + 2 : o0 + 2 * plane;
    const size_t step = job.nhwc ? 3 : 1;
    for (int x = 0; x < job.contentWidth; x++) {
      const Tap& t = columns[x];
      const uint8_t* a = top + t.first;
      const uint8_t* b = top + t.second;
      const uint8_t* c = bottom + t.first;
      const uint8_t* d = bottom + t.second;
      const auto sample = [&](int s) { return Lerp(Lerp(a[s], b[s], t.weight), Lerp(c[s], d[s], t.weight), wy); };
      const size_t o = x * step;
      o0[o] = static_cast<float>(sample(s0) * job.scale[0] - job.bias[0]);
      o1[o] = static_cast<float>(sample(s1) * job.scale[1] - job.bias[1]);
      o2[o] = static_cast<float>(sample(s2) * job.scale[2] - job.bias[2]);
    }
  }
}

Napi::Value RegionToTensor(const Napi::CallbackInfo& info) {
  const Napi::Object o = info[0].As<Napi::Object>();
  const auto number = [&](const char* key) { return o.Get(key).As<Napi::Number>(); };
  RegionTensorJob job;
  job.data = o.Get("data").As<Napi::Uint8Array>().Data();
  job.width = number("width").Int32Value();
  job.height = number("height").Int32Value();
  job.channels = number("channels").Int32Value();
  job.levelScale = number("levelScale").DoubleValue();
  job.regionX = number("regionX").DoubleValue();
  job.regionY = number("regionY").DoubleValue();
  job.scaleX = number("scaleX").DoubleValue();
  job.scaleY = number("scaleY").DoubleValue();
  job.contentWidth = number("contentWidth").Int32Value();
  job.contentHeight = number("contentHeight").Int32Value();
  job.offsetX = number("offsetX").Int32Value();
  job.offsetY = number("offsetY").Int32Value();
  job.tensorWidth = number("tensorWidth").Int32Value();
  job.tensorHeight = number("tensorHeight").Int32Value();
  job.nhwc = o.Get("layout").As<Napi::String>().Utf8Value() == "nhwc";
  const int32_t* source = o.Get("source").As<Napi::Int32Array>().Data();
  const double* scale = o.Get("scale").As<Napi::Float64Array>().Data();
  const double* bias = o.Get("bias").As<Napi::Float64Array>().Data();
  const double* pad = o.Get("pad").As<Napi::Float64Array>().Data();
  for (int c = 0; c < 3; c++) {
    job.source[c] = source[c];
    job.scale[c] = scale[c];
    job.bias[c] = bias[c];
    job.pad[c] = static_cast<float>(pad[c]);
  }
  job.out = o.Get("out").As<Napi::Float32Array>().Data() + static_cast<size_t>(number("outOffset").Int64Value());
  RegionToTensorCpu(job);
  return info.Env().Undefined();
}

}  // namespace pixveil
