#pragma once

#include <ATen/ATen.h>
#include <immintrin.h>

namespace therapeia {

// Eight float32 lanes with AVX2 and FMA: what the CPU kernels share to read and write float32 and
// bfloat16, to sum a vector and to take e^x. Callers run them only where cpu_features().avx2_fma.

// Eight values as float32: plain, or bfloat16 widened (a bfloat16 is the top half of a float32).
__attribute__((target("avx2,fma"))) inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
__attribute__((target("avx2,fma"))) inline __m256 load8(const at::BFloat16* p) {
  const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
}

// v rounded to T's precision, as static_cast<T> rounds (bfloat16: to nearest even, NaN kept).
__attribute__((target("avx2,fma"))) inline __m256 round_to(float, __m256 v) { return v; }
__attribute__((target("avx2,fma"))) inline __m256 round_to(at::BFloat16, __m256 v) {
  const __m256i bits = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_and_si256(_mm256_add_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(0x7FFF)), lsb),
                                           _mm256_set1_epi32(static_cast<int>(0xFFFF0000u)));
  const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
  return _mm256_blendv_ps(_mm256_castsi256_ps(rounded), _mm256_castsi256_ps(_mm256_set1_epi32(0x7FC00000)), nan);
}

// Stores eight values as T, rounded as static_cast<T> rounds.
__attribute__((target("avx2,fma"))) inline void store8(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
__attribute__((target("avx2,fma"))) inline void store8(at::BFloat16* p, __m256 v) {
  const __m256i top = _mm256_srli_epi32(_mm256_castps_si256(round_to(at::BFloat16(), v)), 16);  // 8 x [0, 0xFFFF]
  const __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(top), _mm256_extracti128_si256(top, 1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), packed);
}

__attribute__((target("avx2,fma"))) inline float horizontal_sum(__m256 v) {
  const __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
  return _mm_cvtss_f32(_mm_add_ss(sum2, _mm_shuffle_ps(sum2, sum2, 1)));
}

// e^x on eight float32 lanes with AVX2 and FMA, for the softmax of the decode attention and SiLU.
//
// Why: both called std::exp once per element, a library call that the compiler cannot vectorise:
// 2-3% of a batch-8 decode step for SiLU's exp alone. Cody-Waite range reduction x = n ln2 + r,
// |r| <= ln2 / 2, a degree-6 polynomial for e^r (Cephes' expf coefficients) and n added to the
// exponent bits. Relative error within 2e-7 of std::exp (test: avx2_lanes_test.cpp). Inputs are
// clamped to [-87.3, 88.3]: e^-87.3 (1.2e-38) stands for anything smaller, e^88.3 (2.1e38) for
// anything larger, where a softmax weight or SiLU's 1 / (1 + e^-x) is 0 or 1 at float32 precision
// anyway; NaN stays NaN.
__attribute__((target("avx2,fma"))) inline __m256 exp8(__m256 x) {
  // min/max return their second operand when one is NaN: the NaN in x goes through.
  x = _mm256_max_ps(_mm256_set1_ps(-87.3f), _mm256_min_ps(_mm256_set1_ps(88.3f), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // r = x - n ln2 in two parts: ln2's high part has few bits, so n * high is exact
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));  // e^r
  // 2^n: n + 127 in the exponent bits (n in [-126, 127] after the clamp)
  const __m256i exponent = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(exponent));
}

}  // namespace therapeia
