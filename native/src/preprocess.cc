#include "preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PIXVEIL_X86 1
#else
#define PIXVEIL_X86 0
#endif

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

// Where each content column samples a level row, as byte offsets into the row, with the second
// neighbour's weight: separate arrays, for the gathers of BlendColumnsAvx2.
struct ColumnTaps {
  std::vector<int32_t> first, second, weight;
  // Columns whose 4-byte reads at `second` stay inside the row: the vector loop's; the rest are scalar.
  int wide = 0;
};

ColumnTaps ColumnTapsFor(const std::vector<Tap>& taps, int channels, size_t stride) {
  ColumnTaps out;
  const int count = static_cast<int>(taps.size());
  out.first.resize(count);
  out.second.resize(count);
  out.weight.resize(count);
  for (int x = 0; x < count; x++) {
    out.first[x] = taps[x].first * channels;
    out.second[x] = taps[x].second * channels;
    out.weight[x] = taps[x].weight;
    // Taps only move right, so once one column's read would pass the row's end every later one would.
    if (static_cast<size_t>(std::max(out.first[x], out.second[x])) + 4 <= stride && out.wide == x) out.wide = x + 1;
  }
  return out;
}

// The blend of columns [from, to) without vector instructions: the reference, and every column
// whose 4-byte read would pass the row's end.
void BlendColumns(const uint8_t* row, const ColumnTaps& columns, uint16_t* planes, int count, int from, int to) {
  for (int x = from; x < to; x++) {
    const uint8_t* a = row + columns.first[x];
    const uint8_t* b = row + columns.second[x];
    const int wb = columns.weight[x];
    const int wa = kWeightOne - wb;
    planes[x] = static_cast<uint16_t>(a[0] * wa + b[0] * wb);
    planes[count + x] = static_cast<uint16_t>(a[1] * wa + b[1] * wb);
    planes[2 * count + x] = static_cast<uint16_t>(a[2] * wa + b[2] * wb);
  }
}

#if PIXVEIL_X86
// Eight columns at a time: each pixel read as one 4-byte word by a gather (its channels and the
// byte after), the channels split out by shifts. Same integers as BlendColumns.
__attribute__((target("avx2"))) int BlendColumnsAvx2(const uint8_t* row, const ColumnTaps& columns, uint16_t* planes, int count) {
  const __m256i low = _mm256_set1_epi32(0xFF);
  const __m256i one = _mm256_set1_epi32(kWeightOne);
  int x = 0;
  for (; x + 8 <= columns.wide; x += 8) {
    const __m256i a = _mm256_i32gather_epi32(reinterpret_cast<const int*>(row), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(columns.first.data() + x)), 1);
    const __m256i b = _mm256_i32gather_epi32(reinterpret_cast<const int*>(row), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(columns.second.data() + x)), 1);
    const __m256i wb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(columns.weight.data() + x));
    const __m256i wa = _mm256_sub_epi32(one, wb);
    for (int c = 0; c < 3; c++) {
      const __m256i ac = _mm256_and_si256(_mm256_srli_epi32(a, 8 * c), low);
      const __m256i bc = _mm256_and_si256(_mm256_srli_epi32(b, 8 * c), low);
      const __m256i v = _mm256_add_epi32(_mm256_mullo_epi32(ac, wa), _mm256_mullo_epi32(bc, wb));
      // At most 255 × 2^8: fits 16 bits, so the saturating pack only narrows.
      const __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(planes + c * count + x), packed);
    }
  }
  return x;
}
#endif

// One level row blended horizontally at every content column: three planes (source channel
// order) of 16-bit values, value × 2^8. Kept for the next output row when it reads the same row.
void BlendRow(const uint8_t* row, const ColumnTaps& columns, uint16_t* planes, int count) {
  int done = 0;
#if PIXVEIL_X86
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) done = BlendColumnsAvx2(row, columns, planes, count);
#endif
  BlendColumns(row, columns, planes, count, done, count);
}

}  // namespace

// The vertical blend and the float conversion vectorise; target_clones compiles them for AVX-512 and
// AVX2 beside the baseline, and the loader picks by the CPU (the addon stays portable).
#if PIXVEIL_X86 && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
void RegionToTensorCpu(const RegionTensorJob& job) {
  FillPadding(job);
  const int count = job.contentWidth;
  const size_t stride = static_cast<size_t>(job.width) * job.channels;
  const ColumnTaps columns = ColumnTapsFor(TapsFor(count, job.regionX, job.scaleX, job.levelScale, job.width), job.channels, stride);
  const std::vector<Tap> rows = TapsFor(job.contentHeight, job.regionY, job.scaleY, job.levelScale, job.height);
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
