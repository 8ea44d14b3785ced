#include "therapeia/config.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "therapeia/error.h"

namespace therapeia {
namespace {

using nlohmann::json;

json read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw Error("cannot read " + file.string());
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw Error(file.string() + " is not valid JSON: " + e.what());
  }
}

// Field access that names the file and field on a type error.
struct Fields {
  const json& j;
  std::string file;

  bool has(const char* key) const { return j.contains(key) && !j.at(key).is_null(); }

  template <class T>
  T get(const char* key, T fallback) const {
    if (!has(key)) return fallback;
    try {
      return j.at(key).get<T>();
    } catch (const json::exception&) {
      throw Error(file + ": field '" + key + "' has the wrong type (" + j.at(key).dump() + ")");
    }
  }

  template <class T>
  T require(const char* key) const {
    if (!has(key)) throw Error(file + ": required field '" + key + "' is missing");
    return get<T>(key, T{});
  }
};

std::vector<int64_t> ids_of(const json& value, const std::string& where) {
  std::vector<int64_t> ids;
  if (value.is_number_integer()) {
    ids.push_back(value.get<int64_t>());
  } else if (value.is_array()) {
    for (const auto& id : value) {
      if (!id.is_number_integer()) throw Error(where + ": eos_token_id must hold integers");
      ids.push_back(id.get<int64_t>());
    }
  } else if (!value.is_null()) {
    throw Error(where + ": eos_token_id must be an integer or a list of integers");
  }
  return ids;
}

// transformers 5.x writes `rope_parameters` (holding rope_theta); 4.x writes `rope_theta` and
// an optional `rope_scaling`. Both may be present; rope_parameters wins.
RopeConfig parse_rope(const Fields& f, double default_theta) {
  RopeConfig rope;
  rope.theta = f.get<double>("rope_theta", default_theta);
  const json* scaling = nullptr;
  if (f.has("rope_parameters")) scaling = &f.j.at("rope_parameters");
  else if (f.has("rope_scaling")) scaling = &f.j.at("rope_scaling");
  if (scaling == nullptr) return rope;
  if (!scaling->is_object()) throw Error(f.file + ": rope parameters must be an object");
  Fields s{*scaling, f.file + " (rope parameters)"};
  rope.theta = s.get<double>("rope_theta", rope.theta);
  rope.type = s.get<std::string>("rope_type", s.get<std::string>("type", "default"));
  rope.factor = s.get<double>("factor", 1.0);
  rope.low_freq_factor = s.get<double>("low_freq_factor", 1.0);
  rope.high_freq_factor = s.get<double>("high_freq_factor", 4.0);
  rope.original_max_position_embeddings = s.get<int64_t>("original_max_position_embeddings", 0);
  static const std::set<std::string> supported = {"default", "linear", "llama3"};
  if (!supported.count(rope.type)) {
    throw Error(f.file + ": rope_type '" + rope.type + "' is not supported (supported: default, linear, llama3)");
  }
  if (rope.type == "llama3" && rope.original_max_position_embeddings <= 0) {
    throw Error(f.file + ": llama3 rope scaling needs original_max_position_embeddings");
  }
  return rope;
}

// Per-layer sliding windows. An explicit `layer_types` list wins; otherwise each family's rule
// from its transformers config class.
std::vector<int64_t> parse_sliding_window(const Fields& f, const std::string& type, int64_t layers) {
  const int64_t window = f.get<int64_t>("sliding_window", 0);
  std::vector<int64_t> result(layers, 0);
  if (f.has("layer_types")) {
    const auto& types = f.j.at("layer_types");
    if (!types.is_array() || static_cast<int64_t>(types.size()) != layers) {
      throw Error(f.file + ": layer_types must list one entry per layer (" + std::to_string(layers) + ")");
    }
    for (int64_t i = 0; i < layers; ++i) {
      const auto name = types[i].get<std::string>();
      if (name == "sliding_attention") {
        if (window <= 0) throw Error(f.file + ": layer_types names sliding_attention but sliding_window is not set");
        result[i] = window;
      } else if (name != "full_attention") {
        throw Error(f.file + ": layer type '" + name + "' is not supported");
      }
    }
    return result;
  }
  if (window <= 0) return result;
  if (type == "mistral" || type == "mixtral" || type == "qwen3_moe") {
    // Every layer slides (Qwen3-MoE only with use_sliding_window).
    if (type == "qwen3_moe" && !f.get<bool>("use_sliding_window", false)) return result;
    std::fill(result.begin(), result.end(), window);
  } else if (type == "qwen2" || type == "qwen3") {
    if (f.get<bool>("use_sliding_window", false)) {
      const int64_t first = f.get<int64_t>("max_window_layers", 28);
      for (int64_t i = first; i < layers; ++i) result[i] = window;
    }
  } else if (type == "qwen2_moe") {
    // Qwen2MoeConfig: even-numbered layers below max_window_layers slide.
    if (f.get<bool>("use_sliding_window", false)) {
      const int64_t below = f.get<int64_t>("max_window_layers", 28);
      for (int64_t i = 0; i < layers; ++i) result[i] = (i % 2 == 0 && i < below) ? window : 0;
    }
  }
  return result;
}

void check_positive(const std::string& file, const char* field, int64_t value) {
  if (value <= 0) throw Error(file + ": field '" + std::string(field) + "' must be positive, got " + std::to_string(value));
}

// Defaults are those of each transformers config class.
MoeConfig parse_moe(const Fields& f, const std::string& type, int64_t layers, int64_t intermediate_size) {
  MoeConfig moe;
  if (type == "mixtral") {
    moe.num_experts = f.get<int64_t>("num_local_experts", f.get<int64_t>("num_experts", 8));
    moe.experts_per_token = f.get<int64_t>("num_experts_per_tok", 2);
    moe.expert_intermediate_size = intermediate_size;
    moe.normalize_top_k = true;
    moe.float32_routing_weights = true;
  } else if (type == "qwen2_moe" || type == "qwen3_moe") {
    const bool qwen2 = type == "qwen2_moe";
    // transformers 5 writes Qwen3-MoE's expert count as num_local_experts (an attribute_map alias).
    moe.num_experts = f.get<int64_t>("num_experts", f.get<int64_t>("num_local_experts", qwen2 ? 60 : 128));
    moe.experts_per_token = f.get<int64_t>("num_experts_per_tok", qwen2 ? 4 : 8);
    moe.expert_intermediate_size = f.get<int64_t>("moe_intermediate_size", qwen2 ? 1408 : 768);
    moe.normalize_top_k = f.get<bool>("norm_topk_prob", false);
    if (qwen2) moe.shared_expert_intermediate_size = f.get<int64_t>("shared_expert_intermediate_size", 5632);
  } else if (type == "olmoe") {
    moe.num_experts = f.get<int64_t>("num_experts", f.get<int64_t>("num_local_experts", 64));
    moe.experts_per_token = f.get<int64_t>("num_experts_per_tok", 8);
    moe.expert_intermediate_size = intermediate_size;
    moe.normalize_top_k = f.get<bool>("norm_topk_prob", false);
  } else {
    return moe;
  }
  const char* experts_field = type == "mixtral" ? "num_local_experts" : "num_experts";
  check_positive(f.file, experts_field, moe.num_experts);
  check_positive(f.file, "num_experts_per_tok", moe.experts_per_token);
  check_positive(f.file, "moe_intermediate_size", moe.expert_intermediate_size);
  if (moe.experts_per_token > moe.num_experts) {
    throw Error(f.file + ": num_experts_per_tok (" + std::to_string(moe.experts_per_token) + ") is larger than " +
                experts_field + " (" + std::to_string(moe.num_experts) + ")");
  }
  // Qwen: a layer is sparse unless listed in mlp_only_layers, and only every decoder_sparse_step-th.
  const int64_t step = f.get<int64_t>("decoder_sparse_step", 1);
  const auto dense = f.get<std::vector<int64_t>>("mlp_only_layers", {});
  moe.sparse_layers.assign(layers, true);
  for (int64_t i = 0; i < layers; ++i) {
    const bool listed = std::find(dense.begin(), dense.end(), i) != dense.end();
    if ((type == "qwen2_moe" || type == "qwen3_moe") && (listed || step <= 0 || (i + 1) % step != 0)) {
      moe.sparse_layers[i] = false;
    }
  }
  return moe;
}


}  // namespace

ModelConfig load_model_config(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) throw Error("model folder " + dir.string() + " does not exist");
  const auto config_file = dir / "config.json";
  if (!std::filesystem::exists(config_file)) throw Error("model folder " + dir.string() + " has no config.json");
  const json j = read_json(config_file);
  if (!j.is_object()) throw Error(config_file.string() + " must hold a JSON object");
  const Fields f{j, config_file.string()};

  ModelConfig c;
  if (!f.has("architectures") || !j.at("architectures").is_array() || j.at("architectures").empty()) {
    throw Error(f.file + ": field 'architectures' is missing");
  }
  c.architecture = j.at("architectures")[0].get<std::string>();
  static const std::map<std::string, std::string> families = {
      {"LlamaForCausalLM", "llama"},        {"MistralForCausalLM", "mistral"}, {"Qwen2ForCausalLM", "qwen2"},
      {"Qwen3ForCausalLM", "qwen3"},        {"MixtralForCausalLM", "mixtral"}, {"Qwen2MoeForCausalLM", "qwen2_moe"},
      {"Qwen3MoeForCausalLM", "qwen3_moe"}, {"OlmoeForCausalLM", "olmoe"}};
  const auto family = families.find(c.architecture);
  if (family == families.end()) {
    throw Error(f.file + ": architecture '" + c.architecture +
                "' is not supported (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, "
                "MixtralForCausalLM, Qwen2MoeForCausalLM, Qwen3MoeForCausalLM, OlmoeForCausalLM)");
  }
  c.model_type = family->second;

  c.vocab_size = f.require<int64_t>("vocab_size");
  c.hidden_size = f.require<int64_t>("hidden_size");
  c.intermediate_size = f.require<int64_t>("intermediate_size");
  c.num_hidden_layers = f.require<int64_t>("num_hidden_layers");
  c.num_attention_heads = f.require<int64_t>("num_attention_heads");
  c.num_key_value_heads = f.get<int64_t>("num_key_value_heads", c.num_attention_heads);
  for (auto [name, value] : {std::pair{"vocab_size", c.vocab_size}, {"hidden_size", c.hidden_size},
                             {"intermediate_size", c.intermediate_size}, {"num_hidden_layers", c.num_hidden_layers},
                             {"num_attention_heads", c.num_attention_heads},
                             {"num_key_value_heads", c.num_key_value_heads}}) {
    check_positive(f.file, name, value);
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    throw Error(f.file + ": num_attention_heads must be a multiple of num_key_value_heads");
  }
  c.head_dim = f.get<int64_t>("head_dim", 0);
  if (c.head_dim == 0) {
    if (c.hidden_size % c.num_attention_heads != 0) throw Error(f.file + ": hidden_size is not a multiple of num_attention_heads and head_dim is not set");
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  check_positive(f.file, "head_dim", c.head_dim);
  if (c.head_dim % 2 != 0) throw Error(f.file + ": head_dim must be even for rotary embeddings");

  const bool is_llama = c.model_type == "llama";
  c.max_position_embeddings = f.get<int64_t>("max_position_embeddings", is_llama ? 2048 : 32768);
  c.rms_norm_eps = f.get<double>("rms_norm_eps", 1e-6);
  c.hidden_act = f.get<std::string>("hidden_act", "silu");
  if (c.hidden_act != "silu" && c.hidden_act != "gelu" && c.hidden_act != "gelu_pytorch_tanh") {
    throw Error(f.file + ": hidden_act '" + c.hidden_act + "' is not supported (silu, gelu, gelu_pytorch_tanh)");
  }
  c.tie_word_embeddings = f.get<bool>("tie_word_embeddings", false);
  const bool attention_bias = f.get<bool>("attention_bias", false);
  // Qwen2 always has q/k/v bias and Qwen2-MoE has `qkv_bias`, neither on o_proj; Llama, Qwen3(-MoE)
  // and OLMoE put `attention_bias` on all four projections; Mistral and Mixtral have none.
  const std::string& t = c.model_type;
  const bool configurable_bias = is_llama || t == "qwen3" || t == "qwen3_moe" || t == "olmoe";
  c.qkv_bias = t == "qwen2" || (t == "qwen2_moe" && f.get<bool>("qkv_bias", true)) || (configurable_bias && attention_bias);
  c.o_proj_bias = configurable_bias && attention_bias;
  c.mlp_bias = is_llama ? f.get<bool>("mlp_bias", false) : false;
  c.qk_norm = t == "qwen3" || t == "qwen3_moe";
  c.qk_norm_full = t == "olmoe";
  c.clip_qkv = t == "olmoe" ? f.get<double>("clip_qkv", 0.0) : 0.0;
  c.moe = parse_moe(f, t, c.num_hidden_layers, c.intermediate_size);
  c.rope = parse_rope(f, 10000.0);
  c.sliding_window = parse_sliding_window(f, c.model_type, c.num_hidden_layers);

  c.eos_token_ids = f.has("eos_token_id") ? ids_of(j.at("eos_token_id"), f.file) : std::vector<int64_t>{};
  const auto generation_file = dir / "generation_config.json";
  if (std::filesystem::exists(generation_file)) {
    const json g = read_json(generation_file);
    if (g.contains("eos_token_id") && !g.at("eos_token_id").is_null()) {
      c.eos_token_ids = ids_of(g.at("eos_token_id"), generation_file.string());
    }
  }
  return c;
}

}  // namespace therapeia
