// avx2_lanes.h: exp8 against std::exp over the range it serves, its clamps and NaN; the bfloat16
// rounding against c10's casts.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "therapeia/avx2_lanes.h"
#include "therapeia/cpu_features.h"

namespace therapeia {
namespace {

__attribute__((target("avx2,fma"))) void exp_of(const float* in, float* out) {
  _mm256_storeu_ps(out, exp8(_mm256_loadu_ps(in)));
}

TEST(Avx2Lanes, ExpWithinTwoTenMillionthsOfStdExpFromMinus87To88) {
  if (!cpu_features().avx2_fma) GTEST_SKIP() << "no AVX2 on this CPU: nothing calls exp8";
  double worst = 0;
  float worst_at = 0;
  for (float x0 = -87.0f; x0 < 88.0f; x0 += 0.0123f * 8) {
    float in[8], out[8];
    for (int i = 0; i < 8; ++i) in[i] = x0 + 0.0123f * i;
    exp_of(in, out);
    for (int i = 0; i < 8; ++i) {
      const double exact = std::exp(static_cast<double>(in[i]));
      const double error = std::abs(out[i] - exact) / exact;
      if (error > worst) worst = error, worst_at = in[i];
    }
  }
  EXPECT_LT(worst, 2e-7) << "at x = " << worst_at;
}

TEST(Avx2Lanes, ExpClampsTheEndsAndKeepsNaN) {
  if (!cpu_features().avx2_fma) GTEST_SKIP() << "no AVX2 on this CPU: nothing calls exp8";
  const float inf = std::numeric_limits<float>::infinity();
  float in[8] = {-inf, -1000.0f, 0.0f, 1000.0f, inf, std::nanf(""), -87.3f, 88.3f}, out[8];
  exp_of(in, out);
  EXPECT_LT(out[0], 1.3e-38f);
  EXPECT_GT(out[0], 0.0f);
  EXPECT_EQ(out[0], out[1]);
  EXPECT_FLOAT_EQ(out[2], 1.0f);
  EXPECT_TRUE(std::isfinite(out[3]));
  EXPECT_GT(out[3], 2e38f);
  EXPECT_EQ(out[3], out[4]);
  EXPECT_TRUE(std::isnan(out[5]));
  EXPECT_NEAR(out[6] / std::exp(static_cast<double>(-87.3f)), 1.0, 2e-7);
  EXPECT_NEAR(out[7] / std::exp(static_cast<double>(88.3f)), 1.0, 2e-7);
}

__attribute__((target("avx2,fma"))) void bfloat16_round_trip(const float* in, at::BFloat16* stored, float* rounded) {
  store8(stored, _mm256_loadu_ps(in));
  _mm256_storeu_ps(rounded, round_to(at::BFloat16(), _mm256_loadu_ps(in)));
}

TEST(Avx2Lanes, RoundToBfloat16AsCastsDo) {
  if (!cpu_features().avx2_fma) GTEST_SKIP() << "no AVX2 on this CPU";
  at::manual_seed(3);
  auto values = at::cat({at::randn({4000}) * 100, at::randn({4000}) * 1e-30,
                         at::tensor({0.0f, -0.0f, 1.00390625f, 1.01171875f, 3.4e38f, -3.4e38f,  // halfway: to even
                                     std::numeric_limits<float>::infinity(), std::nanf("")})});
  const float* in = values.data_ptr<float>();
  for (int64_t i = 0; i + 8 <= values.numel(); i += 8) {
    at::BFloat16 stored[8];
    float rounded[8];
    bfloat16_round_trip(in + i, stored, rounded);
    for (int k = 0; k < 8; ++k) {
      const at::BFloat16 expected = static_cast<at::BFloat16>(in[i + k]);
      ASSERT_EQ(stored[k].x, expected.x) << "at " << in[i + k];
      if (std::isnan(in[i + k])) ASSERT_TRUE(std::isnan(rounded[k]));
      else ASSERT_EQ(rounded[k], static_cast<float>(expected)) << "at " << in[i + k];
    }
  }
}

}  // namespace
}  // namespace therapeia
