#pragma once

#include <ATen/ATen.h>

#include <functional>

namespace therapeia {

// y = x @ w^T for the many rows of a prefill on CPU, when w is stored narrower than float32:
// bfloat16 on CPUs without AVX512_BF16, and 8-bit weights (int8_linear.h).
//
// Why: on a CPU without AVX512_BF16, oneDNN (behind at::linear) runs bfloat16 GEMMs on a slow
// reference path, five times slower than our float32 prefill. Widening a block of weight rows
// into a float32 buffer that stays in L2 and multiplying every input row by it with MKL's float32
// GEMM widens each weight once per call, not once per input row, and runs at nearly float32's
// speed. (Our own register-blocked GEMM that widened while packing reached about half of MKL's:
// 325 against 595 prompt tokens/s on the SmolLM2 shape, AVX2, 2 threads.)

// Writes weight rows [n0, n0 + rows) of the [N, K] weight as float32 into out [rows, K].
using WidenRows = std::function<void(int64_t n0, int64_t rows, float* out)>;

// x32: [M, K] float32, contiguous. Returns y [M, N] float32; threads split the weight rows.
at::Tensor widened_gemm(const at::Tensor& x32, int64_t N, const WidenRows& widen_rows);

// x: [..., K] bfloat16; w: [N, K] bfloat16, contiguous; bias: [N] or undefined. Accumulates in
// float32 and rounds once to bfloat16, as at::linear does. Returns [..., N].
bool bfloat16_gemm_applies(const at::Tensor& x, const at::Tensor& w);
at::Tensor bfloat16_gemm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias);

}  // namespace therapeia
