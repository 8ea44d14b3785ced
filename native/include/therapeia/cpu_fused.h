#pragma once

#include <ATen/ATen.h>

namespace therapeia {

// Fused CPU versions of the small per-layer operations of a decoder. A decode step runs each of
// them on a handful of rows, where ATen's per-operator cost (dispatch, allocation, a thread-pool
// fork) outweighs the arithmetic: rms_norm alone is six operators, RoPE six per tensor. Each
// computes in float32 and rounds once to the tensor's dtype; the results equal the ATen
// compositions in float32 (to rounding) and stay within bf16 rounding of them in bfloat16.

// True when the fused kernels can run on x: CPU, float32/bfloat16/float16, last dim contiguous.
bool fused_cpu_applies(const at::Tensor& x);

// weight * (x / sqrt(mean(x^2) + eps)) over the last dimension (transformers' RMSNorm order:
// normalise in float32, round to x's dtype, then scale). x: [..., H], weight: [H].
at::Tensor fused_rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

// Rotates x in place: x * cos + rotate_half(x) * sin. x: [B, T, heads, D] (may be a strided view
// into a fused QKV projection, D contiguous); cos, sin: [B, T, D] contiguous, x's dtype.
void fused_rotary_(at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

// silu(gate) * up for gate_up = [..., 2I] (gate first): returns [..., I].
at::Tensor fused_silu_mul(const at::Tensor& gate_up);

}  // namespace therapeia
