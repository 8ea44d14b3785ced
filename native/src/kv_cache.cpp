#include "therapeia/kv_cache.h"

#include "therapeia/error.h"

namespace therapeia {

KvCache::KvCache(int64_t layers, int64_t slots, int64_t kv_heads, int64_t max_context, int64_t head_dim,
                 at::ScalarType dtype, at::Device device)
    : max_context_(max_context) {
  const auto options = at::TensorOptions().dtype(dtype).device(device);
  for (int64_t i = 0; i < layers; ++i) {
    keys_.push_back(at::zeros({slots, kv_heads, max_context, head_dim}, options));
    values_.push_back(at::zeros({slots, kv_heads, max_context, head_dim}, options));
  }
}

void KvCache::clear(int64_t slot) {
  for (size_t layer = 0; layer < keys_.size(); ++layer) {
    keys_[layer][slot].zero_();
    values_[layer][slot].zero_();
  }
}

void KvCache::copy_prefix(int64_t from, int64_t to, int64_t length) {
  for (size_t layer = 0; layer < keys_.size(); ++layer) {
    keys_[layer][to].narrow(1, 0, length).copy_(keys_[layer][from].narrow(1, 0, length));
    values_[layer][to].narrow(1, 0, length).copy_(values_[layer][from].narrow(1, 0, length));
  }
}

void KvCache::update(int64_t layer, int64_t slot, int64_t start, const at::Tensor& k, const at::Tensor& v) {
  const int64_t length = k.size(1);
  if (start + length > max_context_) {
    throw Error("sequence of " + std::to_string(start + length) + " tokens exceeds the KV cache context limit of " +
                std::to_string(max_context_) + " tokens");
  }
  keys_[layer][slot].narrow(1, start, length).copy_(k);
  values_[layer][slot].narrow(1, start, length).copy_(v);
}

void KvCache::update_batch(int64_t layer, const at::Tensor& slots, const at::Tensor& positions, const at::Tensor& k,
                           const at::Tensor& v) {
  // Advanced indexing [slots[b], :, positions[b], :] addresses [B, KV, D]; k is [B, KV, 1, D].
  using at::indexing::Slice;
  keys_[layer].index_put_({slots, Slice(), positions}, k.squeeze(2));
  values_[layer].index_put_({slots, Slice(), positions}, v.squeeze(2));
}

}  // namespace therapeia
