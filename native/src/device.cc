#include "device.h"

#include <string>

#include "cuda/pixel_ops.h"

namespace pixveil {

Napi::Value CudaAvailable(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  std::string reason;
  // Asked at call time, not load time: the addon must load and run on machines without a GPU.
  const int count = cuda::DeviceCount(&reason);
  Napi::Object result = Napi::Object::New(env);
  result.Set("compiled", Napi::Boolean::New(env, cuda::kCompiled));
  result.Set("deviceCount", Napi::Number::New(env, count));
  result.Set("available", Napi::Boolean::New(env, count > 0));
  result.Set("reason", count > 0 ? env.Null() : Napi::String::New(env, reason));
  return result;
}

}  // namespace pixveil
