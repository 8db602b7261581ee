#include "tensor.h"

#include <algorithm>

namespace pixveil {

void PrepareTensorJob(TensorJob* job, bool bgr, double padValue, const double mean[3], const double std[3]) {
  for (int c = 0; c < 3; c++) {
    job->source[c] = bgr ? 2 - c : c;
    const double scale = 1 / std[c];
    for (int v = 0; v < 256; v++) job->lut[c][v] = static_cast<float>((v - mean[c]) * scale);
    job->pad[c] = static_cast<float>((padValue - mean[c]) / std[c]);
  }
}

void NormalizeToChwCpu(const TensorJob& job) {
  const size_t plane = static_cast<size_t>(job.width) * job.height;
  const int x1 = job.offsetX + job.contentWidth;
  const int y1 = job.offsetY + job.contentHeight;
  // Pad only what the content does not cover.
  for (int c = 0; c < 3; c++) {
    float* p = job.out + c * plane;
    const float pad = job.pad[c];
    std::fill(p, p + static_cast<size_t>(job.offsetY) * job.width, pad);
    std::fill(p + static_cast<size_t>(y1) * job.width, p + plane, pad);
    for (int y = job.offsetY; y < y1; y++) {
      float* row = p + static_cast<size_t>(y) * job.width;
      std::fill(row, row + job.offsetX, pad);
      std::fill(row + x1, row + job.width, pad);
    }
  }
  const float* l0 = job.lut[0];
  const float* l1 = job.lut[1];
  const float* l2 = job.lut[2];
  const int s0 = job.source[0], s1 = job.source[1], s2 = job.source[2];
  for (int y = 0; y < job.contentHeight; y++) {
    const uint8_t* in = job.rgb + static_cast<size_t>(y) * job.contentWidth * 3;
    float* o0 = job.out + static_cast<size_t>(y + job.offsetY) * job.width + job.offsetX;
    float* o1 = o0 + plane;
    float* o2 = o1 + plane;
    for (int x = 0; x < job.contentWidth; x++) {
      const uint8_t* p = in + x * 3;
      o0[x] = l0[p[s0]];
      o1[x] = l1[p[s1]];
      o2[x] = l2[p[s2]];
    }
  }
}

Napi::Value NormalizeToChw(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const Napi::Object o = info[0].As<Napi::Object>();
  const Napi::Uint8Array rgb = o.Get("rgb").As<Napi::Uint8Array>();
  Napi::Float32Array out = o.Get("out").As<Napi::Float32Array>();
  const Napi::Float64Array mean = o.Get("mean").As<Napi::Float64Array>();
  const Napi::Float64Array std = o.Get("std").As<Napi::Float64Array>();
  TensorJob job;
  job.rgb = rgb.Data();
  job.out = out.Data();
  job.contentWidth = o.Get("contentWidth").As<Napi::Number>().Int32Value();
  job.contentHeight = o.Get("contentHeight").As<Napi::Number>().Int32Value();
  job.offsetX = o.Get("offsetX").As<Napi::Number>().Int32Value();
  job.offsetY = o.Get("offsetY").As<Napi::Number>().Int32Value();
  job.width = o.Get("width").As<Napi::Number>().Int32Value();
  job.height = o.Get("height").As<Napi::Number>().Int32Value();
  const bool bgr = o.Get("channelOrder").As<Napi::String>().Utf8Value() == "bgr";
  PrepareTensorJob(&job, bgr, o.Get("padValue").As<Napi::Number>().DoubleValue(), mean.Data(), std.Data());
  NormalizeToChwCpu(job);
  return env.Undefined();
}

}  // namespace pixveil
