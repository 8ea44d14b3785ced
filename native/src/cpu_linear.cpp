#include "therapeia/cpu_linear.h"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <type_traits>
#include <vector>

#include "therapeia/avx2_lanes.h"
#include "therapeia/cpu_features.h"
#include "therapeia/cpu_gemm.h"
#include "therapeia/weight_prefetch.h"

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
  // 2 * kLanes bfloat16 weights widened without shuffles: in each 32-bit lane the even element
  // is the low half, so a left shift makes it a float32, and the odd element is the high half,
  // so clearing the low half does. even = elements 0, 2, 4...; odd = 1, 3, 5...
  __attribute__((target("avx2,fma"))) static void widen_pairs(const at::BFloat16* p, Vec& even, Vec& odd) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    even = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    odd = _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))));
  }
  __attribute__((target("avx2,fma"))) static Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  __attribute__((target("avx2,fma"))) static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  __attribute__((target("avx2,fma"))) static float sum(Vec v) { return horizontal_sum(v); }
};

struct Avx512 {
  using Vec = __m512;
  static constexpr int kLanes = 16;
  static constexpr int kRegisters = 32;
  __attribute__((target("avx512f,fma"))) static Vec zero() { return _mm512_setzero_ps(); }
  __attribute__((target("avx512f,fma"))) static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  // As Avx2::widen_pairs, 32 weights at a time.
  __attribute__((target("avx512f,fma"))) static void widen_pairs(const at::BFloat16* p, Vec& even, Vec& odd) {
    const __m512i v = _mm512_loadu_si512(p);
    even = _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, v, 16));  // maskz: GCC 12 warns about the plain form's undefined pass-through
    odd = _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
  }
  __attribute__((target("avx512f,fma"))) static Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  __attribute__((target("avx512f,fma"))) static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  __attribute__((target("avx512f,fma"))) static float sum(Vec v) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, v);
    return Avx2::sum(_mm256_add_ps(_mm256_load_ps(lanes), _mm256_load_ps(lanes + 8)));
  }
};

inline float to_float(float v) { return v; }
inline float to_float(at::BFloat16 v) { return static_cast<float>(v); }

template <class W>
constexpr bool kWidenPairs = std::is_same_v<W, at::BFloat16>;

// x as dot_rows reads it for bfloat16 weights: each full block of 2 * lanes elements split into
// its even elements, then its odd ones, to meet widen_pairs' halves; the rest of K stays in order.
// x, out: [M, K].
void split_pairs(const float* x, float* out, int64_t M, int64_t K, int lanes) {
  const int64_t block = 2 * lanes, full = K - K % block;
  for (int64_t m = 0; m < M; ++m) {
    const float* in = x + m * K;
    float* o = out + m * K;
    for (int64_t b = 0; b < full; b += block) {
      for (int i = 0; i < lanes; ++i) {
        o[b + i] = in[b + 2 * i];
        o[b + lanes + i] = in[b + 2 * i + 1];
      }
    }
    for (int64_t k = full; k < K; ++k) o[k] = in[k];
  }
}

// y[m, n + r] = dot(x[m, :], w[n + r, :]) for r < ROWS: each weight vector loaded once for all M
// input rows (M * ROWS accumulators in registers). x: [M, K] float32 (for bfloat16 weights as
// split_pairs leaves it); y: [M, N] float32.
//
// Written once for both ISAs: it runs only inlined (flatten) into the dot_rows_avx2/avx512
// wrappers below, whose target attribute lets Isa's intrinsics inline. GCC warns about the
// vector ABI of the never-called generic copy; that copy is never emitted.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
template <class Isa, int M, int ROWS, class W>
inline void dot_pass(const float* x, const W* w, float* y, int64_t K, int64_t N, int64_t n) {
  using Vec = typename Isa::Vec;
  constexpr int L = Isa::kLanes;
  constexpr bool pairs = kWidenPairs<W>;
  // One input row alone has few accumulators: its odd halves get their own so that two FMA
  // chains per accumulator do not wait on each other's latency.
  constexpr bool odd_accumulators = pairs && M == 1;
  constexpr int step = pairs ? 2 * L : L;
  const int64_t KV = K - K % step;
  Vec acc[M][ROWS], acc_odd[M][ROWS];
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < ROWS; ++r) acc[m][r] = acc_odd[m][r] = Isa::zero();
  for (int64_t k = 0; k < KV; k += step) {
    // One cache line per weight row consumed: the same amount of the block ahead.
    if (k % (64 / sizeof(W)) == 0) prefetch_weights(w + n * K, k * sizeof(W) * ROWS, 64 * ROWS);
    if constexpr (pairs) {
      Vec even[ROWS], odd[ROWS];
      for (int r = 0; r < ROWS; ++r) Isa::widen_pairs(w + (n + r) * K + k, even[r], odd[r]);
      for (int m = 0; m < M; ++m) {
        const Vec xe = Isa::load(x + m * K + k), xo = Isa::load(x + m * K + k + L);
        for (int r = 0; r < ROWS; ++r) {
          acc[m][r] = Isa::fmadd(xe, even[r], acc[m][r]);
          if constexpr (odd_accumulators) acc_odd[m][r] = Isa::fmadd(xo, odd[r], acc_odd[m][r]);
          else acc[m][r] = Isa::fmadd(xo, odd[r], acc[m][r]);
        }
      }
    } else {
      Vec wv[ROWS];
      for (int r = 0; r < ROWS; ++r) wv[r] = Isa::load(w + (n + r) * K + k);
      for (int m = 0; m < M; ++m) {
        const Vec xv = Isa::load(x + m * K + k);
        for (int r = 0; r < ROWS; ++r) acc[m][r] = Isa::fmadd(xv, wv[r], acc[m][r]);
      }
    }
  }
  for (int m = 0; m < M; ++m) {
    for (int r = 0; r < ROWS; ++r) {
      float sum = Isa::sum(odd_accumulators ? Isa::add(acc[m][r], acc_odd[m][r]) : acc[m][r]);
      for (int64_t k = KV; k < K; ++k) sum += x[m * K + k] * to_float(w[(n + r) * K + k]);
      y[m * N + n + r] = sum;
    }
  }
}

// dot_pass over the weight rows [begin, end): ROWS at a time, one at a time for the rest.
template <class Isa, int M, int ROWS, class W>
inline void dot_rows(const float* x, const W* w, float* y, int64_t K, int64_t N, int64_t begin, int64_t end) {
  int64_t n = begin;
  for (; n + ROWS <= end; n += ROWS) dot_pass<Isa, M, ROWS>(x, w, y, K, N, n);
  for (; n < end; ++n) dot_pass<Isa, M, 1>(x, w, y, K, N, n);
}
#pragma GCC diagnostic pop

// Weight rows per pass: as many as the accumulators allow (M * ROWS of the registers, twice that
// for one row's even and odd halves, leaving room for the weights and x), at most 4 (more gains
// nothing once the weights stream at DRAM speed).
template <class Isa, int M, class W>
constexpr int rows_per_pass() {
  constexpr int per_row = kWidenPairs<W> ? (M == 1 ? 4 : M + 2) : M + 1;
  constexpr int fit = (Isa::kRegisters - 2) / per_row;
  return fit < 1 ? 1 : (fit > 4 ? 4 : fit);
}

// dot_rows for many input rows on few registers: the rows of x in two halves, both run over the
// same ROWS weight rows while those are in L1. With all M rows at once AVX2's 16 registers hold
// one weight row's accumulators, so every weight vector meets each x vector in one FMA and the
// loads of x outnumber the FMAs' inputs; two halves of M / 2 rows each hold two weight rows.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
template <class Isa, int M, class W>
inline void dot_rows_in_halves(const float* x, const W* w, float* y, int64_t K, int64_t N, int64_t begin,
                               int64_t end) {
  constexpr int M1 = M / 2, M2 = M - M1;
  constexpr int ROWS = std::min(rows_per_pass<Isa, M1, W>(), rows_per_pass<Isa, M2, W>());
  int64_t n = begin;
  for (; n + ROWS <= end; n += ROWS) {
    dot_pass<Isa, M1, ROWS>(x, w, y, K, N, n);
    dot_pass<Isa, M2, ROWS>(x + M1 * K, w, y + M1 * N, K, N, n);
  }
  for (; n < end; ++n) {
    dot_pass<Isa, M1, 1>(x, w, y, K, N, n);
    dot_pass<Isa, M2, 1>(x + M1 * K, w, y + M1 * N, K, N, n);
  }
}
#pragma GCC diagnostic pop

template <int M, class W>
__attribute__((target("avx2,fma"), flatten)) void dot_rows_avx2(const float* x, const W* w, float* y, int64_t K, int64_t N,
                                                        int64_t begin, int64_t end) {
  if constexpr (M > 4 && rows_per_pass<Avx2, M, W>() == 1) {
    dot_rows_in_halves<Avx2, M, W>(x, w, y, K, N, begin, end);
  } else {
    dot_rows<Avx2, M, rows_per_pass<Avx2, M, W>()>(x, w, y, K, N, begin, end);
  }
}

template <int M, class W>
__attribute__((target("avx512f,fma"), flatten)) void dot_rows_avx512(const float* x, const W* w, float* y, int64_t K,
                                                             int64_t N, int64_t begin, int64_t end) {
  dot_rows<Avx512, M, rows_per_pass<Avx512, M, W>()>(x, w, y, K, N, begin, end);
}

// bfloat16 weights on AVX512_BF16: vdpbf16ps multiplies 32 bfloat16 pairs and adds them to 16
// float32 sums in one instruction, no widening. x stays bfloat16 (the model's activations are),
// so each product is exact in float32; only the order of the float32 additions differs from
// the widening kernel. x: [M, K] bfloat16; y: [M, N] float32.
template <int M, int ROWS>
__attribute__((target("avx512f,avx512bf16,fma"), always_inline)) inline void dpbf16_pass(
    const at::BFloat16* x, const at::BFloat16* w, float* y, int64_t K, int64_t N, int64_t n) {
  const int64_t KV = K - K % 32;
  __m512 acc[M][ROWS];
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < ROWS; ++r) acc[m][r] = _mm512_setzero_ps();
  for (int64_t k = 0; k < KV; k += 32) {
    prefetch_weights(w + n * K, k * sizeof(at::BFloat16) * ROWS, 64 * ROWS);  // 64 bytes of each row per step
    __m512bh wv[ROWS];
    for (int r = 0; r < ROWS; ++r) wv[r] = (__m512bh)_mm512_loadu_si512(w + (n + r) * K + k);
    for (int m = 0; m < M; ++m) {
      const __m512bh xv = (__m512bh)_mm512_loadu_si512(x + m * K + k);
      for (int r = 0; r < ROWS; ++r) acc[m][r] = _mm512_dpbf16_ps(acc[m][r], xv, wv[r]);
    }
  }
  for (int m = 0; m < M; ++m) {
    for (int r = 0; r < ROWS; ++r) {
      float sum = Avx512::sum(acc[m][r]);
      for (int64_t k = KV; k < K; ++k) sum += static_cast<float>(x[m * K + k]) * static_cast<float>(w[(n + r) * K + k]);
      y[m * N + n + r] = sum;
    }
  }
}

template <int M>
__attribute__((target("avx512f,avx512bf16,fma"))) void dot_rows_dpbf16(const at::BFloat16* x, const at::BFloat16* w,
                                                                        float* y, int64_t K, int64_t N, int64_t begin,
                                                                        int64_t end) {
  constexpr int fit = (Avx512::kRegisters - M) / (M + 1);
  constexpr int rows = fit > 4 ? 4 : fit;
  int64_t n = begin;
  for (; n + rows <= end; n += rows) dpbf16_pass<M, rows>(x, w, y, K, N, n);
  for (; n < end; ++n) dpbf16_pass<M, 1>(x, w, y, K, N, n);
}

// The kernel paths, by what the CPU allows.
enum class DotPath { kAvx2, kAvx512, kDpbf16 };

template <int M, class X, class W>
void dot_rows_on(DotPath path, const X* x, const W* w, float* y, int64_t K, int64_t N, int64_t begin, int64_t end) {
  if constexpr (std::is_same_v<X, at::BFloat16>) {
    dot_rows_dpbf16<M>(x, w, y, K, N, begin, end);
  } else if (path == DotPath::kAvx512) {
    dot_rows_avx512<M>(x, w, y, K, N, begin, end);
  } else {
    dot_rows_avx2<M>(x, w, y, K, N, begin, end);
  }
}

template <class X, class W>
void dot_all(DotPath path, int64_t M, const X* x, const W* w, float* y, int64_t K, int64_t N, int64_t begin,
             int64_t end) {
  switch (M) {
    case 1: return dot_rows_on<1>(path, x, w, y, K, N, begin, end);
    case 2: return dot_rows_on<2>(path, x, w, y, K, N, begin, end);
    case 3: return dot_rows_on<3>(path, x, w, y, K, N, begin, end);
    case 4: return dot_rows_on<4>(path, x, w, y, K, N, begin, end);
    case 5: return dot_rows_on<5>(path, x, w, y, K, N, begin, end);
    case 6: return dot_rows_on<6>(path, x, w, y, K, N, begin, end);
    case 7: return dot_rows_on<7>(path, x, w, y, K, N, begin, end);
    default: return dot_rows_on<8>(path, x, w, y, K, N, begin, end);
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
  const CpuFeatures features = cpu_features();
  const DotPath path = bfloat16 && features.avx512_bf16 ? DotPath::kDpbf16
                       : features.avx512                ? DotPath::kAvx512
                                                        : DotPath::kAvx2;
  // bfloat16: x split into even/odd halves (or read as is by vdpbf16ps) and the float32 sums kept
  // here, a few KiB, rather than by an ATen operator each way (a decode step runs four of these
  // per layer; each operator costs microseconds of dispatch and allocation, as much as a small
  // layer's weights take to read).
  std::vector<float> x32, y32;
  if (bfloat16) {
    y32.resize(M * N);
    if (path != DotPath::kDpbf16) {
      const at::BFloat16* source = rows.data_ptr<at::BFloat16>();
      const std::vector<float> widened(source, source + M * K);
      x32.resize(M * K);
      split_pairs(widened.data(), x32.data(), M, K, path == DotPath::kAvx512 ? Avx512::kLanes : Avx2::kLanes);
    }
  }
  const float* xp = bfloat16 ? x32.data() : rows.data_ptr<float>();
  float* yp = bfloat16 ? y32.data() : y.data_ptr<float>();
  const at::Tensor bias32 = bias.defined() ? bias.to(at::kFloat).contiguous() : at::Tensor();  // [N]
  const float* bp = bias32.defined() ? bias32.data_ptr<float>() : nullptr;
  // ~64 KiB of weights per task: enough work to amortise the fork, fine enough to balance.
  const int64_t grain = std::max<int64_t>(16, (64 * 1024) / (K * static_cast<int64_t>(w.element_size())));
  at::parallel_for(0, N, grain, [&](int64_t begin, int64_t end) {
    if (path == DotPath::kDpbf16) dot_all(path, M, rows.data_ptr<at::BFloat16>(), w.data_ptr<at::BFloat16>(), yp, K, N, begin, end);
    else if (bfloat16) dot_all(path, M, xp, w.data_ptr<at::BFloat16>(), yp, K, N, begin, end);
    else dot_all(path, M, xp, w.data_ptr<float>(), yp, K, N, begin, end);
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
  // With AVX512_BF16, oneDNN's bfloat16 kernels beat our float32-widening GEMM 2x in prefill;
  // up to 8 rows ours use the same vdpbf16ps and read the weights once for all rows.
  const bool onednn_native_bfloat16 =
      bfloat16 && cpu_features().avx512_bf16 && x.numel() > kSmallLinearMaxRows * w.size(-1);
  if (!onednn_native_bfloat16 && small_linear_applies(x, w)) return small_linear(x, w, bias);
  // Without AVX512_BF16, oneDNN's bfloat16 GEMM is a slow reference path (5x our float32).
  if (!onednn_native_bfloat16 && bfloat16_gemm_applies(x, w)) return bfloat16_gemm(x, w, bias);
  return at::linear(x, w, bias);
}

LinearTimer::~LinearTimer() {
  const auto elapsed = std::chrono::steady_clock::now() - start_;
  linear_time.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count(),
                        std::memory_order_relaxed);
}

int64_t linear_nanoseconds() { return linear_time.load(std::memory_order_relaxed); }

}  // namespace therapeia
