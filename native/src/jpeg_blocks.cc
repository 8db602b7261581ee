// The libjpeg-turbo side of keeping JPEG blocks: read the input's coefficients, re-encode the MCUs
// under changed regions from the blurred pixels (libjpeg-turbo's encoder, the input's sampling and
// quantisation tables), write every other block back as it was. Compiled only when libjpeg-turbo is found at build time.
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
  // A band of whole MCUs of the blurred image, encoded by libjpeg-turbo and read back (EncodeBand).
  jpeg_compress_struct band;
  jpeg_decompress_struct bandRead;
  bool bandCreated = false;
  bool bandReadCreated = false;
  unsigned char* bandOut = nullptr;
  unsigned long bandSize = 0;
};

// The touched MCUs of one band of MCU rows [my0, my1], columns [mx0, mx1], re-encoded from the
// blurred pixels by libjpeg-turbo's own encoder (its SIMD colour conversion, downsampling and DCT,
// what a whole re-encode runs) with the input's sampling and quantisation tables; the little JPEG is
// read back and its blocks copied over the input's. Each MCU's coefficients depend on its own
// pixels only (no smoothing), and a band ending at the image's edge is padded as the whole image
// would be, so a block comes out as a whole re-encode would have made it. libjpeg errors jump to
// Transcode's handler; the structs live in the Session, destroyed there.
void EncodeBand(Session* s, const JpegBlocksJob& job, jvirt_barray_ptr* coefs, int mcusX, int mx0, int mx1, int my0, int my1) {
  jpeg_decompress_struct& src = s->src;
  const int mcuW = 8 * src.max_h_samp_factor;
  const int mcuH = 8 * src.max_v_samp_factor;
  const int x0 = mx0 * mcuW;
  const int y0 = my0 * mcuH;
  const int width = std::min(job.width, (mx1 + 1) * mcuW) - x0;
  const int height = std::min(job.height, (my1 + 1) * mcuH) - y0;

  jpeg_compress_struct& c = s->band;
  if (!s->bandCreated) {
    c.err = &s->err.pub;
    jpeg_create_compress(&c);
    s->bandCreated = true;
  }
  std::free(s->bandOut);
  s->bandOut = nullptr;
  s->bandSize = 0;
  jpeg_mem_dest(&c, &s->bandOut, &s->bandSize);
  c.image_width = static_cast<JDIMENSION>(width);
  c.image_height = static_cast<JDIMENSION>(height);
  c.input_components = job.channels;
  c.in_color_space = job.channels == 4 ? JCS_EXT_RGBX : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_colorspace(&c, src.jpeg_color_space);
  for (int i = 0; i < NUM_QUANT_TBLS; i++) {
    const JQUANT_TBL* table = s->dst.quant_tbl_ptrs[i];
    if (!table) continue;
    if (!c.quant_tbl_ptrs[i]) c.quant_tbl_ptrs[i] = jpeg_alloc_quant_table(reinterpret_cast<j_common_ptr>(&c));
    std::memcpy(c.quant_tbl_ptrs[i]->quantval, table->quantval, sizeof table->quantval);
  }
  for (int i = 0; i < src.num_components; i++) {
    c.comp_info[i].h_samp_factor = src.comp_info[i].h_samp_factor;
    c.comp_info[i].v_samp_factor = src.comp_info[i].v_samp_factor;
    c.comp_info[i].quant_tbl_no = src.comp_info[i].quant_tbl_no;
  }
  jpeg_start_compress(&c, TRUE);
  const size_t stride = static_cast<size_t>(job.width) * job.channels;
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(job.pixels + (static_cast<size_t>(y0) + c.next_scanline) * stride + static_cast<size_t>(x0) * job.channels);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);

  jpeg_decompress_struct& d = s->bandRead;
  if (!s->bandReadCreated) {
    d.err = &s->err.pub;
    jpeg_create_decompress(&d);
    s->bandReadCreated = true;
  }
  jpeg_mem_src(&d, s->bandOut, s->bandSize);
  jpeg_read_header(&d, TRUE);
  jvirt_barray_ptr* bandCoefs = jpeg_read_coefficients(&d);
  for (int my = my0; my <= my1; my++) {
    for (int ci = 0; ci < src.num_components; ci++) {
      const jpeg_component_info& comp = src.comp_info[ci];
      const int hs = comp.h_samp_factor, vs = comp.v_samp_factor;
      JBLOCKARRAY to = (*src.mem->access_virt_barray)(reinterpret_cast<j_common_ptr>(&src), coefs[ci], static_cast<JDIMENSION>(my * vs), static_cast<JDIMENSION>(vs), TRUE);
      JBLOCKARRAY from = (*d.mem->access_virt_barray)(reinterpret_cast<j_common_ptr>(&d), bandCoefs[ci], static_cast<JDIMENSION>((my - my0) * vs), static_cast<JDIMENSION>(vs), FALSE);
      for (int mx = mx0; mx <= mx1; mx++) {
        if (!s->touched[static_cast<size_t>(my) * mcusX + mx]) continue;
        for (int v = 0; v < vs; v++) {
          if (static_cast<JDIMENSION>(my * vs + v) >= comp.height_in_blocks) break;
          for (int h = 0; h < hs; h++) {
            const JDIMENSION bx = static_cast<JDIMENSION>(mx * hs + h);
            if (bx >= comp.width_in_blocks) break;
            std::memcpy(to[v][bx], from[v][bx - static_cast<JDIMENSION>(mx0 * hs)], sizeof(JBLOCK));
          }
        }
      }
    }
  }
  jpeg_abort_decompress(&d);
}

// Re-encodes every touched MCU, one band of consecutive touched MCU rows at a time (spanning the
// band's leftmost to rightmost touched column), so far-apart faces do not re-encode the rows between.
size_t RewriteTouched(Session* s, const JpegBlocksJob& job, jvirt_barray_ptr* coefs, int mcusX, int mcusY) {
  size_t rewritten = 0;
  int bandStart = -1, lo = mcusX, hi = -1;
  // One row past the last closes a band that reaches the bottom.
  for (int my = 0; my <= mcusY; my++) {
    int rowLo = mcusX, rowHi = -1;
    for (int mx = 0; my < mcusY && mx < mcusX; mx++) {
      if (!s->touched[static_cast<size_t>(my) * mcusX + mx]) continue;
      rowLo = std::min(rowLo, mx);
      rowHi = mx;
      rewritten++;
    }
    if (rowHi >= 0) {
      if (bandStart < 0) bandStart = my;
      lo = std::min(lo, rowLo);
      hi = std::max(hi, rowHi);
    } else if (bandStart >= 0) {
      EncodeBand(s, job, coefs, mcusX, lo, hi, bandStart, my - 1);
      bandStart = -1;
      lo = mcusX;
      hi = -1;
    }
  }
  return rewritten;
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
  result->mcusRewritten = RewriteTouched(s, job, coefs, mcusX, mcusY);

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
  std::memset(&s.band, 0, sizeof s.band);
  std::memset(&s.bandRead, 0, sizeof s.bandRead);
  s.err.warnings = 0;
  s.err.message[0] = '\0';
  result->kept = Transcode(&s, job, result);
  if (s.bandReadCreated) jpeg_destroy_decompress(&s.bandRead);
  if (s.bandCreated) jpeg_destroy_compress(&s.band);
  std::free(s.bandOut);
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
