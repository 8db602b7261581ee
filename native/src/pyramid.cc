#include "pyramid.h"

#include <vector>

namespace pixveil {
namespace {

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
    for (int x = 0; x < w; x++, p += 2 * Channels, out += 3) {
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
