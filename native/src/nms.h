// Greedy non-maximum suppression, class-aware when classes are given. Mirrors src/addon/fallback/nms.ts.
#pragma once

#include <napi.h>

namespace pixveil {

// nms({ boxes: Float32Array (x1,y1,x2,y2 each), scores: Float32Array, iouThreshold, classes?: Int32Array })
// → Int32Array of kept indices, highest score first.
Napi::Value Nms(const Napi::CallbackInfo& info);

}  // namespace pixveil
