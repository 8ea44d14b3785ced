#pragma once

#include <ATen/ATen.h>

#include <vector>

namespace therapeia {

// Attention of one new token per sequence over its whole KV cache, on CPU: softmax(q k^T * scale) v
// with grouped-query heads (query head h reads key/value head h / (NQ / NKV)); sequence b sees
// its first key_lengths[b] keys (all L without key_lengths), so a batch of sequences of different
// lengths needs no mask.
//
// Why: at::scaled_dot_product_attention runs a decode step's 1-row attention as a flash-attention
// tiling whose per-head GEMMs go to MKL's matrix-vector product; in bfloat16 that is a slow path,
// 12% of a bfloat16 decode step on SmolLM2 (more than the float32 model spends outside its
// weights). Here each query head is one task: dot products, softmax and the weighted sum of values
// in float32, rounded once to q's dtype.
//
// Batches: SDPA with a mask of different lengths falls back to its math path (in bfloat16 a
// batched matrix product through MKL's gemv), most of a batch-8 step outside the weights.
//
// The keys and values can be the whole cache: sequence b reads entry cache_rows[b] of k and v
// (entry b without cache_rows), so a batch of sequences in scattered slots is read in place, not
// gathered into a copy per layer (the copy was 9% of a float32 batch-8 decode step).
//
// q: [B, NQ, 1, D]; k, v: [S, NKV, L, D] (views of the cache: any strides, D contiguous), all of
// one dtype; key_lengths: B values in [1, L] or empty; cache_rows: B values in [0, S) or empty
// (then S == B). Returns [B, NQ, 1, D] contiguous.
bool decode_attention_applies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              const std::vector<int64_t>& cache_rows = {});
at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                            const std::vector<int64_t>& key_lengths = {}, const std::vector<int64_t>& cache_rows = {});

}  // namespace therapeia
