#include "therapeia/cpu_linear.h"

#include "therapeia/cpu_features.h"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <cstring>

namespace therapeia {
namespace {

// Eight weights as float32: plain loads, or bfloat16 widened (bf16 is the top half of a float).
__attribute__((target("avx2,fma"))) inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
__attribute__((target("avx2,fma"))) inline __m256 load8(const at::BFloat16* p) {
  const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
}

inline float to_float(float v) { return v; }
inline float to_float(at::BFloat16 v) { return static_cast<float>(v); }

__attribute__((target("avx2,fma"))) inline float horizontal_sum(__m256 v) {
  const __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
  return _mm_cvtss_f32(_mm_add_ss(sum2, _mm_shuffle_ps(sum2, sum2, 1)));
}

// y[m, n] = dot(x[m, :], w[n, :]) for n in [begin, end): ROWS weight rows at a time, each loaded
// once for all M input rows. x: [M, K] float32; y: [M, N] float32.
template <int M, int ROWS, class W>
__attribute__((target("avx2,fma"))) void dot_rows(const float* x, const W* w, float* y, int64_t K, int64_t N,
                                                   int64_t begin, int64_t end) {
  const int64_t K8 = K - K % 8;
  int64_t n = begin;
  for (; n + ROWS <= end; n += ROWS) {
    __m256 acc[M][ROWS];
    for (int m = 0; m < M; ++m)
      for (int r = 0; r < ROWS; ++r) acc[m][r] = _mm256_setzero_ps();
    for (int64_t k = 0; k < K8; k += 8) {
      __m256 wv[ROWS];
      for (int r = 0; r < ROWS; ++r) wv[r] = load8(w + (n + r) * K + k);
      for (int m = 0; m < M; ++m) {
        const __m256 xv = _mm256_loadu_ps(x + m * K + k);
        for (int r = 0; r < ROWS; ++r) acc[m][r] = _mm256_fmadd_ps(xv, wv[r], acc[m][r]);
      }
    }
    for (int m = 0; m < M; ++m) {
      for (int r = 0; r < ROWS; ++r) {
        float sum = horizontal_sum(acc[m][r]);
        for (int64_t k = K8; k < K; ++k) sum += x[m * K + k] * to_float(w[(n + r) * K + k]);
        y[m * N + n + r] = sum;
      }
    }
  }
  for (; n < end; ++n) {  // rows left over at the end of the range
    for (int m = 0; m < M; ++m) {
      float sum = 0;
      for (int64_t k = 0; k < K; ++k) sum += x[m * K + k] * to_float(w[n * K + k]);
      y[m * N + n] = sum;
    }
  }
}

template <int M, class W>
void dot_rows_for(const float* x, const W* w, float* y, int64_t K, int64_t N, int64_t begin, int64_t end) {
  // Accumulators: M * ROWS of the 16 ymm registers, leaving room for weights and x.
  constexpr int rows = M <= 2 ? 4 : (M <= 4 ? 2 : 1);
  dot_rows<M, rows>(x, w, y, K, N, begin, end);
}

template <class W>
void dot_all(int64_t M, const float* x, const W* w, float* y, int64_t K, int64_t N, int64_t begin, int64_t end) {
  switch (M) {
    case 1: return dot_rows_for<1>(x, w, y, K, N, begin, end);
    case 2: return dot_rows_for<2>(x, w, y, K, N, begin, end);
    case 3: return dot_rows_for<3>(x, w, y, K, N, begin, end);
    case 4: return dot_rows_for<4>(x, w, y, K, N, begin, end);
    case 5: return dot_rows_for<5>(x, w, y, K, N, begin, end);
    case 6: return dot_rows_for<6>(x, w, y, K, N, begin, end);
    case 7: return dot_rows_for<7>(x, w, y, K, N, begin, end);
    default: return dot_rows_for<8>(x, w, y, K, N, begin, end);
  }
}

}  // namespace

bool small_linear_applies(const at::Tensor& x, const at::Tensor& w) {
  if (!x.device().is_cpu() || !cpu_features().avx2_fma || w.dim() != 2 || !w.is_contiguous()) return false;
  const auto dtype = w.scalar_type();
  if (dtype != x.scalar_type() || (dtype != at::kFloat && dtype != at::kBFloat16)) return false;
  const int64_t K = w.size(1);
  // In bfloat16, oneDNN's kernels (AVX512-BF16 dot products) overtake ours from 3 rows on.
  const int64_t max_rows = dtype == at::kBFloat16 ? kSmallLinearMaxBfloat16Rows : kSmallLinearMaxRows;
  return x.size(-1) == K && x.numel() / K <= max_rows && x.numel() > 0;
}

at::Tensor small_linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias) {
  const int64_t N = w.size(0), K = w.size(1);
  const int64_t M = x.numel() / K;
  auto x32 = x.reshape({M, K}).to(at::kFloat).contiguous();  // [M, K]
  auto y = at::empty({M, N}, x32.options());                 // [M, N]
  const float* xp = x32.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  // ~64 KiB of weights per task: enough work to amortise the fork, fine enough to balance.
  const int64_t grain = std::max<int64_t>(16, (64 * 1024) / (K * static_cast<int64_t>(w.element_size())));
  at::parallel_for(0, N, grain, [&](int64_t begin, int64_t end) {
    if (w.scalar_type() == at::kFloat) dot_all(M, xp, w.data_ptr<float>(), yp, K, N, begin, end);
    else dot_all(M, xp, w.data_ptr<at::BFloat16>(), yp, K, N, begin, end);
  });
  if (bias.defined()) y.add_(bias.to(at::kFloat));
  auto sizes = x.sizes().vec();
  sizes.back() = N;
  return y.to(x.scalar_type()).view(sizes);
}

at::Tensor apply_linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias) {
  if (small_linear_applies(x, w)) return small_linear(x, w, bias);
  return at::linear(x, w, bias);
}

}  // namespace therapeia
