// JPEG in, JPEG out with the untouched blocks left as they were: the input's DCT coefficients are
// copied (libjpeg-turbo's coefficient API) and only the MCUs a blurred region touches are
// re-encoded, from the blurred RGB image, with the input's own sampling and quantisation tables.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pixveil {

// An APPn segment to write after the file header (metadata=safe: EXIF, ICC), payload only.
struct JpegMarker {
  int code;
  std::vector<uint8_t> payload;
};

struct JpegBlocksJob {
  const uint8_t* jpeg;
  size_t jpegLength;
  // The decoded and blurred image: interleaved 8-bit RGB or RGBA at the JPEG's own size and orientation.
  const uint8_t* pixels;
  int width, height, channels;
  std::vector<double> regions;  // x, y, width, height per changed region
  std::vector<JpegMarker> markers;
};

struct JpegBlocksResult {
  // false: the input cannot keep its blocks (declined says why); the caller re-encodes it whole.
  bool kept = false;
  std::string declined;
  uint8_t* output = nullptr;  // malloc'd by libjpeg's memory destination; the caller frees it
  unsigned long outputLength = 0;
  size_t mcusRewritten = 0;
  size_t mcusTotal = 0;
  // Which Huffman tables the output was coded with: "standard" (the input's were), "input" (its own
  // code every symbol), "input-extended" (its own with the missing symbols added, jpeg_huffman.h) or
  // "optimal" (made for this output, a second entropy pass: progressive and multi-scan inputs).
  const char* huffman = "";
};

// Never throws for bad input data: a JPEG it cannot keep comes back declined. Runs without V8.
void KeepJpegBlocks(const JpegBlocksJob& job, JpegBlocksResult* result);

// True when the addon was built with libjpeg-turbo; the version string names it.
bool JpegBlocksCompiled(std::string* version);

// keepJpegBlocks({ jpeg, pixels, width, height, channels, regions: Float64Array, markers: [{code, payload}] })
// → Promise<{ kept: true, data: Buffer, mcusRewritten, mcusTotal, huffman } | { kept: false, reason }>
Napi::Value KeepJpegBlocksAsync(const Napi::CallbackInfo& info);
// jpegBlocksSupport() → { compiled, library }
Napi::Value JpegBlocksSupport(const Napi::CallbackInfo& info);

}  // namespace pixveil
