#include "therapeia/kv_cache.h"

#include <cstring>

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

namespace {

// cache[slots[b], h, positions[b], :] = rows[b, h, 0, :] by memcpy, on CPU, where the dtypes match
// and D is contiguous: a decode step writes B * KV rows of a few hundred bytes per layer, and
// index_put_ spends tens of microseconds per call building index tensors (60 calls a step).
// Returns false, having written nothing, where it does not apply.
bool copy_rows_on_cpu(at::Tensor& cache, const at::Tensor& slots, const at::Tensor& positions, const at::Tensor& rows) {
  if (!cache.is_cpu() || !slots.is_cpu() || !positions.is_cpu() || !rows.is_cpu() ||
      rows.scalar_type() != cache.scalar_type() || rows.stride(3) != 1 || !cache.is_contiguous() ||
      slots.scalar_type() != at::kLong || positions.scalar_type() != at::kLong) {
    return false;
  }
  const auto s = slots.contiguous(), p = positions.contiguous();
  const int64_t B = rows.size(0), heads = rows.size(1), D = rows.size(3);
  const int64_t bytes = D * static_cast<int64_t>(rows.element_size());
  for (int64_t b = 0; b < B; ++b) {
    const int64_t slot = s.data_ptr<int64_t>()[b], position = p.data_ptr<int64_t>()[b];
    if (slot < 0 || slot >= cache.size(0) || position < 0 || position >= cache.size(2)) {
      throw Error("KV cache write at slot " + std::to_string(slot) + ", position " + std::to_string(position) +
                  " is outside the cache (" + std::to_string(cache.size(0)) + " slots, " +
                  std::to_string(cache.size(2)) + " positions)");
    }
  }
  auto* base = static_cast<char*>(cache.data_ptr());
  const auto* source = static_cast<const char*>(rows.data_ptr());
  const int64_t element = rows.element_size();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t slot = s.data_ptr<int64_t>()[b], position = p.data_ptr<int64_t>()[b];
    for (int64_t h = 0; h < heads; ++h) {
      char* to = base + (((slot * cache.size(1) + h) * cache.size(2) + position) * D) * element;
      std::memcpy(to, source + (b * rows.stride(0) + h * rows.stride(1)) * element, bytes);
    }
  }
  return true;
}

}  // namespace

void KvCache::update_batch(int64_t layer, const at::Tensor& slots, const at::Tensor& positions, const at::Tensor& k,
                           const at::Tensor& v) {
  if (copy_rows_on_cpu(keys_[layer], slots, positions, k) && copy_rows_on_cpu(values_[layer], slots, positions, v)) return;
  // Advanced indexing [slots[b], :, positions[b], :] addresses [B, KV, D]; k is [B, KV, 1, D].
  using at::indexing::Slice;
  keys_[layer].index_put_({slots, Slice(), positions}, k.squeeze(2));
  values_[layer].index_put_({slots, Slice(), positions}, v.squeeze(2));
}

}  // namespace therapeia
