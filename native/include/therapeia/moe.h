#pragma once

#include <ATen/ATen.h>

#include <string>

#include "therapeia/config.h"
#include "therapeia/linear_weight.h"
#include "therapeia/weights.h"

namespace therapeia {

// Weights of one mixture-of-experts block, stacked per expert whatever the checkpoint layout.
struct MoeWeights {
  at::Tensor router;          // [E, H]
  LinearWeight gate_up;         // [E, 2 * I, H]
  LinearWeight down;            // [E, H, I]
  LinearWeight shared_gate_up;  // [2 * Is, H] (Qwen2-MoE) or undefined
  LinearWeight shared_down;     // [H, Is] or undefined
  at::Tensor shared_gate;     // [1, H] or undefined
};

// The MLP activation named by config.json's hidden_act (silu, gelu_pytorch_tanh, gelu), shared
// by the dense MLP and the experts.
at::Tensor activate(const std::string& hidden_act, const at::Tensor& x);

// Loads the MoE block of `layer` from either layout users meet: one tensor per expert
// (`experts.N.{gate,up,down}_proj` or Mixtral's `experts.N.w1/w3/w2`, under `mlp.` or
// Mixtral's `block_sparse_moe.`), or stacked 3-D `experts.gate_up_proj` [E, 2I, H] and
// `experts.down_proj` [E, H, I]. Throws naming the tensor or field when the tensors do not
// match the expert count or shapes of the config. With `int8`, the experts' and the shared
// expert's projections are 8-bit; the router and the shared expert's gate stay in `options`.
MoeWeights load_moe_weights(const WeightStore& weights, const ModelConfig& config, int64_t layer,
                            const at::TensorOptions& options, bool int8);

// x: [N, H] -> [N, H]. Routes every token to its top-k experts and computes only those:
// tokens are grouped by expert, one GEMM pair per expert that received any.
at::Tensor moe_forward(const MoeWeights& w, const ModelConfig& config, const at::Tensor& x);

}  // namespace therapeia
