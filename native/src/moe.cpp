#include "therapeia/moe.h"

#include "therapeia/cpu_linear.h"
#include "therapeia/error.h"

namespace therapeia {
at::Tensor activate(const std::string& hidden_act, const at::Tensor& x) {
  if (hidden_act == "silu") return at::silu(x);
  if (hidden_act == "gelu_pytorch_tanh") return at::gelu(x, "tanh");
  return at::gelu(x);
}

MoeWeights load_moe_weights(const WeightStore& weights, const ModelConfig& c, int64_t layer,
                            const at::TensorOptions& options, bool int8) {
  const int64_t E = c.moe.num_experts, H = c.hidden_size, I = c.moe.expert_intermediate_size;
  const std::string layer_prefix = "model.layers." + std::to_string(layer) + ".";
  // Mixtral checkpoints on the Hub say `block_sparse_moe`; transformers 5 names it `mlp`.
  const bool mixtral_names = weights.contains(layer_prefix + "block_sparse_moe.gate.weight");
  const std::string p = layer_prefix + (mixtral_names ? "block_sparse_moe." : "mlp.");
  auto load = [&](const std::string& name, const std::vector<int64_t>& shape) {
    return weights.get(name, shape).to(options).contiguous();
  };
  auto linear = [&](const std::vector<std::pair<std::string, std::vector<int64_t>>>& parts) {
    return load_linear(weights, parts, options, int8);
  };
  MoeWeights w;
  w.router = load(p + "gate.weight", {E, H});
  if (weights.contains(p + "experts.gate_up_proj")) {
    w.gate_up = linear({{p + "experts.gate_up_proj", {E, 2 * I, H}}});
    w.down = linear({{p + "experts.down_proj", {E, H, I}}});
  } else {
    const std::string gate = mixtral_names ? "w1" : "gate_proj";
    const std::string up = mixtral_names ? "w3" : "up_proj";
    const std::string down = mixtral_names ? "w2" : "down_proj";
    const std::string extra = p + "experts." + std::to_string(E) + "." + gate + ".weight";
    if (weights.contains(extra)) {
      throw Error("tensor '" + extra + "' exists, but config.json declares " + std::to_string(E) +
                  " experts: the expert count does not match the checkpoint");
    }
    std::vector<LinearWeight> gate_up, downs;
    for (int64_t e = 0; e < E; ++e) {
      const std::string q = p + "experts." + std::to_string(e) + ".";
      gate_up.push_back(linear({{q + gate + ".weight", {I, H}}, {q + up + ".weight", {I, H}}}));
      downs.push_back(linear({{q + down + ".weight", {H, I}}}));
    }
    w.gate_up = stack_experts(gate_up);  // [E, 2I, H]
    w.down = stack_experts(downs);       // [E, H, I]
  }
  if (c.moe.shared_expert_intermediate_size > 0) {
    const int64_t S = c.moe.shared_expert_intermediate_size;
    w.shared_gate_up = linear({{p + "shared_expert.gate_proj.weight", {S, H}}, {p + "shared_expert.up_proj.weight", {S, H}}});
    w.shared_down = linear({{p + "shared_expert.down_proj.weight", {H, S}}});
    w.shared_gate = load(p + "shared_expert_gate.weight", {1, H});
  }
  return w;
}

at::Tensor moe_forward(const MoeWeights& w, const ModelConfig& c, const at::Tensor& x) {
  const int64_t k = c.moe.experts_per_token;
  // Router in float32, as transformers does: softmax, top-k, optional renormalisation.
  auto probabilities = apply_linear(x, w.router).to(at::kFloat).softmax(-1);  // [N, E]
  auto [top_weights, top_experts] = probabilities.topk(k, -1);              // [N, k]
  if (c.moe.normalize_top_k) top_weights = top_weights / top_weights.sum(-1, /*keepdim=*/true);
  if (!c.moe.float32_routing_weights) top_weights = top_weights.to(x.scalar_type());

  // Group the N * k (token, expert) pairs by expert; walk experts in index order as
  // transformers does, so the sums accumulate in the same order.
  auto flat_experts = top_experts.flatten();                                   // [N * k]
  auto [sorted_experts, order] = flat_experts.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false);
  auto counts = at::bincount(flat_experts, {}, c.moe.num_experts).cpu();       // [E]
  auto tokens = order.div(k, "floor");                                         // [N * k] token of each pair
  auto pair_weights = top_weights.flatten().index_select(0, order);            // [N * k]
  auto out = at::zeros_like(x);                                                // [N, H]
  const int64_t* count = counts.data_ptr<int64_t>();
  int64_t start = 0;
  for (int64_t e = 0; e < c.moe.num_experts; ++e) {
    if (count[e] == 0) continue;
    auto token_ids = tokens.narrow(0, start, count[e]);
    auto gate_up = apply_linear(x.index_select(0, token_ids), w.gate_up[e]).chunk(2, -1);  // 2 x [n, I]
    auto expert_out = apply_linear(activate(c.hidden_act, gate_up[0]) * gate_up[1], w.down[e]);  // [n, H]
    expert_out = expert_out * pair_weights.narrow(0, start, count[e]).unsqueeze(-1);
    out.index_add_(0, token_ids, expert_out.to(out.scalar_type()));
    start += count[e];
  }
  if (w.shared_gate_up.defined()) {
    auto halves = apply_linear(x, w.shared_gate_up).chunk(2, -1);
    auto shared = apply_linear(activate(c.hidden_act, halves[0]) * halves[1], w.shared_down);
    out = out + at::sigmoid(apply_linear(x, w.shared_gate)) * shared;
  }
  return out;
}

}  // namespace therapeia
