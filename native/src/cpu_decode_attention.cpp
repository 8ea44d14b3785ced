#include "therapeia/cpu_decode_attention.h"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "therapeia/avx2_lanes.h"
#include "therapeia/cpu_features.h"

namespace therapeia {
namespace {

// Strides of a [B, heads, L, D] tensor with D contiguous.
struct HeadView {
  int64_t batch, head, row;
};

HeadView strides_of(const at::Tensor& t) { return {t.stride(0), t.stride(1), t.stride(2)}; }

// One query head: out[d] = sum_j softmax_j(scale * q . k_j) v_j[d], 8 dimensions per vector and
// the rest of D in plain C++. q: D floats; scores: L floats and acc: D floats of scratch.
template <class T>
__attribute__((target("avx2,fma"))) void attend_head(const float* q, const T* k, const T* v, int64_t key_stride,
                                                          int64_t value_stride, int64_t L, int64_t D, float scale,
                                                          float* scores, float* acc, T* out) {
  const int64_t DV = D - D % 8;
  float max_score = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < L; ++j) {
    const T* key = k + j * key_stride;
    __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();  // two chains: FMA latency
    int64_t d = 0;
    for (; d + 16 <= DV; d += 16) {
      sum0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), load8(key + d), sum0);
      sum1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d + 8), load8(key + d + 8), sum1);
    }
    if (d < DV) sum0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), load8(key + d), sum0);
    float dot = horizontal_sum(_mm256_add_ps(sum0, sum1));
    for (d = DV; d < D; ++d) dot += q[d] * static_cast<float>(key[d]);
    scores[j] = dot * scale;
    max_score = std::max(max_score, scores[j]);
  }
  // scores[j] = e^(scores[j] - max), eight at a time
  const __m256 max8 = _mm256_set1_ps(max_score);
  __m256 total8 = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= L; j += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(scores + j), max8));
    _mm256_storeu_ps(scores + j, e);
    total8 = _mm256_add_ps(total8, e);
  }
  float total = horizontal_sum(total8);
  for (; j < L; ++j) {
    scores[j] = std::exp(scores[j] - max_score);
    total += scores[j];
  }
  for (int64_t d = 0; d < D; ++d) acc[d] = 0;
  for (int64_t j = 0; j < L; ++j) {
    const T* value = v + j * value_stride;
    const __m256 p = _mm256_set1_ps(scores[j]);
    for (int64_t d = 0; d < DV; d += 8) _mm256_storeu_ps(acc + d, _mm256_fmadd_ps(p, load8(value + d), _mm256_loadu_ps(acc + d)));
    for (int64_t d = DV; d < D; ++d) acc[d] += scores[j] * static_cast<float>(value[d]);
  }
  const float inverse = 1.0f / total;
  for (int64_t d = 0; d < D; ++d) out[d] = static_cast<T>(acc[d] * inverse);
}

// Every (sequence, query head) pair as one task. out: [B, NQ, 1, D] contiguous.
template <class T>
void attend_all(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, float scale,
                const std::vector<int64_t>& key_lengths, const std::vector<int64_t>& cache_rows, at::Tensor& out) {
  const int64_t B = q.size(0), NQ = q.size(1), D = q.size(3), NKV = k.size(1), L = k.size(2);
  const int64_t group = NQ / NKV;
  const HeadView qs = strides_of(q), ks = strides_of(k), vs = strides_of(v);
  const T* qp = q.data_ptr<T>();
  const T* kp = k.data_ptr<T>();
  const T* vp = v.data_ptr<T>();
  T* op = out.data_ptr<T>();
  at::parallel_for(0, B * NQ, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scores(L), acc(D), query(D);
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / NQ, h = bh % NQ, kv = h / group;
      const int64_t entry = cache_rows.empty() ? b : cache_rows[b];
      const T* q_row = qp + b * qs.batch + h * qs.head;
      for (int64_t d = 0; d < D; ++d) query[d] = static_cast<float>(q_row[d]);
      const int64_t keys = key_lengths.empty() ? L : std::clamp<int64_t>(key_lengths[b], 1, L);
      attend_head(query.data(), kp + entry * ks.batch + kv * ks.head, vp + entry * vs.batch + kv * vs.head, ks.row, vs.row,
                  keys, D, scale, scores.data(), acc.data(), op + bh * D);
    }
  });
}

}  // namespace

bool decode_attention_applies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              const std::vector<int64_t>& cache_rows) {
  if (!q.device().is_cpu() || !cpu_features().avx2_fma || q.dim() != 4 || k.dim() != 4 || v.dim() != 4) return false;
  const auto dtype = q.scalar_type();
  if (k.scalar_type() != dtype || v.scalar_type() != dtype) return false;
  if (dtype != at::kFloat && dtype != at::kBFloat16) return false;
  const int64_t B = q.size(0), NQ = q.size(1), NKV = k.size(1), S = k.size(0);
  if (cache_rows.empty() ? S != B : static_cast<int64_t>(cache_rows.size()) != B) return false;
  for (const int64_t row : cache_rows) {
    if (row < 0 || row >= S) return false;
  }
  return q.size(2) == 1 && k.size(2) > 0 && NKV > 0 && NQ % NKV == 0 &&
         k.sizes() == v.sizes() && k.size(3) == q.size(3) && q.stride(3) == 1 && k.stride(3) == 1 && v.stride(3) == 1;
}

at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                            const std::vector<int64_t>& key_lengths, const std::vector<int64_t>& cache_rows) {
  auto out = at::empty({q.size(0), q.size(1), 1, q.size(3)}, q.options());
  const auto s = static_cast<float>(scale);
  if (q.scalar_type() == at::kFloat) attend_all<float>(q, k, v, s, key_lengths, cache_rows, out);
  else attend_all<at::BFloat16>(q, k, v, s, key_lengths, cache_rows, out);
  return out;
}

}  // namespace therapeia
