// The fused model-input pass: crop + bilinear resize + channel order + normalise + layout +
// padding, from one pyramid level straight into the Float32 tensor. Mirrors
// src/addon/fallback/region-tensor.ts; the plan (level, scales, constants) is made in TypeScript
// (src/addon/region-plan.ts), so both read the same numbers and give the same floats.
#pragma once

#include <napi.h>

#include <cstdint>

namespace pixveil {

// Bilinear weights are 8-bit fixed point: two passes keep 16 fraction bits in an int32.
constexpr int kWeightBits = 8;
constexpr int kWeightOne = 1 << kWeightBits;

struct RegionTensorJob {
  const uint8_t* data;  // the pyramid level: interleaved, `channels` per pixel, alpha ignored
  int width, height, channels;
  double levelScale;    // image pixels per level pixel (2^level)
  double regionX, regionY, scaleX, scaleY;  // region origin in image pixels; content px per image px
  int contentWidth, contentHeight, offsetX, offsetY;
  int tensorWidth, tensorHeight;
  bool nhwc;
  int source[3];        // output channel c reads source channel source[c]
  float scale[3], bias[3];  // out = sum × scale − bias in float, sum = value × 2^16 (exact in a float)
  float pad[3];
  float* out;           // already advanced to the caller's element offset
};

void RegionToTensorCpu(const RegionTensorJob& job);

// regionToTensor({ data, width, height, channels, levelScale, regionX, regionY, scaleX, scaleY,
//   contentWidth, contentHeight, offsetX, offsetY, tensorWidth, tensorHeight, layout,
//   source: Int32Array(3), scale, bias: Float32Array(3), pad: Float64Array(3), out: Float32Array,
//   outOffset }) → undefined
Napi::Value RegionToTensor(const Napi::CallbackInfo& info);

}  // namespace pixveil
