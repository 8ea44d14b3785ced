// The prefill GEMM (tiled_gemm) against at::linear, on every CPU kernel path of this machine
// (AVX2, and AVX-512 where present), float32 and bfloat16, shapes ragged against every block size.

#include <gtest/gtest.h>

#include <tuple>

#include "test_support.h"
#include "therapeia/cpu_gemm.h"

namespace therapeia {
namespace {

// [M, N, K]: M ragged against the row blocks (6 and 12), N against the column blocks (16 and 32),
// K against the packed depth (256); and the SmolLM2 shapes of a prefill.
const std::vector<std::tuple<int64_t, int64_t, int64_t>> kShapes = {
    {1, 1, 1},    {5, 15, 7},    {6, 16, 8},     {7, 17, 255},   {13, 33, 256},
    {25, 31, 257}, {40, 100, 600}, {9, 960, 576}, {64, 576, 1536}, {12, 3072, 576}};

TEST(TiledGemm, MatchesAtLinearOnEveryKernelPath) {
  at::manual_seed(5);
  for (const CpuIsa isa : test::cpu_kernel_paths()) {
    const test::ScopedCpuIsaLimit limit(isa);
    for (auto [m, n, k] : kShapes) {
      const std::string where = std::string(test::name_of(isa)) + ", " + std::to_string(m) + "x" +
                                std::to_string(n) + "x" + std::to_string(k);
      auto x = at::randn({1, m, k});
      auto w = at::randn({n, k});
      auto bias = at::randn({n});
      ASSERT_TRUE(tiled_gemm_applies(x, w)) << where;
      auto expected = at::linear(x, w, bias);  // [1, m, n]
      auto ours = tiled_gemm(x, w, bias);
      ASSERT_EQ(ours.sizes(), expected.sizes());
      EXPECT_TRUE(at::allclose(ours, expected, 1e-5, 1e-4)) << where;

      // bfloat16: both accumulate in float32 and round the result once.
      auto x16 = x.to(at::kBFloat16), w16 = w.to(at::kBFloat16);
      auto ours16 = tiled_gemm(x16, w16, bias.to(at::kBFloat16));
      ASSERT_EQ(ours16.scalar_type(), at::kBFloat16);
      auto expected16 = at::linear(x16.to(at::kFloat), w16.to(at::kFloat), bias.to(at::kBFloat16).to(at::kFloat));
      EXPECT_TRUE(at::allclose(ours16.to(at::kFloat), expected16, 1e-2, 1e-2)) << where << " (bf16)";
    }
  }
}

TEST(TiledGemm, StepsAsideForOtherDtypesAndLayouts) {
  EXPECT_FALSE(tiled_gemm_applies(at::ones({9, 8}, at::kHalf), at::ones({4, 8}, at::kHalf)));
  EXPECT_FALSE(tiled_gemm_applies(at::ones({9, 8}), at::ones({8, 4}).t()));  // not contiguous
  EXPECT_FALSE(tiled_gemm_applies(at::ones({9, 8}), at::ones({4, 8}, at::kBFloat16)));  // mixed dtypes
  const test::ScopedCpuIsaLimit scalar(CpuIsa::kScalar);
  EXPECT_FALSE(tiled_gemm_applies(at::ones({9, 8}), at::ones({4, 8})));
}

}  // namespace
}  // namespace therapeia
