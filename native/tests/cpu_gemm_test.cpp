// The prefill GEMM of narrow weights (widened_gemm, bfloat16_gemm) against at::linear, on every
// CPU kernel path of this machine (AVX2, and AVX-512 where present), shapes ragged against the
// widened blocks (256 KiB of weight rows: 113 rows of K = 576, 8 rows at least).

#include <gtest/gtest.h>

#include <tuple>

#include "test_support.h"
#include "therapeia/cpu_gemm.h"

namespace therapeia {
namespace {

// [M, N, K]: the SmolLM2 shapes of a prefill (N across several blocks, a ragged last block), tiny
// and odd shapes, and a K so wide that a block holds the minimum of 8 rows.
const std::vector<std::tuple<int64_t, int64_t, int64_t>> kShapes = {
    {1, 1, 1},      {5, 15, 7},    {7, 17, 255},    {25, 31, 257},    {40, 100, 600},
    {9, 960, 576},  {64, 576, 1536}, {12, 3072, 576}, {3, 20, 40000}};

TEST(WidenedGemm, MultipliesByTheRowsItIsGiven) {
  at::manual_seed(4);
  for (auto [m, n, k] : kShapes) {
    auto x = at::randn({m, k});
    auto w = at::randn({n, k});
    std::vector<int64_t> asked(n, 0);
    auto ours = widened_gemm(x, n, [&](int64_t n0, int64_t rows, float* out) {
      for (int64_t r = n0; r < n0 + rows; ++r) ++asked[r];
      std::copy_n(w.data_ptr<float>() + n0 * k, rows * k, out);
    });
    const std::string where = std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
    EXPECT_TRUE(at::allclose(ours, at::mm(x, w.t()), 1e-5, 1e-4)) << where;
    EXPECT_EQ(std::count(asked.begin(), asked.end(), 1), n) << where << ": each weight row widened once";
  }
}

TEST(Bfloat16Gemm, MatchesAtLinearInFloat32OnEveryKernelPath) {
  at::manual_seed(5);
  for (const CpuIsa isa : test::cpu_kernel_paths()) {
    const test::ScopedCpuIsaLimit limit(isa);
    for (auto [m, n, k] : kShapes) {
      const std::string where = std::string(test::name_of(isa)) + ", " + std::to_string(m) + "x" +
                                std::to_string(n) + "x" + std::to_string(k);
      auto x = at::randn({1, m, k}).to(at::kBFloat16);
      auto w = at::randn({n, k}).to(at::kBFloat16);
      auto bias = at::randn({n}).to(at::kBFloat16);
      ASSERT_TRUE(bfloat16_gemm_applies(x, w)) << where;
      auto ours = bfloat16_gemm(x, w, bias);
      ASSERT_EQ(ours.scalar_type(), at::kBFloat16);
      // Both accumulate in float32 and round the result once to bfloat16.
      auto expected = at::linear(x.to(at::kFloat), w.to(at::kFloat), bias.to(at::kFloat));  // [1, m, n]
      ASSERT_EQ(ours.sizes(), expected.sizes());
      EXPECT_TRUE(at::allclose(ours.to(at::kFloat), expected, 1e-2, 1e-2)) << where;
    }
  }
}

TEST(Bfloat16Gemm, StepsAsideForOtherDtypesAndLayouts) {
  const auto bf16 = at::TensorOptions().dtype(at::kBFloat16);
  EXPECT_FALSE(bfloat16_gemm_applies(at::ones({9, 8}), at::ones({4, 8})));  // float32
  EXPECT_FALSE(bfloat16_gemm_applies(at::ones({9, 8}, bf16), at::ones({8, 4}, bf16).t()));  // not contiguous
  EXPECT_FALSE(bfloat16_gemm_applies(at::ones({9, 8}), at::ones({4, 8}, bf16)));  // mixed dtypes
  EXPECT_FALSE(bfloat16_gemm_applies(at::ones({9, 8}, bf16), at::ones({4, 7}, bf16)));  // K differs
  const test::ScopedCpuIsaLimit scalar(CpuIsa::kScalar);
  EXPECT_FALSE(bfloat16_gemm_applies(at::ones({9, 8}, bf16), at::ones({4, 8}, bf16)));
}

}  // namespace
}  // namespace therapeia
