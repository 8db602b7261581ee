#include "pyramid.h"

#include <vector>

#include "cpu_features.h"

namespace pixveil {
namespace {

#if PIXVEIL_X86
// The second step for 3 channels, ten output pixels (30 bytes) at a time: a word permute over two
// registers (64 words of row sums from pixel 6x on) lines up each output's two sums, so the same
// (a + b + 2) >> 2 as the scalar loop runs 32 lanes at once. The compiler leaves that loop scalar
// (its reads step by 6), and it was most of a level's cost. Returns the output pixels done.
constexpr int kHalveBlockPixels = 10;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f,avx512bw"))) int AverageRgbPairsAvx512(const uint16_t* pair, size_t used, uint8_t* out, int w) {
  alignas(64) uint16_t left[32], right[32];
  for (int j = 0; j < 32; j++) {
    const int at = j < 3 * kHalveBlockPixels ? 6 * (j / 3) + j % 3 : 0;
    left[j] = static_cast<uint16_t>(at);
    right[j] = static_cast<uint16_t>(at + 3);
  }
  const __m512i leftIndex = _mm512_load_si512(left), rightIndex = _mm512_load_si512(right);
  const __m512i two = _mm512_set1_epi16(2);
  const __mmask32 bytes = (1u << (3 * kHalveBlockPixels)) - 1;
  int x = 0;
  // Each block reads 64 sums from 6x on: only while they are all inside the row.
  for (; x + kHalveBlockPixels <= w && static_cast<size_t>(6 * x) + 64 <= used; x += kHalveBlockPixels) {
    const __m512i low = _mm512_loadu_si512(pair + 6 * x);
    const __m512i high = _mm512_loadu_si512(pair + 6 * x + 32);
    const __m512i a = _mm512_permutex2var_epi16(low, leftIndex, high);
    const __m512i b = _mm512_permutex2var_epi16(low, rightIndex, high);
    const __m512i mean = _mm512_srli_epi16(_mm512_add_epi16(_mm512_add_epi16(a, b), two), 2);
    _mm512_mask_cvtepi16_storeu_epi8(out + 3 * x, bytes, mean);
  }
  return x;
}
#pragma GCC diagnostic pop
#endif

// Two steps so the compiler can vectorise the first: the two rows summed byte by byte, then
// pairs of pixels of that sum averaged with constant channel offsets.
template <int Channels>
void Halve(const HalveJob& job) {
  const int w = job.width / 2;
  const int h = job.height / 2;
  const size_t stride = static_cast<size_t>(job.width) * Channels;
  const size_t used = static_cast<size_t>(2 * w) * Channels;
  std::vector<uint16_t> pair(used);
  for (int y = 0; y < h; y++) {
    const uint8_t* top = job.data + static_cast<size_t>(2 * y) * stride;
    const uint8_t* bottom = top + stride;
    for (size_t i = 0; i < used; i++) pair[i] = static_cast<uint16_t>(top[i] + bottom[i]);
    const uint16_t* p = pair.data();
    uint8_t* out = job.out + static_cast<size_t>(y) * w * 3;
    int x = 0;
#if PIXVEIL_X86
    if (Channels == 3 && CpuHasAvx512Bw()) {
      x = AverageRgbPairsAvx512(p, used, out, w);
      p += static_cast<size_t>(x) * 2 * Channels;
      out += static_cast<size_t>(x) * 3;
    }
#endif
    for (; x < w; x++, p += 2 * Channels, out += 3) {
      out[0] = static_cast<uint8_t>((p[0] + p[Channels] + 2) >> 2);
      out[1] = static_cast<uint8_t>((p[1] + p[Channels + 1] + 2) >> 2);
      out[2] = static_cast<uint8_t>((p[2] + p[Channels + 2] + 2) >> 2);
    }
  }
}

}  // namespace

void HalveImageCpu(const HalveJob& job) {
  if (job.channels == 4) {
    Halve<4>(job);
  } else {
    Halve<3>(job);
  }
}

Napi::Value HalveImage(const Napi::CallbackInfo& info) {
  const Napi::Object o = info[0].As<Napi::Object>();
  HalveJob job;
  job.data = o.Get("data").As<Napi::Uint8Array>().Data();
  job.width = o.Get("width").As<Napi::Number>().Int32Value();
  job.height = o.Get("height").As<Napi::Number>().Int32Value();
  job.channels = o.Get("channels").As<Napi::Number>().Int32Value();
  job.out = o.Get("out").As<Napi::Uint8Array>().Data();
  HalveImageCpu(job);
  return info.Env().Undefined();
}

}  // namespace pixveil
