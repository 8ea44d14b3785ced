// The decode-step matrix-vector kernel against at::linear.

#include <gtest/gtest.h>

#include "therapeia/cpu_linear.h"

namespace therapeia {
namespace {

TEST(SmallLinear, MatchesAtLinearForEveryRowCountAndRaggedShapes) {
  if (!small_linear_applies(at::ones({1, 8}), at::ones({8, 8}))) GTEST_SKIP() << "CPU without AVX2/FMA";
  at::manual_seed(3);
  for (int64_t rows = 1; rows <= kSmallLinearMaxRows; ++rows) {
    for (auto [n, k] : {std::pair<int64_t, int64_t>{37, 19}, {64, 576}, {5, 8}}) {
      auto x = at::randn({rows, 1, k});
      auto w = at::randn({n, k});
      auto bias = at::randn({n});
      auto expected = at::linear(x, w, bias);  // [rows, 1, n]
      auto ours = small_linear(x, w, bias);
      ASSERT_EQ(ours.sizes(), expected.sizes());
      EXPECT_TRUE(at::allclose(ours, expected, 1e-5, 1e-4)) << rows << " rows, " << n << "x" << k;
      if (rows > kSmallLinearMaxBfloat16Rows) continue;
      // bfloat16: both accumulate in float32 and round the result once.
      auto ours16 = small_linear(x.to(at::kBFloat16), w.to(at::kBFloat16), {});
      auto expected16 = at::linear(x.to(at::kBFloat16).to(at::kFloat), w.to(at::kBFloat16).to(at::kFloat));
      EXPECT_TRUE(at::allclose(ours16.to(at::kFloat), expected16, 1e-2, 1e-2)) << rows << " rows (bf16)";
    }
  }
}

TEST(SmallLinear, StepsAsideForLargeBatchesAndOtherDtypes) {
  EXPECT_FALSE(small_linear_applies(at::ones({kSmallLinearMaxRows + 1, 8}), at::ones({4, 8})));
  EXPECT_FALSE(small_linear_applies(at::ones({1, 8}, at::kHalf), at::ones({4, 8}, at::kHalf)));
  EXPECT_FALSE(small_linear_applies(at::ones({3, 8}, at::kBFloat16), at::ones({4, 8}, at::kBFloat16)));
  EXPECT_FALSE(small_linear_applies(at::ones({1, 8}), at::ones({8, 4}).t()));  // not contiguous
}

}  // namespace
}  // namespace therapeia
