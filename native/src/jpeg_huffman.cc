// See jpeg_huffman.h. The scan walk mirrors libjpeg's transcoder (jctrans.c, compress_output): the
// MCU order, the dummy blocks at the right and bottom edges (AC zero, DC copied from the block before
// it in the MCU) and the DC predictor reset at every restart interval. Table building follows the
// JPEG standard's Annex K.2 (code lengths from frequencies, limited to 16 bits, the all-ones code
// reserved), fed with pseudo-frequencies that reproduce the input's own code lengths.
#include "jpeg_huffman.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace pixveil {
namespace {

// Zigzag position → natural (row-major) index, the order AC coefficients are coded in.
const int kZigzag[64] = {0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
                         41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
                         30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

// Magnitude category of a coefficient: the number of bits of |value|.
int Category(int value) {
  unsigned int v = static_cast<unsigned int>(std::abs(value));
  int bits = 0;
  for (; v; v >>= 1) bits++;
  return bits;
}

int SymbolCount(const JHUFF_TBL* table) {
  int count = 0;
  for (int i = 1; i <= 16; i++) count += table->bits[i];
  return std::min(count, 256);
}

// The symbols a table has a code for.
std::bitset<256> Coded(const JHUFF_TBL* table) {
  std::bitset<256> out;
  if (!table) return out;
  for (int i = 0; i < SymbolCount(table); i++) out.set(table->huffval[i]);
  return out;
}

// Records every AC symbol of one block (run/size pairs, ZRL, EOB) that the table lacks.
void NoteAcSymbols(const JCOEF* block, const std::bitset<256>& coded, std::bitset<256>* missing) {
  int run = 0;
  for (int k = 1; k < 64; k++) {
    const int value = block[kZigzag[k]];
    if (value == 0) {
      run++;
      continue;
    }
    for (; run > 15; run -= 16) {
      if (!coded[0xF0]) missing->set(0xF0);
    }
    const int symbol = (run << 4) | Category(value);
    if (!coded[symbol]) missing->set(symbol);
    run = 0;
  }
  if (run > 0 && !coded[0x00]) missing->set(0x00);
}

// Annex K.2: code lengths for symbols 0..255 with the given frequencies (0 = absent), limited to 16
// bits, one code point reserved so no code is all ones. Writes bits[1..16] and huffval.
void BuildTable(const long frequencies[256], JHUFF_TBL* table) {
  long freq[257];
  int codesize[257], others[257];
  std::copy(frequencies, frequencies + 256, freq);
  freq[256] = 1;  // the reserved code point, always the least frequent
  std::fill(codesize, codesize + 257, 0);
  std::fill(others, others + 257, -1);
  for (;;) {
    // The two least frequent trees (ties to the higher symbol, as the standard's flow chart).
    int c1 = -1, c2 = -1;
    long v1 = 1000000000L, v2 = 1000000000L;
    for (int i = 0; i <= 256; i++) {
      if (freq[i] && freq[i] <= v1) {
        c2 = c1, v2 = v1;
        c1 = i, v1 = freq[i];
      } else if (freq[i] && freq[i] <= v2) {
        c2 = i, v2 = freq[i];
      }
    }
    if (c2 < 0) break;
    freq[c1] += freq[c2];
    freq[c2] = 0;
    for (codesize[c1]++; others[c1] >= 0; codesize[c1]++) c1 = others[c1];
    others[c1] = c2;
    for (codesize[c2]++; others[c2] >= 0; codesize[c2]++) c2 = others[c2];
  }
  int bits[33] = {0};
  for (int i = 0; i <= 256; i++) {
    if (codesize[i]) bits[std::min(codesize[i], 32)]++;
  }
  // Annex K.3: move codes longer than 16 bits up, two at a time, splitting a shorter one.
  for (int i = 32; i > 16; i--) {
    while (bits[i] > 0) {
      int j = i - 2;
      while (bits[j] == 0) j--;
      bits[i] -= 2;
      bits[i - 1]++;
      bits[j + 1] += 2;
      bits[j]--;
    }
  }
  int longest = 16;
  while (bits[longest] == 0) longest--;
  bits[longest]--;  // the reserved code point's
  std::memset(table->bits, 0, sizeof table->bits);
  for (int i = 1; i <= 16; i++) table->bits[i] = static_cast<UINT8>(bits[i]);
  // Symbols by code length (the lengths assigned above, in order), then by value.
  int p = 0;
  for (int length = 1; length <= 32; length++) {
    for (int s = 0; s < 256; s++) {
      if (codesize[s] == length) table->huffval[p++] = static_cast<UINT8>(s);
    }
  }
}

// The input's table with `missing` added: pseudo-frequencies 2^(16 - length) give back the
// input's lengths (an optimal code for them), the new symbols the least frequency there is.
void ExtendTable(const JHUFF_TBL& input, const std::bitset<256>& missing, JHUFF_TBL* out) {
  long freq[256] = {0};
  int p = 0;
  for (int length = 1; length <= 16; length++) {
    for (int n = 0; n < input.bits[length] && p < 256; n++) freq[input.huffval[p++]] = 1L << (16 - length);
  }
  for (int s = 0; s < 256; s++) {
    if (missing[s]) freq[s] = 1;
  }
  BuildTable(freq, out);
}

}  // namespace

size_t MissingSymbols::count() const {
  size_t n = 0;
  for (int i = 0; i < NUM_HUFF_TBLS; i++) n += dc[i].count() + ac[i].count();
  return n;
}

bool FindMissingSymbols(jpeg_decompress_struct* src, jvirt_barray_ptr* coefs, const std::vector<uint8_t>& rewritten, int mcusX, MissingSymbols* missing) {
  // One interleaved scan of every component is what jpeg_write_coefficients writes; an input of
  // several sequential scans may have redefined its tables between them.
  if (src->progressive_mode || src->arith_code || src->input_scan_number != 1 || src->comps_in_scan != src->num_components) return false;
  std::bitset<256> dc[NUM_HUFF_TBLS], ac[NUM_HUFF_TBLS];
  for (int i = 0; i < NUM_HUFF_TBLS; i++) {
    dc[i] = Coded(src->dc_huff_tbl_ptrs[i]);
    ac[i] = Coded(src->ac_huff_tbl_ptrs[i]);
  }
  const int n = src->num_components;
  const bool single = n == 1;  // a one-component scan is not interleaved: its MCU is one block
  const int mcuRows = single ? static_cast<int>(src->comp_info[0].height_in_blocks) : static_cast<int>(src->MCU_rows_in_scan);
  const int mcuCols = single ? static_cast<int>(src->comp_info[0].width_in_blocks) : static_cast<int>(src->MCUs_per_row);
  const long restart = static_cast<long>(src->restart_interval);
  int lastDc[MAX_COMPONENTS] = {0};
  long mcuIndex = 0;
  for (int my = 0; my < mcuRows; my++) {
    JBLOCKARRAY rows[MAX_COMPONENTS];
    for (int c = 0; c < n; c++) {
      const JDIMENSION perMcu = single ? 1 : static_cast<JDIMENSION>(src->comp_info[c].v_samp_factor);
      rows[c] = (*src->mem->access_virt_barray)(reinterpret_cast<j_common_ptr>(src), coefs[c], static_cast<JDIMENSION>(my) * perMcu, perMcu, FALSE);
    }
    for (int mx = 0; mx < mcuCols; mx++, mcuIndex++) {
      if (restart > 0 && mcuIndex % restart == 0) std::fill(lastDc, lastDc + MAX_COMPONENTS, 0);
      const size_t flag = single ? static_cast<size_t>(my / src->max_v_samp_factor) * mcusX + mx / src->max_h_samp_factor : static_cast<size_t>(my) * mcusX + mx;
      const bool changed = rewritten[flag] != 0;
      int previousDc = 0;  // the block before in this MCU, whose DC a dummy block copies
      for (int c = 0; c < n; c++) {
        const jpeg_component_info& comp = src->comp_info[c];
        const int w = single ? 1 : comp.h_samp_factor;
        const int h = single ? 1 : comp.v_samp_factor;
        for (int v = 0; v < h; v++) {
          const JDIMENSION by = static_cast<JDIMENSION>(my * h + v);
          for (int u = 0; u < w; u++) {
            const JDIMENSION bx = static_cast<JDIMENSION>(mx * w + u);
            int dcValue = previousDc;
            if (by < comp.height_in_blocks && bx < comp.width_in_blocks) {
              const JCOEF* block = rows[c][v][bx];
              dcValue = block[0];
              if (changed) NoteAcSymbols(block, ac[comp.ac_tbl_no], &missing->ac[comp.ac_tbl_no]);
            } else if (!ac[comp.ac_tbl_no][0x00]) {
              missing->ac[comp.ac_tbl_no].set(0x00);  // a dummy block is one EOB
            }
            const int category = Category(dcValue - lastDc[c]);
            if (!dc[comp.dc_tbl_no][category]) missing->dc[comp.dc_tbl_no].set(category);
            lastDc[c] = dcValue;
            previousDc = dcValue;
          }
        }
      }
    }
  }
  return true;
}

void UseInputTables(const jpeg_decompress_struct& src, const MissingSymbols& missing, jpeg_compress_struct* dst) {
  const auto install = [dst](const JHUFF_TBL* from, const std::bitset<256>& add, JHUFF_TBL** to) {
    if (!from) return;
    if (!*to) *to = jpeg_alloc_huff_table(reinterpret_cast<j_common_ptr>(dst));
    if (add.any()) {
      ExtendTable(*from, add, *to);
    } else {
      std::memcpy((*to)->bits, from->bits, sizeof from->bits);
      std::memcpy((*to)->huffval, from->huffval, sizeof from->huffval);
    }
    (*to)->sent_table = FALSE;
  };
  for (int i = 0; i < NUM_HUFF_TBLS; i++) {
    install(src.dc_huff_tbl_ptrs[i], missing.dc[i], &dst->dc_huff_tbl_ptrs[i]);
    install(src.ac_huff_tbl_ptrs[i], missing.ac[i], &dst->ac_huff_tbl_ptrs[i]);
  }
  for (int c = 0; c < src.num_components; c++) {
    dst->comp_info[c].dc_tbl_no = src.comp_info[c].dc_tbl_no;
    dst->comp_info[c].ac_tbl_no = src.comp_info[c].ac_tbl_no;
  }
  dst->optimize_coding = FALSE;
}

}  // namespace pixveil
