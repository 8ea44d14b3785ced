#include "therapeia/quantize.h"

#include <algorithm>

#include "therapeia/error.h"

namespace therapeia {

Int8Weight quantize_int8(const at::Tensor& w, const std::string& name) {
  if (w.dim() < 2 || !at::isFloatingType(w.scalar_type())) {
    throw Error("tensor '" + name + "' cannot be quantized to 8 bits: it must be a floating-point matrix");
  }
  const int64_t K = w.size(-1);
  const int64_t G = K % kInt8GroupSize == 0 ? kInt8GroupSize : K;
  const auto rows = w.reshape({-1, K});  // [R, K] in the checkpoint's dtype (a view of the mapped file)
  const int64_t R = rows.size(0);
  auto values = at::empty({R, K}, at::kChar);      // [R, K]
  auto scales = at::empty({R, K / G}, at::kFloat);  // [R, K / G]
  // A few thousand rows at a time: the float32 temporaries stay a few MiB, not several copies of
  // a whole embedding, so peak memory at load stays near the 8-bit size.
  constexpr int64_t kChunkRows = 4096;
  for (int64_t r0 = 0; r0 < R; r0 += kChunkRows) {
    const int64_t n = std::min(kChunkRows, R - r0);
    auto grouped = rows.narrow(0, r0, n).to(at::kFloat).reshape({n, K / G, G});  // [n, K / G, G]
    auto scale = grouped.abs().amax(-1, /*keepdim=*/true) / 127.0;                // [n, K / G, 1]
    if (!at::isfinite(scale).all().item<bool>()) {
      throw Error("tensor '" + name + "' holds infinite or NaN weights: it cannot be quantized to 8 bits");
    }
    // An all-zero group keeps scale 0 and values 0; dividing by 1 there avoids 0 / 0.
    auto q = (grouped / at::where(scale > 0, scale, at::ones_like(scale))).round_().clamp_(-127, 127);
    values.narrow(0, r0, n).copy_(q.reshape({n, K}));
    scales.narrow(0, r0, n).copy_(scale.reshape({n, K / G}));
  }
  auto scale_sizes = w.sizes().vec();
  scale_sizes.back() = K / G;
  return {values.view(w.sizes()), scales.view(scale_sizes), G};
}

at::Tensor dequantize(const Int8Weight& w) {
  const int64_t K = w.in_features(), G = w.group_size;
  auto grouped = w.values.to(at::kFloat).reshape({-1, K / G, G});  // [rows, K / G, G]
  return (grouped * w.scales.reshape({-1, K / G, 1})).reshape(w.values.sizes());
}

Int8Weight concat_rows(const std::vector<Int8Weight>& parts) {
  std::vector<at::Tensor> values, scales;
  for (const auto& part : parts) {
    if (part.group_size != parts.front().group_size) throw Error("8-bit weights with different group sizes cannot be fused");
    values.push_back(part.values);
    scales.push_back(part.scales);
  }
  return {at::cat(values, -2), at::cat(scales, -2), parts.front().group_size};
}

Int8Weight stack(const std::vector<Int8Weight>& parts) {
  std::vector<at::Tensor> values, scales;
  for (const auto& part : parts) {
    values.push_back(part.values);
    scales.push_back(part.scales);
  }
  return {at::stack(values), at::stack(scales), parts.front().group_size};
}

}  // namespace therapeia
