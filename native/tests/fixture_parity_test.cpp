// Parity with the third-party Hugging Face reference logits in fixtures/hf-reference.

#include <gtest/gtest.h>

#include "test_support.h"
#include "therapeia/engine.h"

namespace therapeia {
namespace {

using test::matrix;
using test::read_json;
using test::relative_error;

struct FixtureCase {
  std::vector<int64_t> ids;
  at::Tensor logits;  // [T, V]
};

// golden.json (ferrl-*): flat logits per case over shape [B, T, V];
// logits.json (neuralapi-*): [3][16][V] for three sequences.
std::vector<FixtureCase> load_cases(const std::filesystem::path& dir) {
  std::vector<FixtureCase> cases;
  if (std::filesystem::exists(dir / "golden.json")) {
    const auto golden = read_json(dir / "golden.json");
    for (const auto& [name, c] : golden.at("cases").items()) {
      const auto shape = c.at("shape").get<std::vector<int64_t>>();
      auto all = at::tensor(c.at("logits").get<std::vector<float>>()).view(shape);
      const auto inputs = c.at("input_ids");
      for (size_t b = 0; b < inputs.size(); ++b) {
        cases.push_back({inputs[b].get<std::vector<int64_t>>(), all[b]});
      }
    }
  } else {
    const auto reference = read_json(dir / "logits.json");
    const auto sequences = reference.at("sequences");
    for (size_t b = 0; b < sequences.size(); ++b) {
      cases.push_back({sequences[b].get<std::vector<int64_t>>(), matrix(reference.at("logits")[b])});
    }
  }
  return cases;
}

class FixtureParity : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureParity, LogitsAtEveryPositionMatchTransformers) {
  const auto root = test::data_folder("THERAPEIA_FIXTURES");
  ASSERT_FALSE(root.empty());
  EngineOptions options;
  options.model_dir = root / GetParam();
  Engine engine(options);
  const auto cases = load_cases(options.model_dir);
  ASSERT_FALSE(cases.empty());
  double worst = 0;
  for (const auto& c : cases) {
    auto ours = engine.logits(c.ids);
    ASSERT_EQ(ours.sizes(), c.logits.sizes());
    const double error = relative_error(ours, c.logits);
    worst = std::max(worst, error);
    EXPECT_LT(error, 1e-4);
    EXPECT_TRUE(test::same_argmax(ours, c.logits)) << "argmax differs";
  }
  RecordProperty("max_relative_error", std::to_string(worst));
  std::cout << "[ parity ] " << GetParam() << " max relative error " << worst << "\n";
}

INSTANTIATE_TEST_SUITE_P(DenseFixtures, FixtureParity,
                         ::testing::Values("ferrl-tiny_llama", "ferrl-tiny_qwen3", "neuralapi-tiny_mistral",
                                           "neuralapi-tiny_qwen2", "neuralapi-tiny_qwen3"));

INSTANTIATE_TEST_SUITE_P(MixtureOfExpertsFixtures, FixtureParity,
                         ::testing::Values("neuralapi-tiny_mixtral", "neuralapi-tiny_qwen3_moe",
                                           "neuralapi-tiny_qwen3_moe_window", "neuralapi-tiny_olmoe"));

}  // namespace
}  // namespace therapeia
