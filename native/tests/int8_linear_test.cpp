// 8-bit weights: quantization at load, and the decode and prefill kernels against at::linear on
// the dequantized weight, on the AVX-512 path (where the CPU has it) and the forced AVX2 path.

#include <gtest/gtest.h>

#include "test_support.h"
#include "therapeia/cpu_features.h"
#include "therapeia/engine.h"
#include "therapeia/error.h"
#include "therapeia/int8_linear.h"
#include "therapeia/quantize.h"

namespace therapeia {
namespace {

// Every vector path this CPU can run, widest first.
std::vector<CpuIsa> kernel_paths() {
  std::vector<CpuIsa> paths;
  if (detected_cpu_features().avx512) paths.push_back(CpuIsa::kAvx512);
  if (detected_cpu_features().avx2_fma) paths.push_back(CpuIsa::kAvx2);
  paths.push_back(CpuIsa::kScalar);
  return paths;
}

class Int8Kernels : public ::testing::Test {
 protected:
  void TearDown() override { set_cpu_isa_limit(saved_); }
  const CpuIsa saved_ = cpu_isa_limit();
};

TEST(Int8Quantization, RoundsEachGroupToItsOwnScale) {
  at::manual_seed(5);
  auto w = at::randn({6, 64});
  w[2][40] = 50.0;  // an outlier coarsens its own group of 32 only
  const auto q = quantize_int8(w, "w");
  EXPECT_EQ(q.group_size, 32);
  EXPECT_EQ(q.values.scalar_type(), at::kChar);
  EXPECT_EQ(q.scales.sizes(), (at::IntArrayRef{6, 2}));
  EXPECT_LE(q.values.abs().max().item<int>(), 127);
  // Round to nearest: every weight within half a step of its group's scale.
  auto step = q.scales.repeat_interleave(32, 1);  // [6, 64]
  EXPECT_TRUE(((dequantize(q) - w).abs() <= step / 2 + 1e-6).all().item<bool>());
  EXPECT_LT((dequantize(q) - w)[2].narrow(0, 0, 32).abs().max().item<float>(), 0.05);
}

TEST(Int8Quantization, UsesOneScalePerRowWhenKIsNotAMultipleOf32AndKeepsZeros) {
  auto w = at::randn({3, 2, 19}, at::kBFloat16);  // stacked experts, bfloat16 checkpoint
  w[1][0].zero_();
  const auto q = quantize_int8(w, "w");
  EXPECT_EQ(q.group_size, 19);
  EXPECT_EQ(q.scales.sizes(), (at::IntArrayRef{3, 2, 1}));
  EXPECT_TRUE(dequantize(q)[1][0].eq(0).all().item<bool>());
  EXPECT_TRUE(at::allclose(dequantize(q[2]), dequantize(q)[2]));
}

TEST(Int8Quantization, RefusesNonFiniteWeightsNamingTheTensor) {
  auto w = at::randn({4, 32});
  w[1][3] = std::numeric_limits<float>::quiet_NaN();
  try {
    quantize_int8(w, "model.layers.0.mlp.down_proj.weight");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.layers.0.mlp.down_proj.weight"), std::string::npos) << e.what();
  }
}

TEST_F(Int8Kernels, MatchAtLinearOnTheDequantizedWeightForEveryRowCountAndRaggedShapes) {
  at::manual_seed(7);
  // (N, K): groups of 32; K = 40 and 19 with one scale per row and a tail after the vectors.
  for (auto [n, k] : {std::pair<int64_t, int64_t>{37, 64}, {96, 576}, {5, 32}, {70, 40}, {13, 19}}) {
    const auto q = quantize_int8(at::randn({n, k}), "w");
    const auto w = dequantize(q);
    const auto bias = at::randn({n});
    for (const CpuIsa path : kernel_paths()) {
      set_cpu_isa_limit(path);
      // 1-8 rows: the decode kernel; 9 and 70: prefill (N = 96: a block of 64 weight rows and a
      // ragged one).
      for (int64_t rows : {1, 2, 3, 4, 5, 6, 7, 8, 9, 70}) {
        auto x = at::randn({rows, 1, k});
        auto expected = at::linear(x, w, bias);  // [rows, 1, n]
        auto ours = int8_linear(x, q, bias);
        ASSERT_EQ(ours.sizes(), expected.sizes());
        EXPECT_TRUE(at::allclose(ours, expected, 1e-4, 1e-4))
            << "ISA " << static_cast<int>(path) << ", " << rows << " rows, " << n << "x" << k << ": max difference "
            << (ours - expected).abs().max().item<float>();
      }
    }
  }
}

TEST_F(Int8Kernels, RejectAnInputOfTheWrongWidth) {
  const auto q = quantize_int8(at::randn({4, 32}), "w");
  EXPECT_THROW(int8_linear(at::randn({1, 31}), q), Error);
}

// The message of the Error that loading `options` throws, or "" when it loads.
std::string load_error(const EngineOptions& options) {
  try {
    Engine engine(options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Int8Setting, IsADtypeAndBadValuesOrDevicesAreRefusedByName) {
  EngineOptions options;
  options.model_dir = test::data_folder("THERAPEIA_FIXTURES") / "ferrl-tiny_llama";
  options.dtype = "int4";
  const auto unknown = load_error(options);
  EXPECT_NE(unknown.find("dtype 'int4'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("int8"), std::string::npos) << unknown;
  options.dtype = "int8";
  options.device = "cuda";
  const auto on_gpu = load_error(options);  // refused before anything is placed on the device
  EXPECT_NE(on_gpu.find("dtype int8"), std::string::npos) << on_gpu;
  EXPECT_NE(on_gpu.find("CPU"), std::string::npos) << on_gpu;
}

}  // namespace
}  // namespace therapeia
