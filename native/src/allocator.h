// glibc malloc's thresholds for the process (see allocator.cc).
#pragma once
#include <napi.h>

namespace pixveil {
Napi::Value TuneAllocator(const Napi::CallbackInfo& info);
}  // namespace pixveil
