// The run-time kernel choice: what the CPU has, capped by the limit tests and benchmarks set.

#include <gtest/gtest.h>

#include "therapeia/cpu_features.h"

namespace therapeia {
namespace {

class CpuIsaLimit : public ::testing::Test {
 protected:
  void TearDown() override { set_cpu_isa_limit(saved_); }
  const CpuIsa saved_ = cpu_isa_limit();
};

TEST_F(CpuIsaLimit, CapsWhatTheKernelsMayUseButNotWhatTheCpuHas) {
  const CpuFeatures detected = detected_cpu_features();
  set_cpu_isa_limit(CpuIsa::kAvx2);
  const CpuFeatures avx2 = cpu_features();
  EXPECT_FALSE(avx2.avx512 || avx2.avx512_bf16 || avx2.avx512_vnni);
  EXPECT_EQ(avx2.avx2_fma, detected.avx2_fma);
  set_cpu_isa_limit(CpuIsa::kScalar);
  EXPECT_FALSE(cpu_features().avx2_fma);
  EXPECT_EQ(describe(cpu_features()), "scalar");
  set_cpu_isa_limit(CpuIsa::kAvx512);
  EXPECT_EQ(cpu_features().avx512_bf16, detected.avx512_bf16);
  EXPECT_EQ(detected_cpu_features().avx512, detected.avx512);
}

TEST(CpuFeatureFlags, ImplyEachOther) {
  const CpuFeatures f = detected_cpu_features();
  if (f.avx512) EXPECT_TRUE(f.avx2_fma);
  if (f.avx512_bf16 || f.avx512_vnni) EXPECT_TRUE(f.avx512);
}

}  // namespace
}  // namespace therapeia
