#include "therapeia/cpu_gemm.h"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>

#include "therapeia/cpu_features.h"

namespace therapeia {
namespace {

// Depth of a packed panel: 256 x 16 float32 (16 KiB, AVX2) or 256 x 32 (32 KiB, AVX-512) stays
// in L1 while every block of rows of x runs over it; x's [M, 256] slice stays in L2.
constexpr int64_t kDepth = 256;

// Eight consecutive weights as float32: plain, or bfloat16 widened (the top half of a float32).
__attribute__((target("avx2,fma"))) inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
__attribute__((target("avx2,fma"))) inline __m256 load8(const at::BFloat16* p) {
  const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
}

// panel[k, j] = w[n0 + j, k0 + k] as float32 for j < cols, 0 for the columns past N.
// w: [N, K]; panel: [depth, NR]. A transpose: 8 x 8 blocks go through registers (8 row loads,
// 24 shuffles, 8 column stores), since element by element it costs as much as the
// micro-kernel's arithmetic when x has few rows.
template <int NR, class W>
__attribute__((target("avx2,fma"))) void pack_panel(const W* w, int64_t K, int64_t n0, int64_t cols, int64_t k0,
                                                    int64_t depth, float* panel) {
  const int64_t cols8 = cols - cols % 8, depth8 = depth - depth % 8;
  for (int64_t j = 0; j < cols8; j += 8) {
    const W* row = w + (n0 + j) * K + k0;
    for (int64_t k = 0; k < depth8; k += 8) {
      __m256 r[8];  // r[i] = w[n0 + j + i, k0 + k : k0 + k + 8]
      for (int i = 0; i < 8; ++i) r[i] = load8(row + i * K + k);
      __m256 t[8], u[8];
      for (int i = 0; i < 4; ++i) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
      }
      for (int h = 0; h < 2; ++h) {  // rows 0-3, then 4-7
        u[4 * h + 0] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], _MM_SHUFFLE(3, 2, 3, 2));
      }
      for (int i = 0; i < 4; ++i) {  // column i and i + 4 of the block: w[n0 + j : + 8, k0 + k + i]
        _mm256_storeu_ps(panel + (k + i) * NR + j, _mm256_permute2f128_ps(u[i], u[4 + i], 0x20));
        _mm256_storeu_ps(panel + (k + i + 4) * NR + j, _mm256_permute2f128_ps(u[i], u[4 + i], 0x31));
      }
    }
    for (int64_t i = 0; i < 8; ++i) {
      for (int64_t k = depth8; k < depth; ++k) panel[k * NR + j + i] = static_cast<float>(row[i * K + k]);
    }
  }
  for (int64_t j = cols8; j < cols; ++j) {
    const W* row = w + (n0 + j) * K + k0;
    for (int64_t k = 0; k < depth; ++k) panel[k * NR + j] = static_cast<float>(row[k]);
  }
  for (int64_t j = cols; j < NR; ++j) {
    for (int64_t k = 0; k < depth; ++k) panel[k * NR + j] = 0;
  }
}

// c[MR, cols] (+)= a[MR, depth] @ panel[depth, 16]: 2 x MR accumulators of the 16 ymm registers,
// one broadcast of x per row and two panel loads per k. a: rows lda apart; c: rows ldc apart.
struct Avx2Tiles {
  static constexpr int kRows = 6, kCols = 16;

  template <int MR>
  __attribute__((target("avx2,fma"))) static void tile(const float* a, int64_t lda, const float* panel,
                                                       int64_t depth, float* c, int64_t ldc, int64_t cols,
                                                       bool accumulate) {
    __m256 acc[MR][2];
    for (int m = 0; m < MR; ++m) acc[m][0] = acc[m][1] = _mm256_setzero_ps();
    for (int64_t k = 0; k < depth; ++k) {
      const __m256 b0 = _mm256_load_ps(panel + k * 16), b1 = _mm256_load_ps(panel + k * 16 + 8);
      for (int m = 0; m < MR; ++m) {
        const __m256 av = _mm256_broadcast_ss(a + m * lda + k);
        acc[m][0] = _mm256_fmadd_ps(av, b0, acc[m][0]);
        acc[m][1] = _mm256_fmadd_ps(av, b1, acc[m][1]);
      }
    }
    if (cols == kCols) {
      for (int m = 0; m < MR; ++m) {
        for (int h = 0; h < 2; ++h) {
          float* out = c + m * ldc + h * 8;
          _mm256_storeu_ps(out, accumulate ? _mm256_add_ps(_mm256_loadu_ps(out), acc[m][h]) : acc[m][h]);
        }
      }
      return;
    }
    alignas(32) float tile[MR][kCols];  // the last block of columns: store what exists
    for (int m = 0; m < MR; ++m) {
      _mm256_store_ps(tile[m], acc[m][0]);
      _mm256_store_ps(tile[m] + 8, acc[m][1]);
      for (int64_t j = 0; j < cols; ++j) c[m * ldc + j] = (accumulate ? c[m * ldc + j] : 0.0f) + tile[m][j];
    }
  }
};

// The same with zmm registers: 12 x 32 uses 24 of the 32 accumulators; masked stores for the
// last block of columns.
struct Avx512Tiles {
  static constexpr int kRows = 12, kCols = 32;

  template <int MR>
  __attribute__((target("avx512f,fma"))) static void tile(const float* a, int64_t lda, const float* panel,
                                                          int64_t depth, float* c, int64_t ldc, int64_t cols,
                                                          bool accumulate) {
    __m512 acc[MR][2];
    for (int m = 0; m < MR; ++m) acc[m][0] = acc[m][1] = _mm512_setzero_ps();
    for (int64_t k = 0; k < depth; ++k) {
      const __m512 b0 = _mm512_load_ps(panel + k * 32), b1 = _mm512_load_ps(panel + k * 32 + 16);
      for (int m = 0; m < MR; ++m) {
        const __m512 av = _mm512_set1_ps(a[m * lda + k]);
        acc[m][0] = _mm512_fmadd_ps(av, b0, acc[m][0]);
        acc[m][1] = _mm512_fmadd_ps(av, b1, acc[m][1]);
      }
    }
    const __mmask16 masks[2] = {
        static_cast<__mmask16>(cols >= 16 ? 0xFFFF : (1u << cols) - 1),
        static_cast<__mmask16>(cols >= 32 ? 0xFFFF : (cols > 16 ? (1u << (cols - 16)) - 1 : 0))};
    for (int m = 0; m < MR; ++m) {
      for (int h = 0; h < 2; ++h) {
        float* out = c + m * ldc + h * 16;
        const __m512 sum = accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(masks[h], out), acc[m][h]) : acc[m][h];
        _mm512_mask_storeu_ps(out, masks[h], sum);
      }
    }
  }
};

// Tiles::tile<rows> for the last block of rows, which may be shorter than Tiles::kRows.
template <class Tiles, int MR = Tiles::kRows>
void tile_rows(int64_t rows, const float* a, int64_t lda, const float* panel, int64_t depth, float* c, int64_t ldc,
               int64_t cols, bool accumulate) {
  if constexpr (MR > 1) {
    if (rows < MR) return tile_rows<Tiles, MR - 1>(rows, a, lda, panel, depth, c, ldc, cols, accumulate);
  }
  Tiles::template tile<MR>(a, lda, panel, depth, c, ldc, cols, accumulate);
}

// y = x @ w^T. x: [M, K] float32; w: [N, K]; y: [M, N] float32. Threads take blocks of
// Tiles::kCols output columns; each packs its panels once per depth slice and runs all rows on them.
template <class Tiles, class W>
void gemm(const float* x, const W* w, float* y, int64_t M, int64_t N, int64_t K) {
  constexpr int64_t MR = Tiles::kRows, NR = Tiles::kCols;
  const int64_t blocks = (N + NR - 1) / NR;
  at::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
    alignas(64) float panel[kDepth * NR];
    for (int64_t block = begin; block < end; ++block) {
      const int64_t n0 = block * NR, cols = std::min(NR, N - n0);
      for (int64_t k0 = 0; k0 < K; k0 += kDepth) {
        const int64_t depth = std::min(kDepth, K - k0);
        pack_panel<NR>(w, K, n0, cols, k0, depth, panel);
        for (int64_t m0 = 0; m0 < M; m0 += MR) {
          tile_rows<Tiles>(std::min(MR, M - m0), x + m0 * K + k0, K, panel, depth, y + m0 * N + n0, N, cols, k0 > 0);
        }
      }
    }
  });
}

template <class W>
void gemm_for_cpu(const float* x, const W* w, float* y, int64_t M, int64_t N, int64_t K) {
  if (cpu_features().avx512) return gemm<Avx512Tiles>(x, w, y, M, N, K);
  gemm<Avx2Tiles>(x, w, y, M, N, K);
}

}  // namespace

bool tiled_gemm_applies(const at::Tensor& x, const at::Tensor& w) {
  if (!x.device().is_cpu() || !cpu_features().avx2_fma || w.dim() != 2 || !w.is_contiguous()) return false;
  const auto dtype = w.scalar_type();
  if (dtype != x.scalar_type() || (dtype != at::kFloat && dtype != at::kBFloat16)) return false;
  return x.size(-1) == w.size(1) && x.numel() > 0;
}

at::Tensor tiled_gemm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias) {
  const int64_t N = w.size(0), K = w.size(1);
  const int64_t M = x.numel() / K;
  auto x32 = x.reshape({M, K}).to(at::kFloat).contiguous();  // [M, K]
  auto y = at::empty({M, N}, x32.options());                 // [M, N]
  if (w.scalar_type() == at::kFloat) {
    gemm_for_cpu(x32.data_ptr<float>(), w.data_ptr<float>(), y.data_ptr<float>(), M, N, K);
  } else {
    gemm_for_cpu(x32.data_ptr<float>(), w.data_ptr<at::BFloat16>(), y.data_ptr<float>(), M, N, K);
  }
  if (bias.defined()) y.add_(bias.to(at::kFloat));
  auto sizes = x.sizes().vec();
  sizes.back() = N;
  return y.to(x.scalar_type()).view(sizes);
}

}  // namespace therapeia
