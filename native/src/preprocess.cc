#include "preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "cpu_features.h"

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

// Columns per block of BlendColumnsVbmi: sixteen 16-bit results per channel fill one AVX2 register.
// A block reads 128 row bytes (two registers) and picks its bytes from them; the byte picks of one
// neighbour, 16 per channel, fill 64 bytes.
constexpr int kBlockColumns = 16;
constexpr int kBlockReadBytes = 128;
constexpr int kBlockBytes = 64;

// Where each content column samples a level row, as byte offsets into the row, with the second
// neighbour's weight: separate arrays, for the gathers of BlendColumnsAvx2.
struct ColumnTaps {
  std::vector<int32_t> first, second, weight;
  // Columns whose 4-byte reads at `second` stay inside the row: the vector loop's; the rest are scalar.
  int wide = 0;
  // BlendColumnsVbmi's blocks of kBlockColumns columns from column 0: each reads the 128 row bytes
  // from blockBase[k], and blockFirst/blockSecond (64 bytes a block) say which byte each output takes,
  // channel by channel (16 red, 16 green, 16 blue). Blocks stop at the first one whose taps span more
  // than 128 bytes (a shrink of over 2.6× at 3 channels, 2× at 4; the pyramid leaves at most 2×) or
  // whose read would pass the row's end.
  std::vector<int32_t> blockBase;
  std::vector<uint8_t> blockFirst, blockSecond;
  std::vector<uint16_t> weightFirst, weightSecond;
};

// Builds the blocks while every tap of the next kBlockColumns columns lies within 128 bytes of the block's first.
void BlocksFor(ColumnTaps& out, int channels, size_t stride) {
  const int count = static_cast<int>(out.first.size());
  for (int x = 0; x + kBlockColumns <= count; x += kBlockColumns) {
    const int32_t base = out.first[x];
    if (static_cast<size_t>(base) + kBlockReadBytes > stride) break;
    // Taps only move right and `second` is never left of `first`: the block's last `second` is its farthest read.
    if (out.second[x + kBlockColumns - 1] - base + channels - 1 >= kBlockReadBytes) break;
    out.blockBase.push_back(base);
    // Per channel, the byte of the row read from `base` that each of the block's columns takes.
    const auto picks = [&](const std::vector<int32_t>& taps, std::vector<uint8_t>& bytes) {
      for (int c = 0; c < 3; c++) {
        for (int j = 0; j < kBlockColumns; j++) bytes.push_back(static_cast<uint8_t>(taps[x + j] - base + c));
      }
      bytes.resize(bytes.size() + kBlockBytes - 3 * kBlockColumns, 0);
    };
    picks(out.first, out.blockFirst);
    picks(out.second, out.blockSecond);
  }
  const int covered = static_cast<int>(out.blockBase.size()) * kBlockColumns;
  out.weightFirst.resize(covered);
  out.weightSecond.resize(covered);
  for (int x = 0; x < covered; x++) {
    out.weightSecond[x] = static_cast<uint16_t>(out.weight[x]);
    out.weightFirst[x] = static_cast<uint16_t>(kWeightOne - out.weight[x]);
  }
}

ColumnTaps ColumnTapsFor(const std::vector<Tap>& taps, int channels, size_t stride, bool blocks) {
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
  if (blocks) BlocksFor(out, channels, stride);
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
__attribute__((target("avx2"))) int BlendColumnsAvx2(const uint8_t* row, const ColumnTaps& columns, uint16_t* planes, int count, int from) {
  const __m256i low = _mm256_set1_epi32(0xFF);
  const __m256i one = _mm256_set1_epi32(kWeightOne);
  int x = from;
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

#if PIXVEIL_X86
// Sixteen columns at a time without gathers: a 128-byte load of the row, and a two-register byte
// permute (AVX-512 VBMI) per neighbour that puts each column's channel bytes in planar order. Every product
// (at most 255 × 2^8) and their sum fit 16 bits, so the same integers as BlendColumns. The gathers
// of BlendColumnsAvx2 had been most of the input pass of a large model input (YuNet's 1600×928).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f,avx512bw,avx512vbmi,avx2"))) int BlendColumnsVbmi(const uint8_t* row, const ColumnTaps& columns, uint16_t* planes, int count) {
  const int blocks = static_cast<int>(columns.blockBase.size());
  for (int k = 0; k < blocks; k++) {
    const int x = k * kBlockColumns;
    const __m512i low = _mm512_loadu_si512(row + columns.blockBase[k]);
    const __m512i high = _mm512_loadu_si512(row + columns.blockBase[k] + 64);
    const __m512i a = _mm512_permutex2var_epi8(low, _mm512_loadu_si512(columns.blockFirst.data() + k * kBlockBytes), high);
    const __m512i b = _mm512_permutex2var_epi8(low, _mm512_loadu_si512(columns.blockSecond.data() + k * kBlockBytes), high);
    const __m256i wa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(columns.weightFirst.data() + x));
    const __m256i wb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(columns.weightSecond.data() + x));
    const __m256i a16[3] = {_mm256_cvtepu8_epi16(_mm512_castsi512_si128(a)), _mm256_cvtepu8_epi16(_mm512_extracti32x4_epi32(a, 1)), _mm256_cvtepu8_epi16(_mm512_extracti32x4_epi32(a, 2))};
    const __m256i b16[3] = {_mm256_cvtepu8_epi16(_mm512_castsi512_si128(b)), _mm256_cvtepu8_epi16(_mm512_extracti32x4_epi32(b, 1)), _mm256_cvtepu8_epi16(_mm512_extracti32x4_epi32(b, 2))};
    for (int c = 0; c < 3; c++) {
      const __m256i v = _mm256_add_epi16(_mm256_mullo_epi16(a16[c], wa), _mm256_mullo_epi16(b16[c], wb));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(planes + c * count + x), v);
    }
  }
  return blocks * kBlockColumns;
}
#pragma GCC diagnostic pop
#endif

// One level row blended horizontally at every content column: three planes (source channel
// order) of 16-bit values, value × 2^8. Kept for the next output row when it reads the same row.
void BlendRow(const uint8_t* row, const ColumnTaps& columns, uint16_t* planes, int count) {
  int done = 0;
#if PIXVEIL_X86
  if (!columns.blockBase.empty()) done = BlendColumnsVbmi(row, columns, planes, count);
  if (CpuHasAvx2()) done = BlendColumnsAvx2(row, columns, planes, count, done);
#endif
  BlendColumns(row, columns, planes, count, done, count);
}

#if PIXVEIL_X86
// One channel row of a planar (NCHW) tensor: the vertical blend, the float conversion and the
// normalisation, sixteen columns at a time, written with streaming stores. Returns the columns done;
// the caller finishes the rest. Same integers and the same float multiply-then-subtract as the loop
// it stands in for (fp-contract is off), so the same floats.
// GCC 12's own AVX-512 headers trip -Wmaybe-uninitialized (their _mm512_undefined_* placeholders).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f"))) int StreamRowAvx512(const uint16_t* t, const uint16_t* b, int wa, int wb, float scale, float bias, float* o, int count) {
  int x = 0;
  // Streaming stores want 64-byte aligned addresses: scalar columns up to the first one.
  for (; x < count && (reinterpret_cast<uintptr_t>(o + x) & 63) != 0; x++) o[x] = static_cast<float>(t[x] * wa + b[x] * wb) * scale - bias;
  const __m512i va = _mm512_set1_epi32(wa), vb = _mm512_set1_epi32(wb);
  const __m512 vscale = _mm512_set1_ps(scale), vbias = _mm512_set1_ps(bias);
  for (; x + 16 <= count; x += 16) {
    const __m512i top = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + x)));
    const __m512i bottom = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + x)));
    // At most 255 × 2^16: exact in a float.
    const __m512 sum = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_mullo_epi32(top, va), _mm512_mullo_epi32(bottom, vb)));
    _mm512_stream_ps(o + x, _mm512_sub_ps(_mm512_mul_ps(sum, vscale), vbias));
  }
  return x;
}
#pragma GCC diagnostic pop
#endif

// Streaming stores pay off only for a tensor far larger than the caches (YuNet's 1600×928 input is
// 17.8 MB): ordinary stores first read every cache line they fill, and the line is evicted before
// onnxruntime reads it anyway. A small tensor (416×416, 2 MB) is better left in the cache for the model.
constexpr size_t kStreamTensorBytes = 8u << 20;

bool StreamRows(const RegionTensorJob& job) {
  return CpuHasAvx512F() && !job.nhwc && static_cast<size_t>(job.tensorWidth) * job.tensorHeight * 3 * sizeof(float) >= kStreamTensorBytes;
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
  const ColumnTaps columns = ColumnTapsFor(TapsFor(count, job.regionX, job.scaleX, job.levelScale, job.width), job.channels, stride, CpuHasAvx512Vbmi());
  const std::vector<Tap> rows = TapsFor(job.contentHeight, job.regionY, job.scaleY, job.levelScale, job.height);
  const size_t plane = static_cast<size_t>(job.tensorWidth) * job.tensorHeight;
  [[maybe_unused]] const bool stream = StreamRows(job);
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
        int x = 0;
#if PIXVEIL_X86
        if (stream) x = StreamRowAvx512(t, b, wa, wb, scale, bias, o, count);
#endif
        for (; x < count; x++) o[x] = static_cast<float>(t[x] * wa + b[x] * wb) * scale - bias;
      }
    }
  }
#if PIXVEIL_X86
  // Streaming stores are weakly ordered: make them visible before the tensor is handed on.
  if (stream) _mm_sfence();
#endif
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
