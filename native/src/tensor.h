// Already-resized RGB → NCHW float32 model input with padding, mean/std and channel order.
// Mirrors src/addon/fallback/tensor.ts.
#pragma once

// nvcc compiles the kernels against the plain declarations only, without Node headers.
#ifndef __CUDACC__
#include <napi.h>
#endif

#include <cstdint>

namespace pixveil {

struct TensorJob {
  const uint8_t* rgb;
  int contentWidth, contentHeight, offsetX, offsetY;
  int width, height;
  int source[3];       // output channel c reads source channel source[c]
  float lut[3][256];   // (v - mean[c]) / std[c] for every byte value, computed in double
  float pad[3];
  float* out;          // 3 × height × width
};

// Fills lut and pad with the fallback's arithmetic so both paths agree to the last bit.
void PrepareTensorJob(TensorJob* job, bool bgr, double padValue, const double mean[3], const double std[3]);
void NormalizeToChwCpu(const TensorJob& job);

#ifndef __CUDACC__
// normalizeToChw({ rgb, contentWidth, contentHeight, offsetX, offsetY, width, height,
//   channelOrder, padValue, mean, std, out: Float32Array }) → undefined
Napi::Value NormalizeToChw(const Napi::CallbackInfo& info);
#endif

}  // namespace pixveil
