#pragma once

#include <ATen/ATen.h>

#include <chrono>

namespace therapeia {

// y = x @ w^T + bias for the few rows of a decode step on CPU.
//
// Why: batch-1 decode is a matrix-vector product per weight matrix, bound by memory bandwidth.
// MKL's sgemv reaches about half of this machine's DRAM read bandwidth and does not scale with
// threads for these shapes; a plain AVX2 dot-product kernel split over the intra-op threads
// streams the weights at close to full bandwidth, and reads them once for up to 8 rows.
//
// bfloat16 weights: multiplied by vdpbf16ps where the CPU has AVX512_BF16, else widened to
// float32 in registers by a shift and a mask on 32-bit lanes (half the bytes of float32 to
// stream). Up to 8 rows, each block of weight rows is read once for all input rows (register
// blocking over rows), so a batch-8 step reads the weights once. The weights are prefetched
// ahead into L2 (weight_prefetch.h). AVX-512 where the CPU has it, else AVX2.
//
// x: [..., K] float32 or bfloat16 with at most kSmallLinearMaxRows rows; w: [N, K] of the same
// dtype, contiguous; bias: [N] or undefined. Returns [..., N] in x's dtype.
constexpr int64_t kSmallLinearMaxRows = 8;

// True when small_linear can run this product (CPU, AVX2+FMA, dtypes, few rows).
bool small_linear_applies(const at::Tensor& x, const at::Tensor& w);
at::Tensor small_linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias);

// y = x @ w^T + bias on any device: small_linear for the few rows of a decode step, bfloat16_gemm
// (cpu_gemm.h) for bfloat16 prefill on CPUs without AVX512_BF16, at::linear otherwise (float32
// prefill: MKL; bfloat16 from 9 rows on with AVX512_BF16: oneDNN's native bfloat16 kernels).
at::Tensor apply_linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias = {});

// Wall time spent in apply_linear since the process started, all threads summed, in nanoseconds:
// the benchmark subtracts it from a decode step's time to show what the step spends outside
// the weight-reading kernels.
int64_t linear_nanoseconds();

// Adds the wall time of its scope to linear_nanoseconds(): around every weight-reading kernel call.
class LinearTimer {
 public:
  LinearTimer() : start_(std::chrono::steady_clock::now()) {}
  ~LinearTimer();
  LinearTimer(const LinearTimer&) = delete;
  LinearTimer& operator=(const LinearTimer&) = delete;

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace therapeia
