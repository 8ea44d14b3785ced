#pragma once

#include <ATen/ATen.h>

#include <string>
#include <utility>
#include <vector>

#include "therapeia/quantize.h"
#include "therapeia/weights.h"

namespace therapeia {

// The weight of a linear layer as the model holds it: a tensor in the compute dtype, or 8-bit
// (dtype int8). Exactly one of the two is defined.
struct LinearWeight {
  at::Tensor dense;  // [..., N, K] in the compute dtype, or undefined
  Int8Weight int8;   // values undefined unless the model runs with 8-bit weights

  bool defined() const { return dense.defined() || int8.values.defined(); }
  // Expert e of stacked expert weights [E, N, K].
  LinearWeight operator[](int64_t e) const;
};

// The checkpoint tensors `parts` (name, shape), stacked along N (fused q/k/v, gate/up): in
// `options`, or quantized to 8 bits from their stored dtype when `int8` is set.
LinearWeight load_linear(const WeightStore& weights, const std::vector<std::pair<std::string, std::vector<int64_t>>>& parts,
                         const at::TensorOptions& options, bool int8);

// Expert weights [N, K] stacked into [E, N, K].
LinearWeight stack_experts(const std::vector<LinearWeight>& experts);

// x @ w^T + bias with the kernel for how w is held.
at::Tensor apply_linear(const at::Tensor& x, const LinearWeight& w, const at::Tensor& bias = {});

}  // namespace therapeia
