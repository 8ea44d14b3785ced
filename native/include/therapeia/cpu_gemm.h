#pragma once

#include <ATen/ATen.h>

namespace therapeia {

// y = x @ w^T + bias for the many rows of a prefill on CPU: a tiled GEMM that widens bfloat16
// weights to float32 in registers.
//
// Why: on a CPU without AVX512_BF16, oneDNN (behind at::linear) runs bfloat16 GEMMs on a slow
// reference path, five times slower than llama.cpp's and than our own float32 prefill. Widening
// the weights to float32 while packing them costs little (a packed panel is reused for every row
// block) and turns the product into a float32 GEMM with register blocking, at float32's speed.
//
// The kernel packs a [16 or 32, kc] block of w into a [kc, 16 or 32] float32 panel (columns of the
// output side by side) and runs a register-blocked micro-kernel (6 x 16 on AVX2, 12 x 32 on
// AVX-512) over every block of rows of x; threads split the output columns.
//
// x: [..., K] float32 or bfloat16; w: [N, K] of the same dtype, contiguous; bias: [N] or undefined.
// Accumulates in float32 and rounds once to x's dtype, as at::linear does. Returns [..., N].
bool tiled_gemm_applies(const at::Tensor& x, const at::Tensor& w);
at::Tensor tiled_gemm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias);

}  // namespace therapeia
