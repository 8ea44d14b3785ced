#include "therapeia/int8_linear.h"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>

#include "therapeia/avx2_lanes.h"
#include "therapeia/cpu_features.h"
#include "therapeia/cpu_gemm.h"
#include "therapeia/error.h"
#include "therapeia/weight_prefetch.h"

namespace therapeia {
namespace {

// One 8-bit weight matrix as the kernels read it.
struct Int8Rows {
  const int8_t* values;  // [N, K]
  const float* scales;   // [N, groups]
  int64_t K;
  int64_t G;       // group size; K % G == 0
  int64_t groups;  // K / G
};

// y[m, n] for one weight row n and all M input rows, in plain C++: the rows a vector kernel
// leaves over at the end of its range. x: [M, K]; y: [M, N].
void int8_row_scalar(const Int8Rows& w, const float* x, float* y, int64_t M, int64_t N, int64_t n) {
  const int8_t* row = w.values + n * w.K;
  for (int64_t m = 0; m < M; ++m) {
    float sum = 0;
    for (int64_t g = 0; g < w.groups; ++g) {
      float part = 0;
      for (int64_t k = g * w.G; k < (g + 1) * w.G; ++k) part += x[m * w.K + k] * row[k];
      sum += part * w.scales[n * w.groups + g];
    }
    y[m * N + n] = sum;
  }
}

// ---- one ISA's vector operations: kLanes weights per register -------------------------------

#define THERAPEIA_AVX512 "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"

struct Int8Avx2 {
  using Vec = __m256;
  static constexpr int kLanes = 8;
  __attribute__((target("avx2,fma"))) static Vec zero() { return _mm256_setzero_ps(); }
  __attribute__((target("avx2,fma"))) static Vec set1(float v) { return _mm256_set1_ps(v); }
  __attribute__((target("avx2,fma"))) static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  __attribute__((target("avx2,fma"))) static Vec widen(const int8_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  __attribute__((target("avx2,fma"))) static Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  __attribute__((target("avx2,fma"))) static Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  __attribute__((target("avx2,fma"))) static float sum(Vec v) { return horizontal_sum(v); }
};

struct Int8Avx512 {
  using Vec = __m512;
  static constexpr int kLanes = 16;
  __attribute__((target(THERAPEIA_AVX512))) static Vec zero() { return _mm512_setzero_ps(); }
  __attribute__((target(THERAPEIA_AVX512))) static Vec set1(float v) { return _mm512_set1_ps(v); }
  __attribute__((target(THERAPEIA_AVX512))) static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  __attribute__((target(THERAPEIA_AVX512))) static Vec widen(const int8_t* p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  __attribute__((target(THERAPEIA_AVX512))) static Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
  __attribute__((target(THERAPEIA_AVX512))) static Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  __attribute__((target(THERAPEIA_AVX512))) static float sum(Vec v) { return _mm512_reduce_add_ps(v); }
};

// ---- the decode kernel, written once for both ISAs ------------------------------------------

// y[m, n] = sum over groups g of scale[n, g] * dot(x[m, g], values[n, g]) for n in [begin, end):
// ROWS weight rows at a time, each widened (and scaled) once for all M input rows; one input row
// scales each group's sum instead. x: [M, K] float32; y: [M, N] float32.
//
// It runs only inlined (flatten) into the int8_rows_avx2/avx512 wrappers below, whose target
// attribute lets Isa's intrinsics inline (as dot_pass in cpu_linear.cpp).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
template <class Isa, int M, int ROWS>
inline void int8_rows_for(const Int8Rows& w, const float* x, float* y, int64_t N, int64_t begin, int64_t end) {
  using Vec = typename Isa::Vec;
  constexpr int L = Isa::kLanes;
  const int64_t K = w.K, G = w.G;
  const int64_t vector_length = G - G % L;  // of each group; a tail exists only with one scale per row
  int64_t n = begin;
  for (; n + ROWS <= end; n += ROWS) {
    Vec acc[M][ROWS];
    float tail[M][ROWS];
    for (int m = 0; m < M; ++m)
      for (int r = 0; r < ROWS; ++r) acc[m][r] = Isa::zero(), tail[m][r] = 0;
    for (int64_t g = 0; g < w.groups; ++g) {
      const int64_t k0 = g * G;
      Vec scale[ROWS];
      for (int r = 0; r < ROWS; ++r) scale[r] = Isa::set1(w.scales[(n + r) * w.groups + g]);
      if constexpr (M == 1) {
        // One input row: the group's products summed unscaled, then scaled once per group (one
        // multiply per group and row instead of one per kLanes weights: 4-6% of the kernel's time).
        Vec part[ROWS];
        for (int r = 0; r < ROWS; ++r) part[r] = Isa::zero();
        for (int64_t k = k0; k < k0 + vector_length; k += L) {
          if (k % 64 == 0) prefetch_weights(w.values + n * K, k * ROWS, 64 * ROWS);  // a line of each row per 64 weights
          const Vec xv = Isa::load(x + k);
          for (int r = 0; r < ROWS; ++r) part[r] = Isa::fmadd(xv, Isa::widen(w.values + (n + r) * K + k), part[r]);
        }
        for (int r = 0; r < ROWS; ++r) acc[0][r] = Isa::fmadd(part[r], scale[r], acc[0][r]);
      } else {  // several rows: each weight widened and scaled once for all of them
        for (int64_t k = k0; k < k0 + vector_length; k += L) {
          if (k % 64 == 0) prefetch_weights(w.values + n * K, k * ROWS, 64 * ROWS);
          Vec wv[ROWS];
          for (int r = 0; r < ROWS; ++r) wv[r] = Isa::mul(Isa::widen(w.values + (n + r) * K + k), scale[r]);
          for (int m = 0; m < M; ++m) {
            const Vec xv = Isa::load(x + m * K + k);
            for (int r = 0; r < ROWS; ++r) acc[m][r] = Isa::fmadd(xv, wv[r], acc[m][r]);
          }
        }
      }
      for (int64_t k = k0 + vector_length; k < k0 + G; ++k) {
        for (int r = 0; r < ROWS; ++r) {
          const float wk = w.scales[(n + r) * w.groups + g] * w.values[(n + r) * K + k];
          for (int m = 0; m < M; ++m) tail[m][r] += x[m * K + k] * wk;
        }
      }
    }
    for (int m = 0; m < M; ++m)
      for (int r = 0; r < ROWS; ++r) y[m * N + n + r] = Isa::sum(acc[m][r]) + tail[m][r];
  }
  for (; n < end; ++n) int8_row_scalar(w, x, y, M, N, n);
}
#pragma GCC diagnostic pop

template <int M, int ROWS>
__attribute__((target("avx2,fma"), flatten)) void int8_rows_avx2(const Int8Rows& w, const float* x, float* y,
                                                                  int64_t N, int64_t begin, int64_t end) {
  int8_rows_for<Int8Avx2, M, ROWS>(w, x, y, N, begin, end);
}

template <int M, int ROWS>
__attribute__((target(THERAPEIA_AVX512), flatten)) void int8_rows_avx512(const Int8Rows& w, const float* x, float* y,
                                                                          int64_t N, int64_t begin, int64_t end) {
  int8_rows_for<Int8Avx512, M, ROWS>(w, x, y, N, begin, end);
}

// out[r, k] = scale[n0 + r, k / G] * values[n0 + r, k] for r in [0, rows): out [rows, K] float32.
__attribute__((target("avx2,fma"))) void widen_rows_avx2(const Int8Rows& w, int64_t n0, int64_t rows, float* out) {
  const int64_t K = w.K, G = w.G, vector_length = G - G % 8;
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* row = w.values + (n0 + r) * K;
    for (int64_t g = 0; g < w.groups; ++g) {
      const float s = w.scales[(n0 + r) * w.groups + g];
      const __m256 scale = _mm256_set1_ps(s);
      const int64_t k0 = g * G;
      for (int64_t k = k0; k < k0 + vector_length; k += 8) {
        _mm256_storeu_ps(out + r * K + k, _mm256_mul_ps(Int8Avx2::widen(row + k), scale));
      }
      for (int64_t k = k0 + vector_length; k < k0 + G; ++k) out[r * K + k] = s * row[k];
    }
  }
}

// ---- dispatch ------------------------------------------------------------------------------

// Weight rows per pass: accumulators (M * ROWS) plus widened weights and scales must fit the
// 16 ymm / 32 zmm registers.
template <int M>
void int8_rows(bool avx512, const Int8Rows& w, const float* x, float* y, int64_t N, int64_t begin, int64_t end) {
  if (avx512) {
    constexpr int rows = M == 1 ? 8 : (M <= 3 ? 4 : 2);
    int8_rows_avx512<M, rows>(w, x, y, N, begin, end);
  } else {
    constexpr int rows = M <= 2 ? 4 : (M <= 4 ? 2 : 1);
    int8_rows_avx2<M, rows>(w, x, y, N, begin, end);
  }
}

void int8_rows_any(int64_t M, bool avx512, const Int8Rows& w, const float* x, float* y, int64_t N, int64_t begin,
                   int64_t end) {
  switch (M) {
    case 1: return int8_rows<1>(avx512, w, x, y, N, begin, end);
    case 2: return int8_rows<2>(avx512, w, x, y, N, begin, end);
    case 3: return int8_rows<3>(avx512, w, x, y, N, begin, end);
    case 4: return int8_rows<4>(avx512, w, x, y, N, begin, end);
    case 5: return int8_rows<5>(avx512, w, x, y, N, begin, end);
    case 6: return int8_rows<6>(avx512, w, x, y, N, begin, end);
    case 7: return int8_rows<7>(avx512, w, x, y, N, begin, end);
    default: return int8_rows<8>(avx512, w, x, y, N, begin, end);
  }
}

// Decode: x [M <= 8, K] -> y [M, N], every weight read once. Tasks take whole passes of 8 rows
// (no leftovers mid-range), about 64 KiB of weights each: enough to amortise the fork.
at::Tensor decode(const at::Tensor& x, const Int8Rows& w, int64_t N, bool avx512) {
  const int64_t M = x.size(0);
  auto y = at::empty({M, N}, x.options());  // [M, N]
  const float* xp = x.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  constexpr int64_t kPass = 8;
  const int64_t grain = std::max<int64_t>(2, (64 * 1024) / (w.K * kPass));
  at::parallel_for(0, (N + kPass - 1) / kPass, grain, [&](int64_t begin, int64_t end) {
    int8_rows_any(M, avx512, w, xp, yp, N, begin * kPass, std::min(N, end * kPass));
  });
  return y;
}

}  // namespace

at::Tensor int8_linear(const at::Tensor& x, const Int8Weight& w, const at::Tensor& bias) {
  if (!x.device().is_cpu()) throw Error("8-bit weights run on the CPU only");
  if (w.values.dim() != 2) throw Error("8-bit linear: the weight must be a matrix [N, K]");
  const int64_t N = w.out_features(), K = w.in_features();
  if (x.size(-1) != K) {
    throw Error("8-bit linear: the input has " + std::to_string(x.size(-1)) + " features, the weight expects " +
                std::to_string(K));
  }
  const int64_t M = x.numel() / K;
  auto x32 = x.reshape({M, K}).to(at::kFloat).contiguous();  // [M, K]
  const auto values = w.values.contiguous();
  const auto scales = w.scales.contiguous();
  const Int8Rows rows{values.data_ptr<int8_t>(), scales.data_ptr<float>(), K, w.group_size, K / w.group_size};
  const CpuFeatures features = cpu_features();
  at::Tensor y;  // [M, N]
  if (M == 0) y = at::empty({0, N}, x32.options());
  else if (!features.avx2_fma) y = at::linear(x32, dequantize(w));  // CPUs without AVX2: correct, not fast
  else if (M <= kInt8DecodeMaxRows) y = decode(x32, rows, N, features.avx512);
  else {
    y = widened_gemm(x32, N, [&](int64_t n0, int64_t count, float* out) { widen_rows_avx2(rows, n0, count, out); });
  }
  if (bias.defined()) y.add_(bias.to(at::kFloat));
  auto sizes = x.sizes().vec();
  sizes.back() = N;
  return y.to(x.scalar_type()).view(sizes);
}

}  // namespace therapeia
