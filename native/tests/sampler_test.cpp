// The sampler against transformers' logits processors on made-up logits (sampling.json from
// the reference generator), and seeded sampling.

#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <limits>
#include <set>

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

// Extreme settings that still pass validate(): where transformers' float32 arithmetic overflows
// (inf, then NaN from softmax, then at::multinomial throwing), the processed scores stay free of
// NaN and +inf and a token is drawn.
bool has_nan_or_positive_infinity(const at::Tensor& scores) {
  return (at::isnan(scores) | at::isposinf(scores)).any().item<bool>();
}

TEST(Sampler, TemperatureNearZeroIsGreedyAndNeverOverflows) {
  const auto logits = at::tensor({1.0f, 5.0f, 4.999f, -2.0f, 0.0f});
  const double subnormal = std::numeric_limits<double>::denorm_min();
  for (double temperature : {1e-5, 1e-30, 1e-39, 1e-46, subnormal}) {
    SCOPED_TRACE(temperature);
    SamplingParams params;
    params.temperature = temperature;
    const auto scores = process_logits(logits, {}, params);
    EXPECT_FALSE(has_nan_or_positive_infinity(scores)) << scores;
    auto generator = at::make_generator<at::CPUGeneratorImpl>(3);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(sample_token(logits, {}, params, generator), 1);
  }
}

TEST(Sampler, TemperatureNearZeroSplitsExactTiesOnly) {
  const auto logits = at::tensor({2.0f, 7.0f, 7.0f, 6.0f});
  SamplingParams params;
  params.temperature = 1e-39;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(11);
  std::set<int64_t> drawn;
  for (int i = 0; i < 64; ++i) drawn.insert(sample_token(logits, {}, params, generator));
  EXPECT_EQ(drawn, (std::set<int64_t>{1, 2}));
}

TEST(Sampler, LargeLogitsOverAModerateTemperatureStayFinite) {
  // 3e38 / 0.5 overflows float32; the largest still wins.
  const auto logits = at::tensor({3e38f, -3e38f, 1e38f, 0.0f});
  SamplingParams params;
  params.temperature = 0.5;
  EXPECT_FALSE(has_nan_or_positive_infinity(process_logits(logits, {}, params)));
  auto generator = at::make_generator<at::CPUGeneratorImpl>(5);
  EXPECT_EQ(sample_token(logits, {}, params, generator), 0);
}

TEST(Sampler, TemperatureFarAboveOneIsNearlyUniform) {
  const auto logits = at::tensor({1.0f, 5.0f, -3.0f, 0.5f, -std::numeric_limits<float>::infinity()});
  SamplingParams params;
  params.temperature = 1e308;
  const auto scores = process_logits(logits, {}, params);
  EXPECT_FALSE(has_nan_or_positive_infinity(scores)) << scores;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(9);
  std::set<int64_t> drawn;
  for (int i = 0; i < 200; ++i) drawn.insert(sample_token(logits, {}, params, generator));
  EXPECT_EQ(drawn, (std::set<int64_t>{0, 1, 2, 3})) << "every finite token, never the -inf one";
}

TEST(Sampler, RepetitionPenaltyNearZeroOrHugeNeverOverflows) {
  const auto logits = at::tensor({3.0f, -2.0f, 1.0f, 2.5f, 0.0f});
  const double subnormal = std::numeric_limits<double>::denorm_min();
  for (double penalty : {1e-39, 1e-46, subnormal}) {
    SCOPED_TRACE(penalty);
    SamplingParams params;
    params.repetition_penalty = penalty;
    // token 2 was seen: divided by a tiny penalty it overtakes every other token
    const auto scores = process_logits(logits, {2, 1}, params);
    EXPECT_FALSE(has_nan_or_positive_infinity(scores)) << scores;
    auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
    EXPECT_EQ(sample_token(logits, {2, 1}, params, generator), 2) << "greedy";
    params.temperature = 0.7;
    for (int i = 0; i < 10; ++i) EXPECT_EQ(sample_token(logits, {2, 1}, params, generator), 2) << "sampled";
    params.temperature = 1e-39;
    EXPECT_EQ(sample_token(logits, {2, 1}, params, generator), 2) << "both near 0";
  }
  SamplingParams huge;
  huge.repetition_penalty = 1e308;
  huge.temperature = 1.0;
  const auto scores = process_logits(logits, {0, 1}, huge);
  EXPECT_FALSE(has_nan_or_positive_infinity(scores)) << scores;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(2);
  for (int i = 0; i < 20; ++i) EXPECT_NE(sample_token(logits, {0, 1}, huge, generator), 1);
}

TEST(Sampler, TinyTopPAndHugeTopKAreSafe) {
  const auto logits = at::tensor({0.5f, 2.0f, 1.0f, -3.0f});
  SamplingParams params;
  params.temperature = 1.0;
  params.top_p = std::numeric_limits<double>::denorm_min();
  params.top_k = std::numeric_limits<int64_t>::max();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(4);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(sample_token(logits, {}, params, generator), 1);
}

TEST(Sampler, NonFiniteLogitsFailTheSequenceWithAClearMessage) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  auto expect_failure = [](const at::Tensor& logits, double temperature, const std::string& mention) {
    SamplingParams params;
    params.temperature = temperature;
    auto generator = at::make_generator<at::CPUGeneratorImpl>(0);
    try {
      sample_token(logits, {}, params, generator);
      ADD_FAILURE() << "no error for " << logits;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(mention), std::string::npos) << e.what();
    }
  };
  for (double temperature : {0.0, 0.7}) {
    expect_failure(at::tensor({1.0f, nan, 2.0f}), temperature, "NaN");
    expect_failure(at::tensor({1.0f, inf, 2.0f}), temperature, "infinity");
    expect_failure(at::tensor({-inf, -inf}), temperature, "no finite value");
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
