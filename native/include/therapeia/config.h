#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace therapeia {

// Rotary position embedding settings, from `rope_parameters` (transformers 5.x) or
// `rope_theta` + `rope_scaling` (transformers 4.x).
struct RopeConfig {
  std::string type = "default";  // default | linear | llama3
  double theta = 10000.0;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 0;
};

// Mixture-of-experts feed-forward settings (Mixtral, Qwen2-MoE, Qwen3-MoE, OLMoE).
struct MoeConfig {
  int64_t num_experts = 0;          // 0: a dense model
  int64_t experts_per_token = 0;    // top-k of the router
  int64_t expert_intermediate_size = 0;
  bool normalize_top_k = false;     // renormalise the top-k router probabilities to sum to 1
  bool float32_routing_weights = false;  // Mixtral keeps them in float32; the others cast to the model dtype
  int64_t shared_expert_intermediate_size = 0;  // Qwen2-MoE's always-on expert with a sigmoid gate; 0: none
  std::vector<bool> sparse_layers;  // per layer: MoE block (true) or a dense MLP (Qwen `mlp_only_layers`)
};

// Everything the decoder needs from config.json and generation_config.json, with the defaults
// of the transformers config class of each model type filled in.
struct ModelConfig {
  std::string architecture;  // e.g. "LlamaForCausalLM"
  std::string model_type;    // e.g. "llama"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  std::string hidden_act = "silu";
  bool tie_word_embeddings = false;
  bool qkv_bias = false;     // bias on q/k/v projections (Qwen2 always; Llama/Mistral `attention_bias`)
  bool o_proj_bias = false;  // bias on o_proj (Llama `attention_bias`)
  bool mlp_bias = false;     // bias on gate/up/down (Llama `mlp_bias`)
  bool qk_norm = false;      // per-head RMSNorm on q and k before RoPE (Qwen3)
  bool qk_norm_full = false; // RMSNorm over the whole q and k projections (OLMoE)
  double clip_qkv = 0.0;     // OLMoE: clamp q, k, v to [-clip, clip]; 0 = off
  RopeConfig rope;
  MoeConfig moe;
  // Per layer: 0 for full causal attention, otherwise the sliding window size in tokens.
  std::vector<int64_t> sliding_window;
  // Token ids that end a generation (generation_config.json first, then config.json).
  std::vector<int64_t> eos_token_ids;
};

// Reads `dir/config.json` (and `dir/generation_config.json` when present).
// Throws therapeia::Error naming the file and field for a missing file, invalid JSON,
// an unsupported architecture or an inconsistent value.
ModelConfig load_model_config(const std::filesystem::path& dir);

}  // namespace therapeia
