// glibc malloc thresholds for a process that allocates and frees megabyte buffers per image
// (decoded frames, pyramid levels, tensors, encoded JPEGs). By default glibc maps such a buffer
// with mmap until the first free raises its threshold, and hands freed heap tops back to the
// kernel: each image then pays page faults (first touch of fresh zeroed pages) on buffers it
// could have reused. A fixed mmap threshold and a high trim threshold keep them in the heap
// (bench/allocator.ts). Process-wide; a no-op where the C library is not glibc.
#include "allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace pixveil {

// tuneAllocator({ mmapThreshold, trimThreshold }) → { applied, reason }
Napi::Value TuneAllocator(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "tuneAllocator expects { mmapThreshold, trimThreshold }").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const Napi::Object options = info[0].As<Napi::Object>();
  const int64_t mmapThreshold = options.Get("mmapThreshold").As<Napi::Number>().Int64Value();
  const int64_t trimThreshold = options.Get("trimThreshold").As<Napi::Number>().Int64Value();
  Napi::Object result = Napi::Object::New(env);
#if defined(__GLIBC__)
  // mallopt returns 0 for a value glibc refuses (an mmap threshold above its heap's maximum).
  const bool mmapSet = mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmapThreshold)) == 1;
  const bool trimSet = mallopt(M_TRIM_THRESHOLD, static_cast<int>(trimThreshold)) == 1;
  result.Set("applied", Napi::Boolean::New(env, mmapSet && trimSet));
  result.Set("reason", Napi::String::New(env, mmapSet && trimSet ? "glibc mallopt" : "glibc refused a threshold"));
#else
  (void)mmapThreshold;
  (void)trimThreshold;
  result.Set("applied", Napi::Boolean::New(env, false));
  result.Set("reason", Napi::String::New(env, "not glibc"));
#endif
  return result;
}

}  // namespace pixveil
