// The libjpeg-turbo side of keeping JPEG blocks: read the input's coefficients, re-encode the MCUs
// under changed regions from the blurred pixels (forward DCT, the input's quantisation tables),
// write every other block back as it was. Compiled only when libjpeg-turbo is found at build time.
#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

// jpeglib.h needs size_t and FILE declared before it.
#include <jpeglib.h>

#include "blur.h"
#include "jpeg_blocks.h"
#include "jpeg_huffman.h"

namespace pixveil {
namespace {

// libjpeg reports fatal errors through error_exit, which must not return: it jumps back to Transcode.
struct ErrorManager {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  int warnings;
};

void OnError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

// Corrupt-data warnings (bad Huffman codes, a truncated file) decline the block copy: the output
// must show exactly the pixels the detectors saw, and another libjpeg may read damage differently.
void OnMessage(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (level >= 0) return;
  if (err->warnings++ == 0) (*cinfo->err->format_message)(cinfo, err->message);
}

// Everything that outlives a longjmp lives here, outside Transcode's frame, so nothing the jump
// skips has a destructor or a value the jump leaves indeterminate.
struct Session {
  jpeg_decompress_struct src;
  jpeg_compress_struct dst;
  ErrorManager err;
  bool srcCreated = false;
  bool dstCreated = false;
  unsigned char* out = nullptr;
  unsigned long outSize = 0;
  std::vector<uint8_t> touched;
  std::vector<float> mcu;  // one MCU of the blurred image as Y, Cb, Cr floats, edges replicated
  std::vector<float> divisors;  // FillQuantDivisors, 64 per component
};

// Forward DCT by Arai, Agui and Nakajima's factorisation (as libjpeg's float DCT): 5 multiplies per
// 8-point pass instead of 64. Its outputs are the JPEG DCT scaled by 8 · s[u] · s[v], folded into
// the quantisation divisors (FillQuantDivisors).
void AanForwardPass(float* d, int step) {
  const float tmp0 = d[0] + d[7 * step], tmp7 = d[0] - d[7 * step];
  const float tmp1 = d[step] + d[6 * step], tmp6 = d[step] - d[6 * step];
  const float tmp2 = d[2 * step] + d[5 * step], tmp5 = d[2 * step] - d[5 * step];
  const float tmp3 = d[3 * step] + d[4 * step], tmp4 = d[3 * step] - d[4 * step];
  // Even part.
  float tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3;
  float tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
  d[0] = tmp10 + tmp11;
  d[4 * step] = tmp10 - tmp11;
  const float z1 = (tmp12 + tmp13) * 0.707106781f;
  d[2 * step] = tmp13 + z1;
  d[6 * step] = tmp13 - z1;
  // Odd part.
  tmp10 = tmp4 + tmp5;
  tmp11 = tmp5 + tmp6;
  tmp12 = tmp6 + tmp7;
  const float z5 = (tmp10 - tmp12) * 0.382683433f;
  const float z2 = 0.541196100f * tmp10 + z5;
  const float z4 = 1.306562965f * tmp12 + z5;
  const float z3 = tmp11 * 0.707106781f;
  const float z11 = tmp7 + z3, z13 = tmp7 - z3;
  d[5 * step] = z13 + z2;
  d[3 * step] = z13 - z2;
  d[step] = z11 + z4;
  d[7 * step] = z11 - z4;
}

// 1 / (q · 8 · s[u] · s[v]) per coefficient, natural order: AAN's scale and the quantiser in one multiply.
void FillQuantDivisors(const UINT16* quant, float* inverse) {
  static const double kAanScale[8] = {1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.541196100, 0.275899379};
  for (int v = 0; v < 8; v++) {
    for (int u = 0; u < 8; u++) inverse[v * 8 + u] = static_cast<float>(1.0 / (quant[v * 8 + u] * kAanScale[u] * kAanScale[v] * 8.0));
  }
}

// One 8×8 block of level-shifted samples → quantised coefficients in natural order.
void ForwardDctQuantize(float samples[64], const float* inverse, JCOEF* block) {
  for (int y = 0; y < 8; y++) AanForwardPass(samples + y * 8, 1);
  for (int x = 0; x < 8; x++) AanForwardPass(samples + x, 8);
  // Round half away from zero, as lround does, without its library call per coefficient.
  for (int i = 0; i < 64; i++) {
    const float q = samples[i] * inverse[i];
    block[i] = static_cast<JCOEF>(q >= 0 ? static_cast<int>(q + 0.5f) : -static_cast<int>(0.5f - q));
  }
}

// The MCU at (mx, my) of the blurred image as full-resolution Y, Cb, Cr (libjpeg's RGB→YCbCr),
// pixels past the right and bottom edges replicated as libjpeg's encoder pads them.
void LoadMcu(const JpegBlocksJob& job, int mx, int my, int mcuW, int mcuH, float* out) {
  for (int y = 0; y < mcuH; y++) {
    const int py = std::min(my * mcuH + y, job.height - 1);
    const uint8_t* row = job.pixels + static_cast<size_t>(py) * job.width * job.channels;
    for (int x = 0; x < mcuW; x++) {
      const int px = std::min(mx * mcuW + x, job.width - 1);
      const uint8_t* p = row + static_cast<size_t>(px) * job.channels;
      const float r = p[0], g = p[1], b = p[2];
      float* o = out + (static_cast<size_t>(y) * mcuW + x) * 3;
      o[0] = 0.299f * r + 0.587f * g + 0.114f * b;
      o[1] = -0.168735892f * r - 0.331264108f * g + 0.5f * b + 128.0f;
      o[2] = 0.5f * r - 0.418687589f * g - 0.081312411f * b + 128.0f;
    }
  }
}

// Re-encodes every block of every component inside one MCU from its Y/Cb/Cr samples; a
// subsampled component's sample is the mean of the pixels it covers, as libjpeg downsamples.
void RewriteMcu(Session* s, jvirt_barray_ptr* coefs, int mx, int my, int mcuW) {
  jpeg_decompress_struct& src = s->src;
  for (int c = 0; c < src.num_components; c++) {
    jpeg_component_info* comp = src.comp_info + c;
    const int fx = src.max_h_samp_factor / comp->h_samp_factor;
    const int fy = src.max_v_samp_factor / comp->v_samp_factor;
    const float* divisors = s->divisors.data() + c * 64;
    JBLOCKARRAY rows = (*src.mem->access_virt_barray)(reinterpret_cast<j_common_ptr>(&src), coefs[c], my * comp->v_samp_factor,
                                                       comp->v_samp_factor, TRUE);
    for (int v = 0; v < comp->v_samp_factor; v++) {
      const JDIMENSION by = my * comp->v_samp_factor + v;
      if (by >= comp->height_in_blocks) break;
      for (int h = 0; h < comp->h_samp_factor; h++) {
        const JDIMENSION bx = mx * comp->h_samp_factor + h;
        if (bx >= comp->width_in_blocks) break;
        float samples[64];
        if (fx == 1 && fy == 1) {
          // Full resolution (luma, 4:4:4 chroma): the samples are the MCU's own, no averaging.
          for (int j = 0; j < 8; j++) {
            const float* row = s->mcu.data() + (static_cast<size_t>(v * 8 + j) * mcuW + h * 8) * 3 + c;
            for (int i = 0; i < 8; i++) samples[j * 8 + i] = row[i * 3] - 128.0f;
          }
          ForwardDctQuantize(samples, divisors, rows[v][bx]);
          continue;
        }
        for (int j = 0; j < 8; j++) {
          for (int i = 0; i < 8; i++) {
            const int x0 = (h * 8 + i) * fx;
            const int y0 = (v * 8 + j) * fy;
            float sum = 0;
            for (int dy = 0; dy < fy; dy++) {
              for (int dx = 0; dx < fx; dx++) sum += s->mcu[(static_cast<size_t>(y0 + dy) * mcuW + x0 + dx) * 3 + c];
            }
            samples[j * 8 + i] = sum / static_cast<float>(fx * fy) - 128.0f;
          }
        }
        ForwardDctQuantize(samples, divisors, rows[v][bx]);
      }
    }
  }
}

bool SameHuffmanTable(const JHUFF_TBL* a, const JHUFF_TBL* b) {
  if (!a || !b) return a == b;
  if (std::memcmp(a->bits, b->bits, sizeof a->bits) != 0) return false;
  int count = 0;
  for (int i = 1; i <= 16; i++) count += a->bits[i];
  return std::memcmp(a->huffval, b->huffval, std::min(count, 256)) == 0;
}

// dst holds the standard tables at this point: jpeg_copy_critical_parameters set its defaults.
bool UsesStandardHuffmanTables(const jpeg_decompress_struct& src, const jpeg_compress_struct& dst) {
  if (src.progressive_mode || src.arith_code) return false;
  for (int i = 0; i < NUM_HUFF_TBLS; i++) {
    if (src.dc_huff_tbl_ptrs[i] && !SameHuffmanTable(src.dc_huff_tbl_ptrs[i], dst.dc_huff_tbl_ptrs[i])) return false;
    if (src.ac_huff_tbl_ptrs[i] && !SameHuffmanTable(src.ac_huff_tbl_ptrs[i], dst.ac_huff_tbl_ptrs[i])) return false;
  }
  return true;
}

const char* ColourSpaceName(J_COLOR_SPACE space) {
  switch (space) {
    case JCS_CMYK: return "CMYK";
    case JCS_YCCK: return "YCCK";
    case JCS_RGB: return "RGB";
    case JCS_GRAYSCALE: return "grayscale";
    case JCS_YCbCr: return "YCbCr";
    default: return "an unusual colour space";
  }
}

// false with result->declined set when the input cannot keep its blocks; libjpeg errors land here too.
bool Transcode(Session* s, const JpegBlocksJob& job, JpegBlocksResult* result) {
  if (setjmp(s->err.jump)) {
    result->declined = std::string("libjpeg: ") + s->err.message;
    return false;
  }
  jpeg_decompress_struct& src = s->src;
  jpeg_compress_struct& dst = s->dst;
  src.err = jpeg_std_error(&s->err.pub);
  s->err.pub.error_exit = OnError;
  s->err.pub.emit_message = OnMessage;
  jpeg_create_decompress(&src);
  s->srcCreated = true;
  jpeg_mem_src(&src, job.jpeg, static_cast<unsigned long>(job.jpegLength));
  jpeg_read_header(&src, TRUE);

  const bool ycc = src.jpeg_color_space == JCS_YCbCr && src.num_components == 3;
  const bool grey = src.jpeg_color_space == JCS_GRAYSCALE && src.num_components == 1;
  if (!ycc && !grey) {
    // CMYK/YCCK and RGB JPEGs are written as sRGB YCbCr like every other output (README, "HTTP API").
    result->declined = std::string("the input is ") + ColourSpaceName(src.jpeg_color_space) + ", the output sRGB";
    return false;
  }
  if (src.data_precision != 8) {
    result->declined = std::to_string(src.data_precision) + "-bit samples";
    return false;
  }
  if (static_cast<int>(src.image_width) != job.width || static_cast<int>(src.image_height) != job.height) {
    result->declined = "the decoded image is not the JPEG's stored size";
    return false;
  }
  for (int c = 0; c < src.num_components; c++) {
    const jpeg_component_info& comp = src.comp_info[c];
    if (src.max_h_samp_factor % comp.h_samp_factor != 0 || src.max_v_samp_factor % comp.v_samp_factor != 0) {
      result->declined = "non-integral chroma sampling ratios";
      return false;
    }
  }

  jvirt_barray_ptr* coefs = jpeg_read_coefficients(&src);
  if (s->err.warnings > 0) {
    result->declined = std::string("corrupt JPEG data (") + s->err.message + ")";
    return false;
  }

  dst.err = &s->err.pub;
  jpeg_create_compress(&dst);
  s->dstCreated = true;
  jpeg_copy_critical_parameters(&src, &dst);
  // An input coded with the standard Huffman tables is written with them again: they have a code
  // for every symbol the new blocks may need, and the size stays. Any other input keeps its own
  // tables (jpeg_huffman.h; extended by the symbols the new blocks need that they lack), checked once
  // the blocks are rewritten below; only a progressive or multi-scan input gets optimal ones, at the
  // price of a second entropy pass (the standard ones cost up to 17% more here).
  const bool standardTables = UsesStandardHuffmanTables(src, dst);
  dst.optimize_coding = standardTables ? FALSE : TRUE;
  if (src.progressive_mode) jpeg_simple_progression(&dst);
  dst.restart_interval = src.restart_interval;

  const int mcuW = 8 * src.max_h_samp_factor;
  const int mcuH = 8 * src.max_v_samp_factor;
  const int mcusX = (job.width + mcuW - 1) / mcuW;
  const int mcusY = (job.height + mcuH - 1) / mcuH;
  result->mcusTotal = static_cast<size_t>(mcusX) * mcusY;
  s->touched.assign(result->mcusTotal, 0);
  for (size_t i = 0; i * 4 < job.regions.size(); i++) {
    Rect rect;
    if (!ClipRegion(job.regions.data() + i * 4, job.width, job.height, &rect)) continue;
    for (int my = rect.y0 / mcuH; my <= (rect.y1 - 1) / mcuH; my++) {
      for (int mx = rect.x0 / mcuW; mx <= (rect.x1 - 1) / mcuW; mx++) s->touched[static_cast<size_t>(my) * mcusX + mx] = 1;
    }
  }
  s->mcu.resize(static_cast<size_t>(mcuW) * mcuH * 3);
  s->divisors.resize(static_cast<size_t>(src.num_components) * 64);
  for (int c = 0; c < src.num_components; c++) FillQuantDivisors(dst.quant_tbl_ptrs[src.comp_info[c].quant_tbl_no]->quantval, s->divisors.data() + c * 64);
  for (int my = 0; my < mcusY; my++) {
    for (int mx = 0; mx < mcusX; mx++) {
      if (!s->touched[static_cast<size_t>(my) * mcusX + mx]) continue;
      LoadMcu(job, mx, my, mcuW, mcuH, s->mcu.data());
      RewriteMcu(s, coefs, mx, my, mcuW);
      result->mcusRewritten++;
    }
  }

  MissingSymbols missing;
  if (standardTables) {
    result->huffman = "standard";
  } else if (FindMissingSymbols(&src, coefs, s->touched, mcusX, &missing)) {
    UseInputTables(src, missing, &dst);
    result->huffman = missing.count() == 0 ? "input" : "input-extended";
  } else {
    result->huffman = "optimal";
  }

  jpeg_mem_dest(&dst, &s->out, &s->outSize);
  jpeg_write_coefficients(&dst, coefs);
  for (const JpegMarker& marker : job.markers) {
    jpeg_write_marker(&dst, marker.code, marker.payload.data(), static_cast<unsigned int>(marker.payload.size()));
  }
  jpeg_finish_compress(&dst);
  jpeg_finish_decompress(&src);
  return true;
}

}  // namespace

void KeepJpegBlocks(const JpegBlocksJob& job, JpegBlocksResult* result) {
  Session s;
  std::memset(&s.src, 0, sizeof s.src);
  std::memset(&s.dst, 0, sizeof s.dst);
  s.err.warnings = 0;
  s.err.message[0] = '\0';
  result->kept = Transcode(&s, job, result);
  if (s.dstCreated) jpeg_destroy_compress(&s.dst);
  if (s.srcCreated) jpeg_destroy_decompress(&s.src);
  if (result->kept) {
    result->output = s.out;
    result->outputLength = s.outSize;
  } else {
    std::free(s.out);
  }
}

bool JpegBlocksCompiled(std::string* version) {
#ifdef LIBJPEG_TURBO_VERSION
#define PIXVEIL_STRINGIFY2(x) #x
#define PIXVEIL_STRINGIFY(x) PIXVEIL_STRINGIFY2(x)
  *version = "libjpeg-turbo " PIXVEIL_STRINGIFY(LIBJPEG_TURBO_VERSION);
#else
  *version = "libjpeg " + std::to_string(JPEG_LIB_VERSION);
#endif
  return true;
}

}  // namespace pixveil
