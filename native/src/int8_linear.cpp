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

// ---- AVX2: eight weights per register ------------------------------------------------------

__attribute__((target("avx2,fma"))) inline __m256 widen8(const int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

// y[m, n] = sum over groups g of scale[n, g] * dot(x[m, g], values[n, g]) for n in [begin, end):
// ROWS weight rows at a time, each widened (and scaled) once for all M input rows; one input row
// scales each group's sum instead.
// x: [M, K] float32; y: [M, N] float32.
template <int M, int ROWS>
__attribute__((target("avx2,fma"))) void int8_rows_avx2(const Int8Rows& w, const float* x, float* y, int64_t N,
                                                         int64_t begin, int64_t end) {
  const int64_t K = w.K, G = w.G;
  const int64_t vector_length = G - G % 8;  // of each group; a tail exists only with one scale per row
  int64_t n = begin;
  for (; n + ROWS <= end; n += ROWS) {
    __m256 acc[M][ROWS];
    float tail[M][ROWS];
    for (int m = 0; m < M; ++m)
      for (int r = 0; r < ROWS; ++r) acc[m][r] = _mm256_setzero_ps(), tail[m][r] = 0;
    for (int64_t g = 0; g < w.groups; ++g) {
      const int64_t k0 = g * G;
      __m256 scale[ROWS];
      for (int r = 0; r < ROWS; ++r) scale[r] = _mm256_set1_ps(w.scales[(n + r) * w.groups + g]);
      if constexpr (M == 1) {
        // One input row: the group's products summed unscaled, then scaled once per group (one
        // multiply per group and row instead of one per eight weights: 4-6% of the kernel's time).
        __m256 part[ROWS];
        for (int r = 0; r < ROWS; ++r) part[r] = _mm256_setzero_ps();
        for (int64_t k = k0; k < k0 + vector_length; k += 8) {
          if (k % 64 == 0) prefetch_weights(w.values + n * K, k * ROWS, 64 * ROWS);  // a line of each row per 64 weights
          const __m256 xv = _mm256_loadu_ps(x + k);
          for (int r = 0; r < ROWS; ++r) part[r] = _mm256_fmadd_ps(xv, widen8(w.values + (n + r) * K + k), part[r]);
        }
        for (int r = 0; r < ROWS; ++r) acc[0][r] = _mm256_fmadd_ps(part[r], scale[r], acc[0][r]);
      } else {  // several rows: each weight widened and scaled once for all of them
        for (int64_t k = k0; k < k0 + vector_length; k += 8) {
          if (k % 64 == 0) prefetch_weights(w.values + n * K, k * ROWS, 64 * ROWS);
          __m256 wv[ROWS];
          for (int r = 0; r < ROWS; ++r) wv[r] = _mm256_mul_ps(widen8(w.values + (n + r) * K + k), scale[r]);
          for (int m = 0; m < M; ++m) {
            const __m256 xv = _mm256_loadu_ps(x + m * K + k);
            for (int r = 0; r < ROWS; ++r) acc[m][r] = _mm256_fmadd_ps(xv, wv[r], acc[m][r]);
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
      for (int r = 0; r < ROWS; ++r) y[m * N + n + r] = horizontal_sum(acc[m][r]) + tail[m][r];
  }
  for (; n < end; ++n) int8_row_scalar(w, x, y, M, N, n);
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
        _mm256_storeu_ps(out + r * K + k, _mm256_mul_ps(widen8(row + k), scale));
      }
      for (int64_t k = k0 + vector_length; k < k0 + G; ++k) out[r * K + k] = s * row[k];
    }
  }
}

// ---- AVX-512: sixteen weights per register -------------------------------------------------

#define THERAPEIA_AVX512 "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"

__attribute__((target(THERAPEIA_AVX512))) inline __m512 widen16(const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

// As int8_rows_avx2, sixteen weights at a time.
template <int M, int ROWS>
__attribute__((target(THERAPEIA_AVX512))) void int8_rows_avx512(const Int8Rows& w, const float* x, float* y,
                                                                 int64_t N, int64_t begin, int64_t end) {
  const int64_t K = w.K, G = w.G;
  const int64_t vector_length = G - G % 16;
  int64_t n = begin;
  for (; n + ROWS <= end; n += ROWS) {
    __m512 acc[M][ROWS];
    float tail[M][ROWS];
    for (int m = 0; m < M; ++m)
      for (int r = 0; r < ROWS; ++r) acc[m][r] = _mm512_setzero_ps(), tail[m][r] = 0;
    for (int64_t g = 0; g < w.groups; ++g) {
      const int64_t k0 = g * G;
      __m512 scale[ROWS];
      for (int r = 0; r < ROWS; ++r) scale[r] = _mm512_set1_ps(w.scales[(n + r) * w.groups + g]);
      if constexpr (M == 1) {  // as in int8_rows_avx2
        __m512 part[ROWS];
        for (int r = 0; r < ROWS; ++r) part[r] = _mm512_setzero_ps();
        for (int64_t k = k0; k < k0 + vector_length; k += 16) {
          if (k % 64 == 0) prefetch_weights(w.values + n * K, k * ROWS, 64 * ROWS);  // a line of each row per 64 weights
          const __m512 xv = _mm512_loadu_ps(x + k);
          for (int r = 0; r < ROWS; ++r) part[r] = _mm512_fmadd_ps(xv, widen16(w.values + (n + r) * K + k), part[r]);
        }
        for (int r = 0; r < ROWS; ++r) acc[0][r] = _mm512_fmadd_ps(part[r], scale[r], acc[0][r]);
      } else {
        for (int64_t k = k0; k < k0 + vector_length; k += 16) {
          if (k % 64 == 0) prefetch_weights(w.values + n * K, k * ROWS, 64 * ROWS);
          __m512 wv[ROWS];
          for (int r = 0; r < ROWS; ++r) wv[r] = _mm512_mul_ps(widen16(w.values + (n + r) * K + k), scale[r]);
          for (int m = 0; m < M; ++m) {
            const __m512 xv = _mm512_loadu_ps(x + m * K + k);
            for (int r = 0; r < ROWS; ++r) acc[m][r] = _mm512_fmadd_ps(xv, wv[r], acc[m][r]);
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
      for (int r = 0; r < ROWS; ++r) y[m * N + n + r] = _mm512_reduce_add_ps(acc[m][r]) + tail[m][r];
  }
  for (; n < end; ++n) int8_row_scalar(w, x, y, M, N, n);
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
