#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "therapeia/config.h"
#include "therapeia/kv_cache.h"
#include "therapeia/linear_weight.h"
#include "therapeia/moe.h"
#include "therapeia/weights.h"

namespace therapeia {

// Weights of one decoder layer, converted to the compute dtype and device at load (the linear
// projections to 8 bits instead with dtype int8).
// q/k/v and gate/up are fused into one matrix each, so that a layer runs two GEMMs instead of five.
struct LayerWeights {
  at::Tensor input_norm;      // [H]
  LinearWeight qkv_proj;      // [(NQ + 2 * NKV) * D, H]
  at::Tensor qkv_bias;        // [(NQ + 2 * NKV) * D] or undefined
  at::Tensor q_norm, k_norm;  // [D] (Qwen3), [NQ * D] and [NKV * D] (OLMoE), or undefined
  LinearWeight o_proj;        // [H, NQ * D]
  at::Tensor o_bias;          // [H] or undefined
  at::Tensor post_norm;       // [H]
  LinearWeight gate_up_proj;  // [2 * I, H]
  at::Tensor gate_up_bias;    // [2 * I] or undefined
  LinearWeight down_proj;     // [H, I]
  at::Tensor down_bias;       // [H] or undefined
  bool sparse = false;        // a mixture-of-experts block replaces gate/up/down
  MoeWeights moe;
};

// A Hugging Face decoder-only transformer (Llama, Mistral, Qwen2, Qwen3 and the MoE families
// Mixtral, Qwen2-MoE, Qwen3-MoE, OLMoE) in one dtype on one
// device. Stateless apart from its weights: sequence state lives in the KvCache.
class Model {
 public:
  // int8_weights: hold every linear projection, the experts' and the lm_head's too, as 8-bit
  // weights (CPU, dtype float32); embeddings, norms and routers stay in `dtype`.
  Model(const ModelConfig& config, const WeightStore& weights, at::ScalarType dtype, at::Device device,
        bool int8_weights = false);

  // One sequence, T new tokens at positions [start, start + T), keys/values written to (and
  // read from) `slot`. With cache == nullptr, attends only over these T tokens (start must be 0).
  // tokens: [T] int64. Returns logits [T, V] in float32, or [1, V] for the last position only.
  at::Tensor forward_sequence(const at::Tensor& tokens, int64_t start, KvCache* cache, int64_t slot,
                              bool last_only);

  // One decode step for B sequences: tokens [B] at positions [B] in slots [B] (int64, on device);
  // attend_length = max(positions) + 1. Returns logits [B, V] in float32.
  at::Tensor forward_decode(const at::Tensor& tokens, const at::Tensor& positions, const at::Tensor& slots,
                            int64_t attend_length, KvCache& cache);

  const ModelConfig& config() const { return config_; }
  at::ScalarType dtype() const { return dtype_; }
  at::Device device() const { return device_; }

 private:
  at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight) const;
  at::Tensor mlp(const LayerWeights& layer, const at::Tensor& x) const;
  // x: [B, T, H]; cos/sin: [B, T, D]. Returns q [B, NQ, T, D], k and v [B, NKV, T, D], RoPE applied.
  std::tuple<at::Tensor, at::Tensor, at::Tensor> project_qkv(const LayerWeights& layer, const at::Tensor& x,
                                                              const at::Tensor& cos, const at::Tensor& sin) const;
  // positions: [B, T] int64 -> cos, sin [B, T, D] in the compute dtype.
  std::pair<at::Tensor, at::Tensor> rotary(const at::Tensor& positions) const;
  // q [B, NQ, T, D] over k, v [B, NKV, L, D]; mask [B or 1, 1, T, L] bool (true = attend), or
  // undefined with causal = true when T == L. Returns [B, T, NQ * D].
  at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                       bool causal) const;
  // The residual stream after one decoder layer's MLP half: x + mlp(norm(x)).
  at::Tensor feed_forward(const LayerWeights& layer, const at::Tensor& x) const;
  at::Tensor logits(const at::Tensor& hidden) const;

  ModelConfig config_;
  at::ScalarType dtype_;
  at::Device device_;
  at::Tensor embed_tokens;  // [V, H]
  std::vector<LayerWeights> layers_;
  at::Tensor final_norm;    // [H]
  LinearWeight lm_head;     // [V, H] (the embedding when tied; an 8-bit copy of it with int8 weights)
  at::Tensor inv_freq;      // [D / 2] float32, rope scaling applied
};

}  // namespace therapeia
