#pragma once

#include <ATen/ATen.h>

namespace therapeia {

// y = x @ w^T + bias for the few rows of a decode step on CPU.
//
// Why: batch-1 decode is a matrix-vector product per weight matrix, bound by memory bandwidth.
// MKL's sgemv reaches about half of this machine's DRAM read bandwidth and does not scale with
// threads for these shapes; a plain AVX2 dot-product kernel split over the intra-op threads
// streams the weights at close to full bandwidth, and reads them once for up to 8 rows.
//
// x: [..., K] float32 or bfloat16 with at most kMaxRows rows; w: [N, K] of the same dtype,
// contiguous; bias: [N] or undefined. Returns [..., N] in x's dtype.
constexpr int64_t kSmallLinearMaxRows = 8;
constexpr int64_t kSmallLinearMaxBfloat16Rows = 2;

// True when small_linear can run this product (CPU, AVX2+FMA, dtypes, few rows).
bool small_linear_applies(const at::Tensor& x, const at::Tensor& w);
at::Tensor small_linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias);

// at::linear, or small_linear where it applies.
at::Tensor apply_linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias = {});

}  // namespace therapeia
