// The decode-step kernel (small_linear) against at::linear, on every CPU kernel path of this
// machine (AVX2, and AVX-512 where present), float32 and bfloat16, every row count, ragged shapes.

#include <gtest/gtest.h>

#include "test_support.h"
#include "therapeia/cpu_linear.h"

namespace therapeia {
namespace {

// Shapes [N, K]: K ragged against both vector widths (8 and 16 lanes), N ragged against the
// weight rows per pass, and the SmolLM2 shapes of a layer.
const std::vector<std::pair<int64_t, int64_t>> kShapes = {{37, 19}, {5, 8}, {3, 1}, {21, 33}, {64, 576}, {960, 576}};

TEST(SmallLinear, MatchesAtLinearForEveryRowCountOnEveryKernelPath) {
  at::manual_seed(3);
  for (const CpuIsa isa : test::cpu_kernel_paths()) {
    const test::ScopedCpuIsaLimit limit(isa);
    for (int64_t rows = 1; rows <= kSmallLinearMaxRows; ++rows) {
      for (auto [n, k] : kShapes) {
        const std::string where = std::string(test::name_of(isa)) + ", " + std::to_string(rows) + " rows, " +
                                  std::to_string(n) + "x" + std::to_string(k);
        auto x = at::randn({rows, 1, k});
        auto w = at::randn({n, k});
        auto bias = at::randn({n});
        ASSERT_TRUE(small_linear_applies(x, w)) << where;
        auto expected = at::linear(x, w, bias);  // [rows, 1, n]
        auto ours = small_linear(x, w, bias);
        ASSERT_EQ(ours.sizes(), expected.sizes());
        EXPECT_TRUE(at::allclose(ours, expected, 1e-5, 1e-4)) << where;

        // bfloat16: both accumulate in float32 and round the result once.
        auto x16 = x.to(at::kBFloat16), w16 = w.to(at::kBFloat16);
        ASSERT_TRUE(small_linear_applies(x16, w16)) << where;
        auto bias16 = bias.to(at::kBFloat16);
        auto ours16 = small_linear(x16, w16, bias16);
        ASSERT_EQ(ours16.scalar_type(), at::kBFloat16);
        auto expected16 = at::linear(x16.to(at::kFloat), w16.to(at::kFloat), bias16.to(at::kFloat));
        EXPECT_TRUE(at::allclose(ours16.to(at::kFloat), expected16, 1e-2, 1e-2)) << where << " (bf16)";
      }
    }
  }
}

TEST(SmallLinear, StepsAsideForLargeBatchesAndOtherDtypes) {
  EXPECT_FALSE(small_linear_applies(at::ones({kSmallLinearMaxRows + 1, 8}), at::ones({4, 8})));
  EXPECT_FALSE(small_linear_applies(at::ones({1, 8}, at::kHalf), at::ones({4, 8}, at::kHalf)));
  EXPECT_FALSE(small_linear_applies(at::ones({1, 8}), at::ones({8, 4}).t()));  // not contiguous
  const test::ScopedCpuIsaLimit scalar(CpuIsa::kScalar);
  EXPECT_FALSE(small_linear_applies(at::ones({1, 8}), at::ones({4, 8})));  // no AVX2: at::linear
}

// Whichever kernel apply_linear picks (ours for few rows, our GEMM or oneDNN/MKL for many, by
// dtype and CPU), it computes the same product.
TEST(ApplyLinear, MatchesAtLinearWhicheverKernelItPicks) {
  at::manual_seed(7);
  for (const CpuIsa isa : test::cpu_kernel_paths()) {
    const test::ScopedCpuIsaLimit limit(isa);
    for (int64_t rows : {1, 2, 3, 8, 9, 40}) {
      const std::string where = std::string(test::name_of(isa)) + ", " + std::to_string(rows) + " rows";
      auto x = at::randn({1, rows, 72});
      auto w = at::randn({50, 72});
      auto bias = at::randn({50});
      EXPECT_TRUE(at::allclose(apply_linear(x, w, bias), at::linear(x, w, bias), 1e-5, 1e-4)) << where;
      auto x16 = x.to(at::kBFloat16), w16 = w.to(at::kBFloat16);
      auto expected16 = at::linear(x16.to(at::kFloat), w16.to(at::kFloat));
      EXPECT_TRUE(at::allclose(apply_linear(x16, w16).to(at::kFloat), expected16, 1e-2, 1e-2)) << where << " (bf16)";
    }
  }
}

TEST(ApplyLinear, CountsItsTimeForTheBenchmark) {
  const int64_t before = linear_nanoseconds();
  auto y = apply_linear(at::randn({3, 64}), at::randn({32, 64}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{3, 32}));
  EXPECT_GT(linear_nanoseconds(), before);
}

}  // namespace
}  // namespace therapeia
