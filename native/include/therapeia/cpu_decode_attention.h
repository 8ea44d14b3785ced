#pragma once

#include <ATen/ATen.h>

namespace therapeia {

// Attention of one new token per sequence over its whole KV cache, on CPU: softmax(q k^T * scale) v
// with grouped-query heads (query head h reads key/value head h / (NQ / NKV)), no mask.
//
// Why: at::scaled_dot_product_attention runs a decode step's 1-row attention as a flash-attention
// tiling whose per-head GEMMs go to MKL's matrix-vector product; in bfloat16 that is a slow path,
// 12% of a bfloat16 decode step on SmolLM2 (more than the float32 model spends outside its
// weights). Here each query head is one task: dot products, softmax and the weighted sum of values
// in float32, rounded once to q's dtype.
//
// q: [B, NQ, 1, D]; k, v: [B, NKV, L, D] (views of the cache: any strides, D contiguous), all of
// one dtype. Returns [B, NQ, 1, D] contiguous.
bool decode_attention_applies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);
at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale);

}  // namespace therapeia
