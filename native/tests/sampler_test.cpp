// The sampler against transformers' logits processors on made-up logits (sampling.json from
// the reference generator), and seeded sampling.

#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <limits>

#include "test_support.h"
#include "therapeia/error.h"
#include "therapeia/sampler.h"

namespace therapeia {
namespace {

at::Tensor scores_of(const nlohmann::json& values) {
  std::vector<float> out;
  for (const auto& v : values) out.push_back(v.is_null() ? -std::numeric_limits<float>::infinity() : v.get<float>());
  return at::tensor(out);
}

TEST(Sampler, ProcessorsMatchTransformersLogitsProcessors) {
  const auto root = test::data_folder("THERAPEIA_REFERENCES");
  ASSERT_FALSE(root.empty());
  const auto cases = test::read_json(root / "sampling.json").at("cases");
  ASSERT_GT(cases.size(), 5u);
  for (const auto& c : cases) {
    SamplingParams params;
    params.temperature = c.at("temperature").get<double>();
    params.top_k = c.at("top_k").get<int64_t>();
    params.top_p = c.at("top_p").get<double>();
    params.repetition_penalty = c.at("repetition_penalty").get<double>();
    // The reference applies the warpers whenever they are set; temperature 0 there means "off".
    if (params.temperature == 0.0) params.temperature = 1.0;
    const auto ours = process_logits(scores_of(c.at("logits")), c.at("previous_ids").get<std::vector<int64_t>>(), params);
    const auto expected = scores_of(c.at("expected"));
    const auto name = c.at("name").get<std::string>();
    ASSERT_EQ(ours.sizes(), expected.sizes()) << name;
    EXPECT_TRUE(at::isinf(ours).equal(at::isinf(expected))) << name << ": filtered tokens differ";
    const auto kept = at::isfinite(expected);
    EXPECT_TRUE(at::allclose(ours.masked_select(kept), expected.masked_select(kept), 1e-6, 1e-6)) << name;
  }
}

TEST(Sampler, GreedyTakesTheArgmaxAfterTheRepetitionPenalty) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(0);
  SamplingParams greedy;
  EXPECT_EQ(sample_token(at::tensor({0.1f, 3.0f, 2.9f}), {}, greedy, generator), 1);
  greedy.repetition_penalty = 2.0;
  EXPECT_EQ(sample_token(at::tensor({0.1f, 3.0f, 2.9f}), {1}, greedy, generator), 2);
}

TEST(Sampler, SameSeedGivesSameTokensAndOtherSeedsDiffer) {
  const auto logits = at::linspace(-1.0, 1.0, 64);
  SamplingParams params;
  params.temperature = 5.0;  // nearly uniform: many distinct draws
  auto draw = [&](uint64_t seed) {
    auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
    std::vector<int64_t> tokens;
    for (int i = 0; i < 20; ++i) tokens.push_back(sample_token(logits, {}, params, generator));
    return tokens;
  };
  EXPECT_EQ(draw(42), draw(42));
  EXPECT_NE(draw(42), draw(43));
}

TEST(Sampler, TopKOneAndTinyTopPAreDeterministic) {
  const auto logits = at::tensor({0.5f, 2.0f, 1.0f, -3.0f});
  for (auto setup : {std::pair<int64_t, double>{1, 1.0}, {0, 1e-6}}) {
    SamplingParams params;
    params.temperature = 1.0;
    params.top_k = setup.first;
    params.top_p = setup.second;
    auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(sample_token(logits, {}, params, generator), 1);
  }
}

TEST(Sampler, InvalidParametersNameTheField) {
  auto expect_error = [](SamplingParams p, const std::string& field) {
    try {
      validate(p);
      ADD_FAILURE() << "no error for " << field;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  SamplingParams p;
  p.temperature = -1;
  expect_error(p, "temperature");
  p = {};
  p.top_p = 0;
  expect_error(p, "top_p");
  p = {};
  p.top_k = -2;
  expect_error(p, "top_k");
  p = {};
  p.max_new_tokens = 0;
  expect_error(p, "max_new_tokens");
  p = {};
  p.repetition_penalty = 0;
  expect_error(p, "repetition_penalty");
}

}  // namespace
}  // namespace therapeia
