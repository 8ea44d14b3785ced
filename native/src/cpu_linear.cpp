#include "therapeia/cpu_linear.h"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <vector>

#include "therapeia/cpu_features.h"
#include "therapeia/cpu_gemm.h"

namespace therapeia {
namespace {

// One ISA's vector operations for dot_rows. bfloat16 weights are widened to float32 in registers
// (bf16 is the top half of a float32), so the products and sums are float32's.
struct Avx2 {
  using Vec = __m256;
  static constexpr int kLanes = 8;
  static constexpr int kRegisters = 16;
  __attribute__((target("avx2,fma"))) static Vec zero() { return _mm256_setzero_ps(); }
  __attribute__((target("avx2,fma"))) static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  __attribute__((target("avx2,fma"))) static Vec load(const at::BFloat16* p) {
    const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
  }
  __attribute__((target("avx2,fma"))) static Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  __attribute__((target("avx2,fma"))) static float sum(Vec v) {
    const __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
    return _mm_cvtss_f32(_mm_add_ss(sum2, _mm_shuffle_ps(sum2, sum2, 1)));
  }
};

struct Avx512 {
  using Vec = __m512;
  static constexpr int kLanes = 16;
  static constexpr int kRegisters = 32;
  __attribute__((target("avx512f,fma"))) static Vec zero() { return _mm512_setzero_ps(); }
  __attribute__((target("avx512f,fma"))) static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  __attribute__((target("avx512f,fma"))) static Vec load(const at::BFloat16* p) {
    // The zero-masked forms: GCC 12 warns about the undefined pass-through of the plain ones.
    const __m256i half = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, _mm512_maskz_cvtepu16_epi32(0xFFFF, half), 16));
  }
  __attribute__((target("avx512f,fma"))) static Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  __attribute__((target("avx512f,fma"))) static float sum(Vec v) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, v);
    return Avx2::sum(_mm256_add_ps(_mm256_load_ps(lanes), _mm256_load_ps(lanes + 8)));
  }
};

inline float to_float(float v) { return v; }
inline float to_float(at::BFloat16 v) { return static_cast<float>(v); }

// y[m, n] = dot(x[m, :], w[n, :]) for n in [begin, end): ROWS weight rows at a time, each loaded
// once for all M input rows (M * ROWS accumulators in registers). x: [M, K] float32;
// y: [M, N] float32.
//
// Written once for both ISAs: it runs only inlined (flatten) into the dot_rows_avx2/avx512
// wrappers below, whose target attribute lets Isa's intrinsics inline. GCC warns about the
// vector ABI of the never-called generic copy; that copy is never emitted.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
template <class Isa, int M, int ROWS, class W>
void dot_rows(const float* x, const W* w, float* y, int64_t K, int64_t N,
                                                    int64_t begin, int64_t end) {
  using Vec = typename Isa::Vec;
  constexpr int L = Isa::kLanes;
  const int64_t KL = K - K % L;
  int64_t n = begin;
  for (; n + ROWS <= end; n += ROWS) {
    Vec acc[M][ROWS];
    for (int m = 0; m < M; ++m)
      for (int r = 0; r < ROWS; ++r) acc[m][r] = Isa::zero();
    for (int64_t k = 0; k < KL; k += L) {
      Vec wv[ROWS];
      for (int r = 0; r < ROWS; ++r) wv[r] = Isa::load(w + (n + r) * K + k);
      for (int m = 0; m < M; ++m) {
        const Vec xv = Isa::load(x + m * K + k);
        for (int r = 0; r < ROWS; ++r) acc[m][r] = Isa::fmadd(xv, wv[r], acc[m][r]);
      }
    }
    for (int m = 0; m < M; ++m) {
      for (int r = 0; r < ROWS; ++r) {
        float sum = Isa::sum(acc[m][r]);
        for (int64_t k = KL; k < K; ++k) sum += x[m * K + k] * to_float(w[(n + r) * K + k]);
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
#pragma GCC diagnostic pop

// Weight rows per pass: as many as the accumulators allow (M * ROWS of the registers, leaving
// room for the weights and x), at most 4 (more gains nothing once the weights stream at DRAM speed).
template <class Isa, int M>
constexpr int rows_per_pass() {
  constexpr int fit = (Isa::kRegisters - 2) / (M + 1);
  return fit < 1 ? 1 : (fit > 4 ? 4 : fit);
}

template <int M, class W>
__attribute__((target("avx2,fma"), flatten)) void dot_rows_avx2(const float* x, const W* w, float* y, int64_t K, int64_t N,
                                                        int64_t begin, int64_t end) {
  dot_rows<Avx2, M, rows_per_pass<Avx2, M>()>(x, w, y, K, N, begin, end);
}

template <int M, class W>
__attribute__((target("avx512f,fma"), flatten)) void dot_rows_avx512(const float* x, const W* w, float* y, int64_t K,
                                                             int64_t N, int64_t begin, int64_t end) {
  dot_rows<Avx512, M, rows_per_pass<Avx512, M>()>(x, w, y, K, N, begin, end);
}

template <int M, class W>
void dot_rows_for_cpu(bool avx512, const float* x, const W* w, float* y, int64_t K, int64_t N, int64_t begin,
                      int64_t end) {
  if (avx512) return dot_rows_avx512<M>(x, w, y, K, N, begin, end);
  dot_rows_avx2<M>(x, w, y, K, N, begin, end);
}

template <class W>
void dot_all(bool avx512, int64_t M, const float* x, const W* w, float* y, int64_t K, int64_t N, int64_t begin,
             int64_t end) {
  switch (M) {
    case 1: return dot_rows_for_cpu<1>(avx512, x, w, y, K, N, begin, end);
    case 2: return dot_rows_for_cpu<2>(avx512, x, w, y, K, N, begin, end);
    case 3: return dot_rows_for_cpu<3>(avx512, x, w, y, K, N, begin, end);
    case 4: return dot_rows_for_cpu<4>(avx512, x, w, y, K, N, begin, end);
    case 5: return dot_rows_for_cpu<5>(avx512, x, w, y, K, N, begin, end);
    case 6: return dot_rows_for_cpu<6>(avx512, x, w, y, K, N, begin, end);
    case 7: return dot_rows_for_cpu<7>(avx512, x, w, y, K, N, begin, end);
    default: return dot_rows_for_cpu<8>(avx512, x, w, y, K, N, begin, end);
  }
}

// Wall time inside apply_linear, summed over all calls: see linear_nanoseconds().
std::atomic<int64_t> linear_time{0};

}  // namespace

bool small_linear_applies(const at::Tensor& x, const at::Tensor& w) {
  if (!x.device().is_cpu() || !cpu_features().avx2_fma || w.dim() != 2 || !w.is_contiguous()) return false;
  const auto dtype = w.scalar_type();
  if (dtype != x.scalar_type() || (dtype != at::kFloat && dtype != at::kBFloat16)) return false;
  const int64_t K = w.size(1);
  return x.size(-1) == K && x.numel() / K <= kSmallLinearMaxRows && x.numel() > 0;
}

at::Tensor small_linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias) {
  const int64_t N = w.size(0), K = w.size(1);
  const int64_t M = x.numel() / K;
  const bool bfloat16 = x.scalar_type() == at::kBFloat16;
  const auto rows = x.reshape({M, K}).contiguous();  // [M, K]
  auto y = at::empty({M, N}, x.options());            // [M, N] in x's dtype
  // bfloat16: x widened and the float32 sums kept here, a few KiB, rather than by an ATen
  // operator each way (a decode step runs four of these per layer; each operator costs
  // microseconds of dispatch and allocation, as much as a small layer's weights take to read).
  std::vector<float> x32, y32;
  if (bfloat16) {
    const at::BFloat16* source = rows.data_ptr<at::BFloat16>();
    x32.assign(source, source + M * K);
    y32.resize(M * N);
  }
  const float* xp = bfloat16 ? x32.data() : rows.data_ptr<float>();
  float* yp = bfloat16 ? y32.data() : y.data_ptr<float>();
  const at::Tensor bias32 = bias.defined() ? bias.to(at::kFloat).contiguous() : at::Tensor();  // [N]
  const float* bp = bias32.defined() ? bias32.data_ptr<float>() : nullptr;
  // ~64 KiB of weights per task: enough work to amortise the fork, fine enough to balance.
  const int64_t grain = std::max<int64_t>(16, (64 * 1024) / (K * static_cast<int64_t>(w.element_size())));
  const bool avx512 = cpu_features().avx512;
  at::parallel_for(0, N, grain, [&](int64_t begin, int64_t end) {
    if (bfloat16) dot_all(avx512, M, xp, w.data_ptr<at::BFloat16>(), yp, K, N, begin, end);
    else dot_all(avx512, M, xp, w.data_ptr<float>(), yp, K, N, begin, end);
    if (bp == nullptr && !bfloat16) return;
    // This task's columns: bias added in float32, then one rounding to x's dtype.
    at::BFloat16* out16 = bfloat16 ? y.data_ptr<at::BFloat16>() : nullptr;
    for (int64_t m = 0; m < M; ++m) {
      for (int64_t n = begin; n < end; ++n) {
        const float sum = yp[m * N + n] + (bp != nullptr ? bp[n] : 0.0f);
        if (bfloat16) out16[m * N + n] = static_cast<at::BFloat16>(sum);
        else yp[m * N + n] = sum;
      }
    }
  });
  auto sizes = x.sizes().vec();
  sizes.back() = N;
  return y.view(sizes);
}

at::Tensor apply_linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias) {
  const LinearTimer timer;
  const bool bfloat16 = x.scalar_type() == at::kBFloat16;
  // With AVX512_BF16, oneDNN's bfloat16 kernels (vdpbf16ps: two products per lane and
  // instruction) match ours from 3 rows on and beat our float32-widening GEMM 2x in prefill.
  const bool onednn_native_bfloat16 = bfloat16 && cpu_features().avx512_bf16 && x.numel() > 2 * w.size(-1);
  if (!onednn_native_bfloat16 && small_linear_applies(x, w)) return small_linear(x, w, bias);
  // Without AVX512_BF16, oneDNN's bfloat16 GEMM is a slow reference path (5x our float32).
  if (!onednn_native_bfloat16 && bfloat16 && tiled_gemm_applies(x, w)) return tiled_gemm(x, w, bias);
  return at::linear(x, w, bias);
}

LinearTimer::~LinearTimer() {
  const auto elapsed = std::chrono::steady_clock::now() - start_;
  linear_time.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count(),
                        std::memory_order_relaxed);
}

int64_t linear_nanoseconds() { return linear_time.load(std::memory_order_relaxed); }

}  // namespace therapeia
