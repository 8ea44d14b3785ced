#pragma once

#include <ATen/ATen.h>

#include "therapeia/quantize.h"

namespace therapeia {

// y = x @ dequantize(w)^T + bias on CPU, with activations in float32.
//
// Why our own kernels: a decode step reads every weight once per token, so it is bound by memory
// bandwidth, and 8-bit weights are a quarter of float32's bytes. Up to kInt8DecodeMaxRows rows,
// each weight row is widened to float32 in registers and read once for all rows (AVX-512 where
// present, else AVX2). Longer inputs (prefill) widen a block of weight rows into a small float32
// buffer that stays in cache, and multiply all input rows by it with the float32 GEMM
// (widened_gemm, cpu_gemm.h).
//
// x: [..., K]; w: [N, K]; bias: [N] or undefined. Returns [..., N] in x's dtype.
constexpr int64_t kInt8DecodeMaxRows = 8;

at::Tensor int8_linear(const at::Tensor& x, const Int8Weight& w, const at::Tensor& bias = {});

}  // namespace therapeia
