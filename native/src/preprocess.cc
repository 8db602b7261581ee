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

// One level row blended horizontally at every content column: three planes (source channel
// order) of 16-bit values, value × 2^8. Kept for the next output row when it reads the same row.
void BlendRow(const uint8_t* row, const std::vector<Tap>& columns, uint16_t* planes, int count) {
  uint16_t* p0 = planes;
  uint16_t* p1 = planes + count;
  uint16_t* p2 = planes + 2 * count;
  for (int x = 0; x < count; x++) {
    const uint8_t* a = row + columns[x].first;
    const uint8_t* b = row + columns[x].second;
    const int wb = columns[x].weight;
    const int wa = kWeightOne - wb;
    p0[x] = static_cast<uint16_t>(a[0] * wa + b[0] * wb);
    p1[x] = static_cast<uint16_t>(a[1] * wa + b[1] * wb);
    p2[x] = static_cast<uint16_t>(a[2] * wa + b[2] * wb);
  }
}

}  // namespace

void RegionToTensorCpu(const RegionTensorJob& job) {
  FillPadding(job);
  const int count = job.contentWidth;
  std::vector<Tap> columns = TapsFor(count, job.regionX, job.scaleX, job.levelScale, job.width);
  const std::vector<Tap> rows = TapsFor(job.contentHeight, job.regionY, job.scaleY, job.levelScale, job.height);
  for (Tap& t : columns) {
    t.first *= job.channels;
    t.second *= job.channels;
  }
  const size_t stride = static_cast<size_t>(job.width) * job.channels;
  const size_t plane = static_cast<size_t>(job.tensorWidth) * job.tensorHeight;
  // Two blended rows, tagged with the level row they hold, so a row shared by consecutive
  // output rows is blended once.
  std::vector<uint16_t> cache(static_cast<size_t>(6) * count);
  uint16_t* slot[2] = {cache.data(), cache.data() + 3 * count};
  int held[2] = {-1, -1};
  const auto blended = [&](int levelRow, int avoid) -> const uint16_t* {
    for (int k = 0; k < 2; k++) {
      if (held[k] == levelRow) return slot[k];
    }
    const int k = held[0] == avoid ? 1 : 0;
    BlendRow(job.data + levelRow * stride, columns, slot[k], count);
    held[k] = levelRow;
    return slot[k];
  };
  for (int y = 0; y < job.contentHeight; y++) {
    const uint16_t* top = blended(rows[y].first, rows[y].second);
    const uint16_t* bottom = blended(rows[y].second, rows[y].first);
    const int wb = rows[y].weight;
    const int wa = kWeightOne - wb;
    const size_t pixel = static_cast<size_t>(y + job.offsetY) * job.tensorWidth + job.offsetX;
    for (int c = 0; c < 3; c++) {
      const uint16_t* t = top + job.source[c] * count;
      const uint16_t* b = bottom + job.source[c] * count;
      const float scale = job.scale[c];
      const float bias = job.bias[c];
      if (job.nhwc) {
        float* o = job.out + pixel * 3 + c;
        for (int x = 0; x < count; x++) o[x * 3] = static_cast<float>(t[x] * wa + b[x] * wb) * scale - bias;
      } else {
        float* o = job.out + c * plane + pixel;
        for (int x = 0; x < count; x++) o[x] = static_cast<float>(t[x] * wa + b[x] * wb) * scale - bias;
      }
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
  const float* scale = o.Get("scale").As<Napi::Float32Array>().Data();
  const float* bias = o.Get("bias").As<Napi::Float32Array>().Data();
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
