#include "therapeia/cpu_gemm.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <immintrin.h>

#include <algorithm>

#include "therapeia/avx2_lanes.h"
#include "therapeia/cpu_features.h"

namespace therapeia {
namespace {

// Weight rows widened per block: a float32 block of about 256 KiB stays in L2 while the GEMM runs
// every input row over it. Measured on the SmolLM2 shape (2 threads, 1 MiB L2 per core): 64 KiB
// blocks cost a third of the speed (a GEMM call per few rows), 1 MiB and more a tenth or more.
int64_t block_rows(int64_t K) {
  constexpr int64_t kBlockBytes = 256 * 1024;
  return std::max<int64_t>(8, kBlockBytes / (K * 4) / 8 * 8);
}

// out[r, :] = w[n0 + r, :] as float32.
__attribute__((target("avx2,fma"))) void widen_bfloat16_rows(const at::BFloat16* w, int64_t K, int64_t n0,
                                                              int64_t rows, float* out) {
  const at::BFloat16* in = w + n0 * K;
  const int64_t count = rows * K, vector_count = count - count % 8;
  for (int64_t i = 0; i < vector_count; i += 8) _mm256_storeu_ps(out + i, load8(in + i));
  for (int64_t i = vector_count; i < count; ++i) out[i] = static_cast<float>(in[i]);
}

}  // namespace

at::Tensor widened_gemm(const at::Tensor& x32, int64_t N, const WidenRows& widen_rows) {
  const int64_t M = x32.size(0), K = x32.size(1), rows_per_block = block_rows(K);
  auto y = at::empty({M, N}, x32.options());  // [M, N]
  // The GEMM writes into y from the pool's threads: they must run in the caller's inference mode,
  // since an inference tensor may be written only inside one (the mode is per thread).
  const bool inference = c10::InferenceMode::is_enabled();
  at::parallel_for(0, (N + rows_per_block - 1) / rows_per_block, 1, [&](int64_t begin, int64_t end) {
    c10::InferenceMode same_mode(inference);
    auto block = at::empty({rows_per_block, K}, x32.options());  // [rows_per_block, K]
    for (int64_t b = begin; b < end; ++b) {
      const int64_t n0 = b * rows_per_block, rows = std::min(rows_per_block, N - n0);
      widen_rows(n0, rows, block.data_ptr<float>());
      auto out = y.narrow(1, n0, rows);  // [M, rows], row stride N: written in place by the GEMM
      at::mm_out(out, x32, block.narrow(0, 0, rows).t());
    }
  });
  return y;
}

bool bfloat16_gemm_applies(const at::Tensor& x, const at::Tensor& w) {
  if (!x.device().is_cpu() || !cpu_features().avx2_fma || w.dim() != 2 || !w.is_contiguous()) return false;
  if (x.scalar_type() != at::kBFloat16 || w.scalar_type() != at::kBFloat16) return false;
  return x.size(-1) == w.size(1) && x.numel() > 0;
}

at::Tensor bfloat16_gemm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias) {
  const int64_t N = w.size(0), K = w.size(1);
  auto x32 = x.reshape({-1, K}).to(at::kFloat).contiguous();  // [M, K]
  const at::BFloat16* weights = w.data_ptr<at::BFloat16>();
  auto y = widened_gemm(x32, N, [&](int64_t n0, int64_t rows, float* out) {
    widen_bfloat16_rows(weights, K, n0, rows, out);
  });  // [M, N]
  if (bias.defined()) y.add_(bias.to(at::kFloat));
  auto sizes = x.sizes().vec();
  sizes.back() = N;
  return y.to(at::kBFloat16).view(sizes);
}

}  // namespace therapeia
