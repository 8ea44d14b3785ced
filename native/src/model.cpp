#include "therapeia/model.h"

#include <cmath>
#include <map>
#include <utility>

#include "therapeia/cpu_decode_attention.h"
#include "therapeia/cpu_fused.h"
#include "therapeia/cpu_linear.h"
#include "therapeia/error.h"

namespace therapeia {
namespace {

// Frequencies of rotary embeddings exactly as transformers computes them (float32), with
// the rope scaling of the config applied (modeling_rope_utils).
at::Tensor rope_inverse_frequencies(const ModelConfig& c) {
  const int64_t dim = c.head_dim;
  // [D / 2] = 1 / theta^(2i / D)
  auto exponent = at::arange(0, dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(dim);
  auto inv_freq = 1.0 / at::pow(at::Scalar(c.rope.theta), exponent);
  const auto& r = c.rope;
  if (r.type == "linear") {
    inv_freq = inv_freq / r.factor;
  } else if (r.type == "llama3") {
    const double old_context = static_cast<double>(r.original_max_position_embeddings);
    const double low_freq_wavelen = old_context / r.low_freq_factor;
    const double high_freq_wavelen = old_context / r.high_freq_factor;
    auto wavelen = 2 * M_PI / inv_freq;
    auto scaled = at::where(wavelen > low_freq_wavelen, inv_freq / r.factor, inv_freq);
    auto smooth = (old_context / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
    auto smoothed = (1 - smooth) * scaled / r.factor + smooth * scaled;
    auto is_medium = (wavelen >= high_freq_wavelen).logical_and(wavelen <= low_freq_wavelen);
    inv_freq = at::where(is_medium, smoothed, scaled);
  }
  return inv_freq;
}

at::Tensor rotate_half(const at::Tensor& x) {
  auto halves = x.chunk(2, -1);
  return at::cat({-halves[1], halves[0]}, -1);
}

// Bool mask [B, 1, T, L]: query at absolute position p may see key j when j <= p and, with a
// sliding window w, j > p - w (transformers' sliding_window_overlay).
at::Tensor attention_mask(const at::Tensor& query_positions, int64_t key_length, int64_t window) {
  auto keys = at::arange(key_length, query_positions.options()).view({1, 1, 1, key_length});
  auto queries = query_positions.unsqueeze(1).unsqueeze(-1);  // [B, 1, T, 1]
  auto mask = keys <= queries;
  if (window > 0) mask = mask.logical_and(keys > queries - window);
  return mask;
}

// The masks of one forward pass, one per distinct sliding window, shared by the layers using it.
class LayerMasks {
 public:
  LayerMasks(at::Tensor query_positions, int64_t key_length)
      : query_positions_(std::move(query_positions)), key_length_(key_length) {}

  const at::Tensor& for_window(int64_t window) {
    auto& mask = masks_[window];
    if (!mask.defined()) mask = attention_mask(query_positions_, key_length_, window);
    return mask;
  }

 private:
  at::Tensor query_positions_;  // [B, T]
  int64_t key_length_;
  std::map<int64_t, at::Tensor> masks_;
};

// slots[0] when slots = [s, s + 1, ..., s + B - 1], else -1. slots: [B] int64. A CUDA tensor
// counts as -1 only when B > 1: reading it would wait for the GPU.
int64_t consecutive_slots(const at::Tensor& slots) {
  if (slots.size(0) == 1) return slots.item<int64_t>();
  if (!slots.device().is_cpu()) return -1;
  const auto s = slots.contiguous();
  const int64_t* p = s.data_ptr<int64_t>();
  for (int64_t b = 1; b < s.size(0); ++b) {
    if (p[b] != p[0] + b) return -1;
  }
  return p[0];
}

double attention_scale(const ModelConfig& c) { return 1.0 / std::sqrt(static_cast<double>(c.head_dim)); }

}  // namespace

Model::Model(const ModelConfig& config, const WeightStore& weights, at::ScalarType dtype, at::Device device,
             bool int8_weights)
    : config_(config), dtype_(dtype), device_(device) {
  const auto& c = config_;
  const int64_t H = c.hidden_size, D = c.head_dim, NQ = c.num_attention_heads, NKV = c.num_key_value_heads;
  const int64_t I = c.intermediate_size, V = c.vocab_size;
  const auto options = at::TensorOptions().dtype(dtype).device(device);
  // Shape checks happen in get(); every tensor is checked before any compute runs.
  auto load = [&](const std::string& name, const std::vector<int64_t>& shape) {
    return weights.get(name, shape).to(options).contiguous();
  };
  auto optional = [&](bool present, const std::string& name, const std::vector<int64_t>& shape) {
    return present ? load(name, shape) : at::Tensor();
  };
  if (int8_weights && (!device.is_cpu() || dtype != at::kFloat)) {
    throw Error("8-bit weights (dtype int8) run on the CPU with float32 activations only");
  }
  auto linear = [&](const std::vector<std::pair<std::string, std::vector<int64_t>>>& parts) {
    return load_linear(weights, parts, options, int8_weights);
  };

  embed_tokens = load("model.embed_tokens.weight", {V, H});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    LayerWeights l;
    l.input_norm = load(p + "input_layernorm.weight", {H});
    l.post_norm = load(p + "post_attention_layernorm.weight", {H});
    l.qkv_proj = linear({{p + "self_attn.q_proj.weight", {NQ * D, H}}, {p + "self_attn.k_proj.weight", {NKV * D, H}},
                         {p + "self_attn.v_proj.weight", {NKV * D, H}}});
    if (c.qkv_bias) {
      l.qkv_bias = at::cat({load(p + "self_attn.q_proj.bias", {NQ * D}), load(p + "self_attn.k_proj.bias", {NKV * D}),
                            load(p + "self_attn.v_proj.bias", {NKV * D})});
    }
    if (c.qk_norm) {
      l.q_norm = load(p + "self_attn.q_norm.weight", {D});
      l.k_norm = load(p + "self_attn.k_norm.weight", {D});
    } else if (c.qk_norm_full) {
      l.q_norm = load(p + "self_attn.q_norm.weight", {NQ * D});
      l.k_norm = load(p + "self_attn.k_norm.weight", {NKV * D});
    }
    l.o_proj = linear({{p + "self_attn.o_proj.weight", {H, NQ * D}}});
    l.o_bias = optional(c.o_proj_bias, p + "self_attn.o_proj.bias", {H});
    l.sparse = c.moe.num_experts > 0 && c.moe.sparse_layers[i];
    if (l.sparse) {
      l.moe = load_moe_weights(weights, c, i, options, int8_weights);
    } else {
      l.gate_up_proj = linear({{p + "mlp.gate_proj.weight", {I, H}}, {p + "mlp.up_proj.weight", {I, H}}});
      if (c.mlp_bias) {
        l.gate_up_bias = at::cat({load(p + "mlp.gate_proj.bias", {I}), load(p + "mlp.up_proj.bias", {I})});
        l.down_bias = load(p + "mlp.down_proj.bias", {H});
      }
      l.down_proj = linear({{p + "mlp.down_proj.weight", {H, I}}});
    }
    layers_.push_back(std::move(l));
  }
  final_norm = load("model.norm.weight", {H});
  // Tied models may still carry an lm_head copy; transformers uses the embedding then.
  // With 8-bit weights a tied lm_head is an 8-bit copy: a decode step reads a quarter of the bytes
  // (the lm_head is the largest matrix of small models) for a tenth more logits error.
  if (!c.tie_word_embeddings) {
    lm_head = linear({{"lm_head.weight", {V, H}}});
  } else if (int8_weights) {
    lm_head.int8 = quantize_int8(embed_tokens, "model.embed_tokens.weight");
    weights.release("model.embed_tokens.weight");  // lookups read back only the rows they use
  } else {
    lm_head.dense = embed_tokens;
  }
  inv_freq = rope_inverse_frequencies(c).to(device);
}

// transformers' RMSNorm: normalise in float32, cast back, then scale.
at::Tensor Model::rms_norm(const at::Tensor& x, const at::Tensor& weight) const {
  if (fused_cpu_applies(x)) return fused_rms_norm(x, weight, config_.rms_norm_eps);
  auto x32 = x.to(at::kFloat);
  auto variance = x32.pow(2).mean(-1, /*keepdim=*/true);
  return weight * (x32 * at::rsqrt(variance + config_.rms_norm_eps)).to(x.scalar_type());
}

std::pair<at::Tensor, at::Tensor> Model::rotary(const at::Tensor& positions) const {
  auto freqs = positions.to(at::kFloat).unsqueeze(-1) * inv_freq;  // [B, T, D / 2]
  auto emb = at::cat({freqs, freqs}, -1);                          // [B, T, D]
  return {emb.cos().to(dtype_), emb.sin().to(dtype_)};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> Model::project_qkv(const LayerWeights& layer, const at::Tensor& x,
                                                                    const at::Tensor& cos, const at::Tensor& sin) const {
  const int64_t B = x.size(0), T = x.size(1), D = config_.head_dim;
  const int64_t NQ = config_.num_attention_heads, NKV = config_.num_key_value_heads;
  auto qkv = apply_linear(x, layer.qkv_proj, layer.qkv_bias);  // [B, T, (NQ + 2 NKV) D]
  auto parts = qkv.split({NQ * D, NKV * D, NKV * D}, -1);
  at::Tensor q = parts[0], k = parts[1], v = parts[2];
  if (config_.qk_norm_full) {  // OLMoE normalises the whole projection, before splitting heads
    q = rms_norm(q, layer.q_norm);
    k = rms_norm(k, layer.k_norm);
  }
  if (config_.clip_qkv > 0) {
    q = q.clamp(-config_.clip_qkv, config_.clip_qkv);
    k = k.clamp(-config_.clip_qkv, config_.clip_qkv);
    v = v.clamp(-config_.clip_qkv, config_.clip_qkv);
  }
  q = q.reshape({B, T, NQ, D});
  k = k.reshape({B, T, NKV, D});
  v = v.reshape({B, T, NKV, D}).transpose(1, 2);  // [B, NKV, T, D]
  if (config_.qk_norm) {
    q = rms_norm(q, layer.q_norm);
    k = rms_norm(k, layer.k_norm);
  }
  if (fused_cpu_applies(q) && fused_cpu_applies(k)) {
    fused_rotary_(q, cos, sin);  // in place on this layer's fresh projection
    fused_rotary_(k, cos, sin);
    return {q.transpose(1, 2), k.transpose(1, 2), v};
  }
  q = q.transpose(1, 2);  // [B, NQ, T, D]
  k = k.transpose(1, 2);  // [B, NKV, T, D]
  auto c = cos.unsqueeze(1), s = sin.unsqueeze(1);  // [B, 1, T, D]
  q = q * c + rotate_half(q) * s;
  k = k * c + rotate_half(k) * s;
  return {q, k, v};
}

at::Tensor Model::attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                            bool causal) const {
  const double scale = attention_scale(config_);
  const bool gqa = config_.num_attention_heads != config_.num_key_value_heads;
  std::optional<at::Tensor> attn_mask;
  if (mask.defined()) attn_mask = mask;
  auto out = at::scaled_dot_product_attention(q, k, v, attn_mask, 0.0, causal, scale, gqa);  // [B, NQ, T, D]
  return out.transpose(1, 2).flatten(2);  // [B, T, NQ * D]
}

at::Tensor Model::feed_forward(const LayerWeights& layer, const at::Tensor& x) const {
  if (layer.sparse) {
    auto tokens = rms_norm(x, layer.post_norm).reshape({-1, config_.hidden_size});  // [B * T, H]
    return x + moe_forward(layer.moe, config_, tokens).view_as(x);
  }
  auto gate_up = apply_linear(rms_norm(x, layer.post_norm), layer.gate_up_proj, layer.gate_up_bias);  // [B, T, 2I]
  if (config_.hidden_act == "silu" && fused_cpu_applies(gate_up)) {
    return x + apply_linear(fused_silu_mul(gate_up), layer.down_proj, layer.down_bias);
  }
  auto halves = gate_up.chunk(2, -1);
  return x + apply_linear(activate(config_.hidden_act, halves[0]) * halves[1], layer.down_proj, layer.down_bias);
}

at::Tensor Model::logits(const at::Tensor& hidden) const {
  return apply_linear(rms_norm(hidden, final_norm), lm_head).to(at::kFloat);
}

at::Tensor Model::forward_sequence(const at::Tensor& tokens, int64_t start, KvCache* cache, int64_t slot,
                                   bool last_only) {
  const int64_t T = tokens.size(0);
  if (cache == nullptr && start != 0) throw Error("forward without a KV cache must start at position 0");
  auto x = embed_tokens.index_select(0, tokens).unsqueeze(0);  // [1, T, H]
  auto positions = at::arange(start, start + T, tokens.options()).unsqueeze(0);  // [1, T]
  auto [cos, sin] = rotary(positions);
  const int64_t key_length = start + T;
  LayerMasks masks(positions, key_length);  // full causal attention from position 0 needs none
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& layer = layers_[i];
    const int64_t window = config_.sliding_window[i];
    auto [q, k, v] = project_qkv(layer, rms_norm(x, layer.input_norm), cos, sin);
    if (cache != nullptr) {
      cache->update(static_cast<int64_t>(i), slot, start, k[0], v[0]);
      if (start > 0) {  // earlier tokens of this sequence are in the cache: attend over all of them
        k = cache->keys(i)[slot].narrow(1, 0, key_length).unsqueeze(0);
        v = cache->values(i)[slot].narrow(1, 0, key_length).unsqueeze(0);
      }
    }
    const bool plain_causal = start == 0 && (window == 0 || window >= key_length);
    const at::Tensor mask = plain_causal ? at::Tensor() : masks.for_window(window);
    auto attended = attention(q, k, v, mask, plain_causal);
    x = x + apply_linear(attended, layer.o_proj, layer.o_bias);
    x = feed_forward(layer, x);
  }
  if (last_only) x = x.narrow(1, T - 1, 1);
  return logits(x)[0];  // [T or 1, V]
}

at::Tensor Model::forward_decode(const at::Tensor& tokens, const at::Tensor& positions, const at::Tensor& slots,
                                 int64_t attend_length, KvCache& cache) {
  const int64_t B = tokens.size(0);
  auto x = embed_tokens.index_select(0, tokens).unsqueeze(1);  // [B, 1, H]
  auto query_positions = positions.unsqueeze(1);                // [B, 1]
  auto [cos, sin] = rotary(query_positions);
  LayerMasks masks(query_positions, attend_length);
  // Each sequence's keys, its position + 1, and its slot, for the CPU decode attention (no mask;
  // it reads each sequence's keys and values in place in the cache).
  std::vector<int64_t> key_lengths, cache_rows;
  if (positions.device().is_cpu()) {
    const auto p = positions.contiguous(), s = slots.contiguous();
    for (int64_t b = 0; b < B; ++b) {
      if (B > 1) key_lengths.push_back(p.data_ptr<int64_t>()[b] + 1);
      cache_rows.push_back(s.data_ptr<int64_t>()[b]);
    }
  }
  // Elsewhere, gathering the slots' keys and values copies [B, NKV, L, D] twice per layer, as
  // many bytes per step as a large share of the weights; slots that follow each other need only a view.
  const int64_t first_slot = consecutive_slots(slots);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const auto& layer = layers_[i];
    const int64_t window = config_.sliding_window[i];
    auto [q, k, v] = project_qkv(layer, rms_norm(x, layer.input_norm), cos, sin);
    cache.update_batch(static_cast<int64_t>(i), slots, positions, k, v);
    auto all_keys = cache.keys(i).narrow(2, 0, attend_length);  // [S, NKV, L, D]
    auto all_values = cache.values(i).narrow(2, 0, attend_length);
    const bool windowed = window > 0 && window < attend_length;
    at::Tensor attended;  // [B, 1, NQ * D]
    if (!windowed && decode_attention_applies(q, all_keys, all_values, cache_rows)) {
      attended = decode_attention(q, all_keys, all_values, attention_scale(config_), key_lengths, cache_rows)
                     .view({B, 1, -1});
    } else {
      at::Tensor keys, values;  // [B, NKV, L, D]
      if (first_slot >= 0) {  // consecutive slots: a view of the cache, no copy
        keys = all_keys.narrow(0, first_slot, B);
        values = all_values.narrow(0, first_slot, B);
      } else {
        keys = all_keys.index_select(0, slots);
        values = all_values.index_select(0, slots);
      }
      // A lone sequence without a window sees its whole cache: no mask needed.
      const bool needs_mask = B > 1 || windowed;
      attended = attention(q, keys, values, needs_mask ? masks.for_window(window) : at::Tensor(), false);
    }
    x = x + apply_linear(attended, layer.o_proj, layer.o_bias);
    x = feed_forward(layer, x);
  }
  return logits(x).squeeze(1);  // [B, V]
}

}  // namespace therapeia
