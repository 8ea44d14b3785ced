#pragma once

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace therapeia {

// Symmetric 8-bit weights, quantized at load from a float32, bfloat16 or float16 checkpoint:
// w[..., n, k] ~= scales[..., n, k / G] * values[..., n, k], with values in [-127, 127].
//
// Why groups of 32 along K: one scale per group keeps an outlier weight from coarsening its whole
// row; per output row (G = K) is used only where K is not a multiple of 32.
struct Int8Weight {
  at::Tensor values;       // [..., N, K] int8
  at::Tensor scales;       // [..., N, K / G] float32
  int64_t group_size = 0;  // G

  int64_t out_features() const { return values.size(-2); }
  int64_t in_features() const { return values.size(-1); }
  // Expert e of a stacked [E, N, K] weight.
  Int8Weight operator[](int64_t e) const { return {values[e], scales[e], group_size}; }
};

constexpr int64_t kInt8GroupSize = 32;

// w: [..., N, K] floating point, finite (throws therapeia::Error naming `name` otherwise).
Int8Weight quantize_int8(const at::Tensor& w, const std::string& name);

// The float32 weight the 8-bit one stands for: [..., N, K]. For tests and CPUs without AVX2.
at::Tensor dequantize(const Int8Weight& w);

// Rows of several weights with the same K, one after the other (fused q/k/v, gate/up).
Int8Weight concat_rows(const std::vector<Int8Weight>& parts);

// Parts of the same shape stacked along a new first dimension (experts).
Int8Weight stack(const std::vector<Int8Weight>& parts);

}  // namespace therapeia
