// One level of the anti-aliasing image pyramid: a 2×2 box average of the level above it.
// Mirrors src/addon/fallback/pyramid.ts; the integer rounding is the same, so levels match exactly.
#pragma once

#include <napi.h>

#include <cstdint>

namespace pixveil {

struct HalveJob {
  const uint8_t* data;
  int width, height, channels;  // the source level: 3 or 4 channels, alpha ignored
  uint8_t* out;                 // RGB, floor(width / 2) × floor(height / 2)
};

void HalveImageCpu(const HalveJob& job);

// halveImage({ data, width, height, channels, out: Uint8Array }) → undefined
Napi::Value HalveImage(const Napi::CallbackInfo& info);

}  // namespace pixveil
