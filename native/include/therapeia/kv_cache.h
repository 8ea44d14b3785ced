#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace therapeia {

// Preallocated keys and values for every layer: [slots, kv_heads, max_context, head_dim].
// Static shapes, so that a decode step never allocates cache memory (and CUDA graphs can
// capture it). Which sequence uses which slot is SlotPool's business; a slot's positions past
// what its sequence holds are stale but finite, and never attended (masked, or narrowed away).
class KvCache {
 public:
  KvCache(int64_t layers, int64_t slots, int64_t kv_heads, int64_t max_context, int64_t head_dim,
          at::ScalarType dtype, at::Device device);

  // Zeroes a slot's keys and values. Attention reads the stale positions past a sequence's length
  // (masked, weight 0) when it shares a batch with a longer one, and 0 * NaN is NaN: the slot of a
  // sequence that failed with non-finite values is wiped before anyone reuses it.
  void clear(int64_t slot);
  // Copies positions [0, length) of every layer from one slot to another: a warm prefix handed
  // to a new sequence without computing it again.
  void copy_prefix(int64_t from, int64_t to, int64_t length);
  int64_t max_context() const { return max_context_; }

  // Writes k/v of one sequence, [kv_heads, T, head_dim], at positions [start, start + T).
  void update(int64_t layer, int64_t slot, int64_t start, const at::Tensor& k, const at::Tensor& v);

  // Writes one new token per sequence: k/v [B, kv_heads, 1, head_dim] at positions[b] of slots[b].
  void update_batch(int64_t layer, const at::Tensor& slots, const at::Tensor& positions,
                    const at::Tensor& k, const at::Tensor& v);

  const at::Tensor& keys(int64_t layer) const { return keys_[layer]; }      // [S, KV, L, D]
  const at::Tensor& values(int64_t layer) const { return values_[layer]; }  // [S, KV, L, D]

 private:
  std::vector<at::Tensor> keys_;
  std::vector<at::Tensor> values_;
  int64_t max_context_;
};

}  // namespace therapeia
