// The decode step's attention kernel against at::scaled_dot_product_attention: grouped-query
// heads, keys and values as strided views of a larger cache, float32 and bfloat16.

#include <gtest/gtest.h>

#include "test_support.h"
#include "therapeia/cpu_decode_attention.h"

namespace therapeia {
namespace {

TEST(DecodeAttention, MatchesScaledDotProductAttentionOnCacheViews) {
  at::manual_seed(11);
  // (B, NQ, NKV, L, D): grouped query heads, plain multi-head, one key, a ragged head size.
  for (auto [B, NQ, NKV, L, D] : {std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t>{1, 9, 3, 70, 64},
                                  {2, 4, 4, 33, 32}, {1, 2, 1, 1, 16}, {3, 6, 2, 129, 20}}) {
    for (const auto dtype : {at::kFloat, at::kBFloat16}) {
      const std::string where = std::to_string(B) + "x" + std::to_string(NQ) + "/" + std::to_string(NKV) + " heads, " +
                                std::to_string(L) + " keys, D " + std::to_string(D) + ", " + c10::toString(dtype);
      auto q = at::randn({B, NQ, 1, D}).to(dtype);
      // A cache [B + 1, NKV, L + 5, D] of which the keys are a view, as forward_decode narrows it.
      auto keys = at::randn({B + 1, NKV, L + 5, D}).to(dtype).narrow(0, 1, B).narrow(2, 0, L);
      auto values = at::randn({B + 1, NKV, L + 5, D}).to(dtype).narrow(0, 1, B).narrow(2, 0, L);
      ASSERT_TRUE(decode_attention_applies(q, keys, values)) << where;
      const double scale = 1.0 / std::sqrt(static_cast<double>(D));
      auto expected = at::scaled_dot_product_attention(q.to(at::kFloat), keys.to(at::kFloat), values.to(at::kFloat),
                                                       std::nullopt, 0.0, false, scale, NQ != NKV);
      auto ours = decode_attention(q, keys, values, scale);
      ASSERT_EQ(ours.sizes(), expected.sizes()) << where;
      ASSERT_EQ(ours.scalar_type(), dtype) << where;
      const double tolerance = dtype == at::kFloat ? 1e-5 : 1e-2;
      EXPECT_TRUE(at::allclose(ours.to(at::kFloat), expected, tolerance, tolerance))
          << where << ": max difference " << (ours.to(at::kFloat) - expected).abs().max().item<float>();
    }
  }
}

TEST(DecodeAttention, GivesEachSequenceOfABatchItsOwnKeysAsAMaskWould) {
  at::manual_seed(12);
  const int64_t B = 3, NQ = 6, NKV = 2, L = 40, D = 32;
  const std::vector<int64_t> lengths = {40, 7, 1};
  for (const auto dtype : {at::kFloat, at::kBFloat16}) {
    auto q = at::randn({B, NQ, 1, D}).to(dtype);
    auto keys = at::randn({B, NKV, L, D}).to(dtype), values = at::randn({B, NKV, L, D}).to(dtype);
    auto visible = at::arange(L).view({1, 1, 1, L}) < at::tensor(lengths).view({B, 1, 1, 1});  // [B, 1, 1, L]
    const double scale = 0.125;
    auto expected = at::scaled_dot_product_attention(q.to(at::kFloat), keys.to(at::kFloat), values.to(at::kFloat),
                                                     visible, 0.0, false, scale, true);
    auto ours = decode_attention(q, keys, values, scale, lengths).to(at::kFloat);
    const double tolerance = dtype == at::kFloat ? 1e-5 : 1e-2;
    EXPECT_TRUE(at::allclose(ours, expected, tolerance, tolerance))
        << c10::toString(dtype) << ": max difference " << (ours - expected).abs().max().item<float>();
  }
}

TEST(DecodeAttention, ReadsEachSequenceFromItsOwnCacheEntryInPlace) {
  at::manual_seed(13);
  const int64_t S = 5, NQ = 6, NKV = 2, L = 24, D = 16;
  const std::vector<int64_t> rows = {4, 0, 2}, lengths = {24, 9, 3};  // scattered, out of order
  const int64_t B = static_cast<int64_t>(rows.size());
  for (const auto dtype : {at::kFloat, at::kBFloat16}) {
    auto q = at::randn({B, NQ, 1, D}).to(dtype);
    auto cache_keys = at::randn({S, NKV, L + 4, D}).to(dtype).narrow(2, 0, L);  // [S, NKV, L, D]
    auto cache_values = at::randn({S, NKV, L + 4, D}).to(dtype).narrow(2, 0, L);
    ASSERT_TRUE(decode_attention_applies(q, cache_keys, cache_values, rows));
    auto index = at::tensor(rows);
    auto gathered = decode_attention(q, cache_keys.index_select(0, index), cache_values.index_select(0, index), 0.25,
                                     lengths);
    auto in_place = decode_attention(q, cache_keys, cache_values, 0.25, lengths, rows);
    EXPECT_TRUE(at::equal(in_place, gathered)) << c10::toString(dtype);
  }
  auto q = at::randn({2, 4, 1, 16}), k = at::randn({3, 2, 8, 16});
  EXPECT_FALSE(decode_attention_applies(q, k, k, {0, 3}));     // past the cache
  EXPECT_FALSE(decode_attention_applies(q, k, k, {0, -1}));    // negative
  EXPECT_FALSE(decode_attention_applies(q, k, k, {1}));        // a row for each sequence
  EXPECT_FALSE(decode_attention_applies(q, k, k));             // 3 cache entries, 2 sequences, no rows
}

TEST(DecodeAttention, StepsAsideForPromptsAndMismatchedShapes) {
  auto k = at::randn({1, 2, 8, 16});
  EXPECT_FALSE(decode_attention_applies(at::randn({1, 4, 2, 16}), k, k));   // two query rows: a prompt
  EXPECT_FALSE(decode_attention_applies(at::randn({1, 3, 1, 16}), k, k));   // 3 heads over 2 groups
  EXPECT_FALSE(decode_attention_applies(at::randn({1, 4, 1, 8}), k, k));    // head size differs
  const test::ScopedCpuIsaLimit scalar(CpuIsa::kScalar);
  EXPECT_FALSE(decode_attention_applies(at::randn({1, 4, 1, 16}), k, k));  // no AVX2: SDPA
}

}  // namespace
}  // namespace therapeia
