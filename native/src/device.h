// What the addon can run on: whether CUDA kernels were compiled in and whether a GPU is visible now.
#pragma once

#include <napi.h>

namespace pixveil {

// cudaAvailable() → { compiled, deviceCount, available, reason }
Napi::Value CudaAvailable(const Napi::CallbackInfo& info);

}  // namespace pixveil
