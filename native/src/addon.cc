// Registers the exports; each stage lives in its own file.
#include <napi.h>

#include "allocator.h"
#include "blur.h"
#include "device.h"
#include "jpeg_blocks.h"
#include "nms.h"
#include "preprocess.h"
#include "pyramid.h"

namespace {

// Bumped when an export's options change, so a stale build is refused by src/addon/native.ts.
constexpr int kAbiVersion = 4;

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, kAbiVersion));
  exports.Set("blurRegions", Napi::Function::New(env, pixveil::BlurRegions, "blurRegions"));
  exports.Set("halveImage", Napi::Function::New(env, pixveil::HalveImage, "halveImage"));
  exports.Set("regionToTensor", Napi::Function::New(env, pixveil::RegionToTensor, "regionToTensor"));
  exports.Set("nms", Napi::Function::New(env, pixveil::Nms, "nms"));
  exports.Set("keepJpegBlocks", Napi::Function::New(env, pixveil::KeepJpegBlocksAsync, "keepJpegBlocks"));
  exports.Set("jpegBlocksSupport", Napi::Function::New(env, pixveil::JpegBlocksSupport, "jpegBlocksSupport"));
  exports.Set("tuneAllocator", Napi::Function::New(env, pixveil::TuneAllocator, "tuneAllocator"));
  exports.Set("cudaAvailable", Napi::Function::New(env, pixveil::CudaAvailable, "cudaAvailable"));
  return exports;
}

}  // namespace

NODE_API_MODULE(pixveil_native, Init)
