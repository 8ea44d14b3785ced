#include "therapeia/cpu_decode_attention.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <limits>
#include <vector>

#include "therapeia/cpu_features.h"

namespace therapeia {
namespace {

// Strides of a [B, heads, L, D] tensor with D contiguous.
struct HeadView {
  int64_t batch, head, row;
};

HeadView strides_of(const at::Tensor& t) { return {t.stride(0), t.stride(1), t.stride(2)}; }

// One query head: out[d] = sum_j softmax_j(scale * q . k_j) v_j[d]. scores: L floats of scratch.
// Plain loops over D: the AVX2 target lets GCC vectorise them (this runs only where the CPU has AVX2).
template <class T>
__attribute__((target("avx2,fma"))) void attend_head(const T* q, const T* k, const T* v, int64_t key_stride,
                                                     int64_t value_stride, int64_t L, int64_t D, float scale,
                                                     float* scores, float* acc, T* out) {
  float max_score = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < L; ++j) {
    const T* key = k + j * key_stride;
    float dot = 0;
    for (int64_t d = 0; d < D; ++d) dot += static_cast<float>(q[d]) * static_cast<float>(key[d]);
    scores[j] = dot * scale;
    max_score = std::max(max_score, scores[j]);
  }
  float total = 0;
  for (int64_t j = 0; j < L; ++j) {
    scores[j] = std::exp(scores[j] - max_score);
    total += scores[j];
  }
  for (int64_t d = 0; d < D; ++d) acc[d] = 0;
  for (int64_t j = 0; j < L; ++j) {
    const T* value = v + j * value_stride;
    const float p = scores[j];
    for (int64_t d = 0; d < D; ++d) acc[d] += p * static_cast<float>(value[d]);
  }
  const float inverse = 1.0f / total;
  for (int64_t d = 0; d < D; ++d) out[d] = static_cast<T>(acc[d] * inverse);
}

}  // namespace

bool decode_attention_applies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  if (!q.device().is_cpu() || !cpu_features().avx2_fma || q.dim() != 4 || k.dim() != 4 || v.dim() != 4) return false;
  const auto dtype = q.scalar_type();
  if (k.scalar_type() != dtype || v.scalar_type() != dtype) return false;
  if (dtype != at::kFloat && dtype != at::kBFloat16 && dtype != at::kHalf) return false;
  const int64_t NQ = q.size(1), NKV = k.size(1);
  return q.size(2) == 1 && k.size(2) > 0 && NKV > 0 && NQ % NKV == 0 && q.size(0) == k.size(0) &&
         k.sizes() == v.sizes() && k.size(3) == q.size(3) && q.stride(3) == 1 && k.stride(3) == 1 && v.stride(3) == 1;
}

at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale) {
  const int64_t B = q.size(0), NQ = q.size(1), D = q.size(3), NKV = k.size(1), L = k.size(2);
  const int64_t group = NQ / NKV;
  auto out = at::empty({B, NQ, 1, D}, q.options());
  const HeadView qs = strides_of(q), ks = strides_of(k), vs = strides_of(v);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, q.scalar_type(), "decode_attention", [&] {
    const scalar_t* qp = q.data_ptr<scalar_t>();
    const scalar_t* kp = k.data_ptr<scalar_t>();
    const scalar_t* vp = v.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    at::parallel_for(0, B * NQ, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> scores(L), acc(D);
      for (int64_t bh = begin; bh < end; ++bh) {
        const int64_t b = bh / NQ, h = bh % NQ, kv = h / group;
        attend_head(qp + b * qs.batch + h * qs.head, kp + b * ks.batch + kv * ks.head, vp + b * vs.batch + kv * vs.head,
                    ks.row, vs.row, L, D, static_cast<float>(scale), scores.data(), acc.data(), op + bh * D);
      }
    });
  });
  return out;
}

}  // namespace therapeia
