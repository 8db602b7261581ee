#include "pyramid.h"

namespace pixveil {

void HalveImageCpu(const HalveJob& job) {
  const int w = job.width / 2;
  const int h = job.height / 2;
  const size_t stride = static_cast<size_t>(job.width) * job.channels;
  const int step = 2 * job.channels;
  for (int y = 0; y < h; y++) {
    const uint8_t* top = job.data + static_cast<size_t>(2 * y) * stride;
    const uint8_t* bottom = top + stride;
    uint8_t* out = job.out + static_cast<size_t>(y) * w * 3;
    for (int x = 0; x < w; x++) {
      const uint8_t* a = top + x * step;
      const uint8_t* b = bottom + x * step;
      const int right = job.channels;
      for (int c = 0; c < 3; c++) {
        out[x * 3 + c] = static_cast<uint8_t>((a[c] + a[right + c] + b[c] + b[right + c] + 2) >> 2);
      }
    }
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
