// Built instead of jpeg_blocks.cc when libjpeg-turbo's headers were not found (or PIXVEIL_JPEG=off):
// every JPEG is declined, and the pipeline re-encodes it whole as before.
#include "jpeg_blocks.h"

namespace pixveil {

void KeepJpegBlocks(const JpegBlocksJob&, JpegBlocksResult* result) {
  result->kept = false;
  result->declined = "the native addon was built without libjpeg-turbo";
}

bool JpegBlocksCompiled(std::string* version) {
  version->clear();
  return false;
}

}  // namespace pixveil
