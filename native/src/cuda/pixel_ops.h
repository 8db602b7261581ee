// The CUDA version of the blur stage (PIXEL_OPS=cuda|auto). Compiled only when CMake finds nvcc;
// otherwise the inline stubs below report no device, and every caller takes the CPU path. The
// model-input stages (pyramid, regionToTensor) have no CUDA version: docs/deployment.md says why.
#pragma once

#include <string>

#include "blur.h"

namespace pixveil {
namespace cuda {

#ifdef PIXVEIL_WITH_CUDA
constexpr bool kCompiled = true;
// Devices visible now; 0 when there is no driver or no GPU. Sets error to the runtime's reason.
int DeviceCount(std::string* error = nullptr);
// Same results as the CPU versions, bit for bit. false (and error) when a CUDA call fails;
// the host buffers are then left as they were.
bool BlurRegions(const BlurJob& job, std::string* error);
#else
constexpr bool kCompiled = false;
inline int DeviceCount(std::string* error = nullptr) {
  if (error) *error = "the addon was built without CUDA";
  return 0;
}
inline bool BlurRegions(const BlurJob&, std::string* error) {
  *error = "the addon was built without CUDA";
  return false;
}
#endif

}  // namespace cuda
}  // namespace pixveil
