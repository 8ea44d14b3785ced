// Parity with transformers on the tiny random models that native/tests/reference/
// generate_references.py builds (every supported architecture and option): full logits in
// float32 and bfloat16, cached decoding, mixed-length batches and greedy generation.

#include <gtest/gtest.h>

#include <map>

#include "test_support.h"
#include "therapeia/engine.h"
#include "therapeia/model.h"

namespace therapeia {
namespace {

using test::relative_error;

// bfloat16 keeps 8 significant bits (unit roundoff 2^-8 = 0.4%), and our kernels round at other
// points than transformers' eager path (fused QKV and gate/up GEMMs, SDPA instead of
// softmax(QK^T)V). The right yardstick is bf16's own noise: how far transformers' bf16 logits
// are from its float32 logits on the same weights (1.7e-2 to 3.2e-2 on these models). Ours may
// differ from transformers' bf16 by at most 1.5 times that. The float32 path (1e-4) and the
// greedy tokens catch real bugs; this bound catches a bf16 path that is worse than bf16 itself.
constexpr double kBfloat16NoiseFactor = 1.5;

struct Reference {
  std::filesystem::path dir;
  std::vector<std::vector<int64_t>> prompts;
  std::vector<at::Tensor> logits_float32;   // [T, V] per prompt
  std::vector<at::Tensor> logits_bfloat16;  // [T, V] per prompt
  std::vector<std::vector<int64_t>> greedy;
};

std::vector<std::string> reference_models() {
  std::vector<std::string> names;
  const char* root = std::getenv("THERAPEIA_REFERENCES");
  if (root == nullptr || !std::filesystem::is_directory(root)) return {"<THERAPEIA_REFERENCES missing>"};
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    if (std::filesystem::exists(entry.path() / "reference.json")) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

Reference load_reference(const std::string& name) {
  const auto root = test::data_folder("THERAPEIA_REFERENCES");
  Reference r;
  r.dir = root / name;
  const auto j = test::read_json(r.dir / "reference.json");
  r.prompts = j.at("prompts").get<std::vector<std::vector<int64_t>>>();
  for (const auto& rows : j.at("logits_float32")) r.logits_float32.push_back(test::matrix(rows));
  for (const auto& rows : j.at("logits_bfloat16")) r.logits_bfloat16.push_back(test::matrix(rows));
  r.greedy = j.at("greedy").get<std::vector<std::vector<int64_t>>>();
  return r;
}

EngineOptions options_for(const Reference& r, const std::string& dtype, int64_t slots) {
  EngineOptions options;
  options.model_dir = r.dir;
  options.dtype = dtype;
  options.max_slots = slots;
  options.max_context = 96;
  return options;
}

// Runs every prompt to completion through the step API; returns the new tokens per prompt.
std::vector<std::vector<int64_t>> generate_all(Engine& engine, const std::vector<std::vector<int64_t>>& prompts,
                                               int64_t max_new_tokens) {
  SamplingParams greedy;
  greedy.max_new_tokens = max_new_tokens;
  std::map<int64_t, size_t> index;
  for (size_t i = 0; i < prompts.size(); ++i) index[engine.add(prompts[i], greedy)] = i;
  std::vector<std::vector<int64_t>> outputs(prompts.size());
  size_t finished = 0;
  for (int guard = 0; finished < prompts.size() && guard < 10000; ++guard) {
    for (const auto& event : engine.step()) {
      outputs[index.at(event.sequence_id)].push_back(event.token);
      finished += event.finished ? 1 : 0;
    }
  }
  return outputs;
}

class ReferenceParity : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_NE(GetParam().front(), '<') << "THERAPEIA_REFERENCES must name the generated reference folder";
    reference = load_reference(GetParam());
  }
  Reference reference;
};

TEST_P(ReferenceParity, Float32LogitsMatchTransformers) {
  Engine engine(options_for(reference, "float32", 1));
  double worst = 0;
  for (size_t i = 0; i < reference.prompts.size(); ++i) {
    auto ours = engine.logits(reference.prompts[i]);
    const double error = relative_error(ours, reference.logits_float32[i]);
    worst = std::max(worst, error);
    EXPECT_LT(error, 1e-4) << "prompt " << i;
    EXPECT_TRUE(test::same_argmax(ours, reference.logits_float32[i])) << "prompt " << i;
  }
  std::cout << "[ parity ] " << GetParam() << " float32 max relative error " << worst << "\n";
}

TEST_P(ReferenceParity, Bfloat16LogitsMatchTransformersWithinBfloat16Precision) {
  Engine engine(options_for(reference, "bfloat16", 1));
  const bool moe = engine.config().moe.num_experts > 0;
  double noise = 0;
  for (size_t i = 0; i < reference.prompts.size(); ++i) {
    noise = std::max(noise, relative_error(reference.logits_bfloat16[i], reference.logits_float32[i]));
  }
  const double bound = kBfloat16NoiseFactor * noise;
  double worst = 0;
  int64_t positions = 0, within = 0;
  for (size_t i = 0; i < reference.prompts.size(); ++i) {
    const auto& expected = reference.logits_bfloat16[i];  // [T, V]
    auto per_position = (engine.logits(reference.prompts[i]) - expected).abs().amax(-1) / expected.abs().max();  // [T]
    worst = std::max(worst, per_position.max().item<double>());
    positions += per_position.size(0);
    within += (per_position < bound).sum().item<int64_t>();
  }
  std::cout << "[ parity ] " << GetParam() << " bfloat16 max relative error " << worst
            << " (transformers bf16 vs float32: " << noise << "), " << within << "/" << positions
            << " positions within " << bound << "\n";
  if (moe) {
    // A router whose top-k candidates are nearly tied can pick another expert under bf16
    // rounding, in our kernels or in transformers', and that position's logits jump (even
    // transformers' own bf16 and float32 differ by up to 0.3 on these models for that reason).
    // Such flips are rare: nine in ten positions must stay within the dense bound.
    EXPECT_GE(within * 10, positions * 9);
  } else {
    EXPECT_EQ(within, positions);
  }
}

TEST_P(ReferenceParity, CachedDecodingEqualsFullForward) {
  c10::InferenceMode inference;
  const auto config = load_model_config(reference.dir);
  const auto weights = WeightStore::open(reference.dir);
  Model model(config, weights, at::kFloat, at::kCPU);
  KvCache cache(config.num_hidden_layers, 2, config.num_key_value_heads, 96, config.head_dim, at::kFloat, at::kCPU);
  const auto& prompt = reference.prompts.back();
  const int64_t n = static_cast<int64_t>(prompt.size());
  const auto ids = at::tensor(prompt, at::kLong);
  auto full = model.forward_sequence(ids, 0, nullptr, -1, false);  // [n, V]

  // Slot 0: prefill all but 4 tokens, then decode them one at a time.
  model.forward_sequence(ids.narrow(0, 0, n - 4), 0, &cache, 0, true);
  // Slot 1: prefill in two chunks (the second starts mid-sequence and reads the cache).
  model.forward_sequence(ids.narrow(0, 0, n - 6), 0, &cache, 1, true);
  auto chunk = model.forward_sequence(ids.narrow(0, n - 6, 2), n - 6, &cache, 1, false);  // [2, V]
  EXPECT_LT(relative_error(chunk, full.narrow(0, n - 6, 2)), 1e-5);
  for (int64_t position = n - 4; position < n; ++position) {
    auto step = model.forward_decode(ids.narrow(0, position, 1), at::tensor({position}, at::kLong),
                                     at::tensor({int64_t{0}}, at::kLong), position + 1, cache);  // [1, V]
    EXPECT_LT(relative_error(step[0], full[position]), 1e-5) << "position " << position;
  }
}

TEST_P(ReferenceParity, MixedLengthBatchEqualsEachSequenceAlone) {
  c10::InferenceMode inference;
  const auto config = load_model_config(reference.dir);
  const auto weights = WeightStore::open(reference.dir);
  Model model(config, weights, at::kFloat, at::kCPU);
  const int64_t B = static_cast<int64_t>(reference.prompts.size());
  KvCache batched(config.num_hidden_layers, B, config.num_key_value_heads, 96, config.head_dim, at::kFloat, at::kCPU);
  KvCache alone(config.num_hidden_layers, B, config.num_key_value_heads, 96, config.head_dim, at::kFloat, at::kCPU);
  std::vector<int64_t> tokens, positions, slots;
  for (int64_t b = 0; b < B; ++b) {
    const auto& prompt = reference.prompts[b];
    const auto ids = at::tensor(prompt, at::kLong);
    model.forward_sequence(ids, 0, &batched, b, true);
    model.forward_sequence(ids, 0, &alone, b, true);
    tokens.push_back(reference.greedy[b][0]);
    positions.push_back(static_cast<int64_t>(prompt.size()));
    slots.push_back(b);
  }
  const int64_t attend = *std::max_element(positions.begin(), positions.end()) + 1;
  auto together = model.forward_decode(at::tensor(tokens, at::kLong), at::tensor(positions, at::kLong),
                                       at::tensor(slots, at::kLong), attend, batched);  // [B, V]
  for (int64_t b = 0; b < B; ++b) {
    auto single = model.forward_decode(at::tensor({tokens[b]}, at::kLong), at::tensor({positions[b]}, at::kLong),
                                       at::tensor({b}, at::kLong), positions[b] + 1, alone);
    EXPECT_LT(relative_error(together[b], single[0]), 1e-5) << "sequence " << b;
  }
  // The same step with the slots in reverse order: not consecutive, so their keys and values
  // are gathered rather than viewed. Rewriting a position with the same token changes nothing.
  const std::vector<int64_t> reversed_tokens(tokens.rbegin(), tokens.rend());
  const std::vector<int64_t> reversed_positions(positions.rbegin(), positions.rend());
  const std::vector<int64_t> reversed_slots(slots.rbegin(), slots.rend());
  auto reversed = model.forward_decode(at::tensor(reversed_tokens, at::kLong), at::tensor(reversed_positions, at::kLong),
                                       at::tensor(reversed_slots, at::kLong), attend, batched);  // [B, V]
  for (int64_t b = 0; b < B; ++b) {
    EXPECT_LT(relative_error(reversed[B - 1 - b], together[b]), 1e-5) << "sequence " << b << " (reversed slots)";
  }
}

TEST_P(ReferenceParity, GreedyTokensOfABatchMatchTransformersGenerate) {
  Engine engine(options_for(reference, "float32", static_cast<int64_t>(reference.prompts.size())));
  const auto outputs = generate_all(engine, reference.prompts, 32);
  for (size_t i = 0; i < outputs.size(); ++i) EXPECT_EQ(outputs[i], reference.greedy[i]) << "prompt " << i;
  EXPECT_GT(engine.stats().last_batch_size, 1);
}

TEST_P(ReferenceParity, SequencesBeyondTheFreeSlotsWaitAndStillMatch) {
  Engine engine(options_for(reference, "float32", 1));
  const auto outputs = generate_all(engine, reference.prompts, 32);
  for (size_t i = 0; i < outputs.size(); ++i) EXPECT_EQ(outputs[i], reference.greedy[i]) << "prompt " << i;
  const auto stats = engine.stats();
  EXPECT_EQ(stats.running, 0);
  EXPECT_EQ(stats.waiting, 0);
  EXPECT_EQ(stats.free_slots, 1);
}

TEST_P(ReferenceParity, ChunkedPrefillMatchesAndKeepsRunningSequencesDecoding) {
  auto options = options_for(reference, "float32", static_cast<int64_t>(reference.prompts.size()));
  options.max_prefill_tokens = 5;  // every prompt (7 to 21 tokens) takes two steps or more
  Engine engine(options);
  const auto outputs = generate_all(engine, reference.prompts, 32);
  for (size_t i = 0; i < outputs.size(); ++i) EXPECT_EQ(outputs[i], reference.greedy[i]) << "prompt " << i;

  // A long prompt arriving while another sequence decodes: that sequence gets a token every step.
  SamplingParams params;
  params.max_new_tokens = 8;
  const int64_t first = engine.add(reference.prompts.front(), params);
  for (int guard = 0; guard < 10 && engine.step().empty(); ++guard) {
  }  // until its prefill is done and it decodes
  engine.add(reference.prompts.back(), params);
  for (int step = 0; step < 3; ++step) {
    const auto events = engine.step();
    EXPECT_TRUE(std::any_of(events.begin(), events.end(), [&](const StepEvent& e) { return e.sequence_id == first; }))
        << "step " << step;
  }
}

INSTANTIATE_TEST_SUITE_P(GeneratedModels, ReferenceParity, ::testing::ValuesIn(reference_models()));

}  // namespace
}  // namespace therapeia
