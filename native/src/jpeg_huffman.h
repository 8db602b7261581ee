// Which Huffman tables a JPEG written from copied coefficients is coded with. An input coded with
// its own (optimised) tables keeps them, so the output needs no second entropy pass to make optimal
// ones (jpeg_blocks.cc); a re-encoded block may need a symbol those tables have no code for
// (libjpeg-turbo's encoder does not check, and the stream would be silently corrupt), so such a
// table is rebuilt with the missing symbols added at the longest lengths and the others' lengths
// kept as far as the limit of 16 bits allows. Compiled with libjpeg-turbo only.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <vector>

#include <jpeglib.h>

namespace pixveil {

// Symbols the output needs that the input's tables have no code for, per table slot.
struct MissingSymbols {
  std::bitset<256> dc[NUM_HUFF_TBLS];
  std::bitset<256> ac[NUM_HUFF_TBLS];
  size_t count() const;
};

// False when the input's tables cannot serve (progressive, arithmetic coding, several scans).
// Otherwise walks one baseline interleaved scan of `coefs`, as jpeg_write_coefficients writes it
// (dummy blocks and restart intervals included), and fills `missing`. `rewritten` (one flag per MCU,
// row-major, mcusX per row) marks the MCUs re-encoded: only their blocks can hold AC symbols the
// input never coded; every block's DC difference is checked, since a rewritten block changes the next.
bool FindMissingSymbols(jpeg_decompress_struct* src, jvirt_barray_ptr* coefs, const std::vector<uint8_t>& rewritten, int mcusX, MissingSymbols* missing);

// Puts the input's tables (extended by `missing` where needed) and each component's table numbers
// into dst, after jpeg_copy_critical_parameters, to be written as they are (optimize_coding off).
void UseInputTables(const jpeg_decompress_struct& src, const MissingSymbols& missing, jpeg_compress_struct* dst);

}  // namespace pixveil
