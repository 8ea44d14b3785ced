// What 8-bit weights cost in accuracy: the int8 engine against the float32 engine on the same
// checkpoint, on every generated reference model and third-party fixture, on each kernel path.
//
// These models have random weights and near-flat logits, where any rounding flips a greedy token
// now and then and the continuations part for good (our bfloat16 engine parts from float32 after
// a few dozen tokens on most of them too). So the yardstick is our bfloat16 engine on the same
// prompts, and greedy agreement is counted token by token on float32's own continuation:
//  - logits: max |int8 - float32| / max |float32| at most kBfloat16Factor times bfloat16's, at
//    every prompt position (nine in ten with mixture-of-experts, see below);
//  - greedy: over float32's 64 greedy tokens, int8 picks the same next token at least
//    kGreedyAgreement of the time given the same history.
// The free-running continuations are printed too; the README quotes these figures.

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "test_support.h"
#include "therapeia/cpu_features.h"
#include "therapeia/engine.h"

namespace therapeia {
namespace {

constexpr double kBfloat16Factor = 2.5;
constexpr double kGreedyAgreement = 0.9;
// A router whose top-k candidates are nearly tied picks another expert under any rounding, and
// that position's logits jump (bfloat16's too): with mixture-of-experts, nine in ten prompt
// positions must be within the bound.
constexpr double kMoePositionsWithin = 0.9;
constexpr int64_t kGreedyTokens = 64;

// "references/NAME" for each generated model, "fixtures/NAME" for each third-party one.
std::vector<std::string> accuracy_models() {
  std::vector<std::string> names;
  for (auto [variable, prefix] : {std::pair{"THERAPEIA_REFERENCES", "references/"}, {"THERAPEIA_FIXTURES", "fixtures/"}}) {
    const char* root = std::getenv(variable);
    if (root == nullptr || !std::filesystem::is_directory(root)) return {"<" + std::string(variable) + " missing>"};
    for (const auto& entry : std::filesystem::directory_iterator(root)) {
      if (std::filesystem::exists(entry.path() / "config.json")) names.push_back(prefix + entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::filesystem::path model_dir(const std::string& name) {
  const auto slash = name.find('/');
  const char* variable = name.substr(0, slash) == "references" ? "THERAPEIA_REFERENCES" : "THERAPEIA_FIXTURES";
  return test::data_folder(variable) / name.substr(slash + 1);
}

// Four prompts of fixed random ids: two short enough for the decode kernel (<= 8 rows), two
// that take the prefill kernel (where the model's context leaves room for them and 8 new tokens).
std::vector<std::vector<int64_t>> prompts_for(const ModelConfig& config) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> id(0, config.vocab_size - 1);
  std::vector<std::vector<int64_t>> prompts;
  for (int64_t length : {5, 8, 13, 21}) {
    std::vector<int64_t> prompt(std::min<int64_t>(length, config.max_position_embeddings - 8));
    for (auto& token : prompt) token = id(rng);
    prompts.push_back(prompt);
  }
  return prompts;
}

std::vector<std::vector<int64_t>> greedy(Engine& engine, const std::vector<std::vector<int64_t>>& prompts,
                                         int64_t new_tokens) {
  SamplingParams params;
  params.max_new_tokens = new_tokens;
  params.ignore_eos = true;
  std::map<int64_t, size_t> index;
  for (size_t i = 0; i < prompts.size(); ++i) index[engine.add(prompts[i], params)] = i;
  std::vector<std::vector<int64_t>> outputs(prompts.size());
  for (int guard = 0; engine.stats().running + engine.stats().waiting > 0 && guard < 10000; ++guard) {
    for (const auto& event : engine.step()) outputs[index.at(event.sequence_id)].push_back(event.token);
  }
  return outputs;
}

// How far an engine is from float32 on the prompts and on float32's greedy continuations.
struct Divergence {
  double relative_error = 0;   // logits over the prompts, worst position
  std::vector<at::Tensor> per_position;  // [T] per prompt: max |ours - float32| / max |float32|
  int64_t same_next = 0;       // positions of float32's continuations where the argmax agrees
  int64_t positions = 0;
  int64_t identical = 0;       // free-running: continuations identical to float32's
  int64_t before_first = 0;    // free-running: tokens before the first difference, summed
};

class Int8Accuracy : public ::testing::TestWithParam<std::string> {
 protected:
  void TearDown() override { set_cpu_isa_limit(saved_); }
  const CpuIsa saved_ = cpu_isa_limit();
};

TEST_P(Int8Accuracy, LogitsAndGreedyTokensStayCloseToFloat32OnEveryKernelPath) {
  ASSERT_NE(GetParam().front(), '<') << GetParam();
  EngineOptions options;
  options.model_dir = model_dir(GetParam());
  options.max_slots = 4;
  const auto config = load_model_config(options.model_dir);
  const auto prompts = prompts_for(config);
  // Some fixtures hold only 16 or 64 positions, and decode fewer tokens.
  const int64_t longest = static_cast<int64_t>(prompts.back().size());
  options.max_context = std::min<int64_t>(longest + kGreedyTokens, config.max_position_embeddings);
  const int64_t new_tokens = options.max_context - longest;

  Engine float32(options);
  std::vector<at::Tensor> prompt_logits;  // [T, V] per prompt
  for (const auto& prompt : prompts) prompt_logits.push_back(float32.logits(prompt));
  const auto continuations = greedy(float32, prompts, new_tokens);
  std::vector<std::vector<int64_t>> histories;  // prompt + float32's continuation, but its last token
  std::vector<at::Tensor> next_tokens;          // [new_tokens] float32's argmax after each history prefix
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto history = prompts[i];
    history.insert(history.end(), continuations[i].begin(), continuations[i].end() - 1);
    histories.push_back(history);
    next_tokens.push_back(at::tensor(continuations[i], at::kLong));
  }

  auto measure = [&](Engine& engine) {
    Divergence d;
    for (size_t i = 0; i < prompts.size(); ++i) {
      const auto& expected = prompt_logits[i];  // [T, V]
      d.per_position.push_back((engine.logits(prompts[i]) - expected).abs().amax(-1) / expected.abs().max());
      d.relative_error = std::max(d.relative_error, d.per_position.back().max().item<double>());
      const int64_t start = static_cast<int64_t>(prompts[i].size()) - 1;
      auto picked = engine.logits(histories[i]).narrow(0, start, new_tokens).argmax(-1);  // [new_tokens]
      d.same_next += picked.eq(next_tokens[i]).sum().item<int64_t>();
      d.positions += new_tokens;
    }
    const auto tokens = greedy(engine, prompts, new_tokens);
    for (size_t i = 0; i < prompts.size(); ++i) {
      d.identical += tokens[i] == continuations[i] ? 1 : 0;
      size_t n = 0;
      while (n < tokens[i].size() && n < continuations[i].size() && tokens[i][n] == continuations[i][n]) ++n;
      d.before_first += static_cast<int64_t>(n);
    }
    return d;
  };
  auto report = [&](const std::string& what, const Divergence& d) {
    std::cout << "[ accuracy ] " << GetParam() << " " << what << " vs float32: logits max relative error "
              << d.relative_error << "; next token agrees at " << d.same_next << "/" << d.positions
              << " positions; free-running: " << d.identical << "/" << prompts.size() << " continuations identical, "
              << d.before_first << "/" << prompts.size() * new_tokens << " tokens before the first difference\n";
  };

  options.dtype = "bfloat16";
  Engine bfloat16(options);
  const Divergence yardstick = measure(bfloat16);
  report("bfloat16", yardstick);

  options.dtype = "int8";
  Engine int8(options);
  std::vector<CpuIsa> paths = {CpuIsa::kAvx2};
  if (detected_cpu_features().avx512) paths.insert(paths.begin(), CpuIsa::kAvx512);
  const bool moe = config.moe.num_experts > 0;
  const double bound = kBfloat16Factor * yardstick.relative_error;
  for (const CpuIsa path : paths) {
    set_cpu_isa_limit(path);
    const std::string name = path == CpuIsa::kAvx512 ? "int8 (avx512)" : "int8 (avx2)";
    const Divergence d = measure(int8);
    report(name, d);
    int64_t positions = 0, within = 0;
    for (const auto& errors : d.per_position) {
      positions += errors.size(0);
      within += (errors <= bound).sum().item<int64_t>();
    }
    if (moe) EXPECT_GE(within, kMoePositionsWithin * positions) << name << ": positions within " << bound;
    else EXPECT_EQ(within, positions) << name << ": positions within " << bound;
    EXPECT_GE(d.same_next, kGreedyAgreement * d.positions) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(AllModels, Int8Accuracy, ::testing::ValuesIn(accuracy_models()));

}  // namespace
}  // namespace therapeia
