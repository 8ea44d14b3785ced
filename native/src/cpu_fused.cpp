#include "therapeia/cpu_fused.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "therapeia/avx2_lanes.h"
#include "therapeia/cpu_features.h"

namespace therapeia {
namespace {

// out[i] = silu(gate[i]) * up[i] for i in [begin, I), in plain C++: silu rounds to the dtype
// before the product, as at::silu(gate) * up does.
template <class T>
void silu_mul_scalar(const T* gate, const T* up, T* out, int64_t begin, int64_t I) {
  for (int64_t i = begin; i < I; ++i) {
    const float g = static_cast<float>(gate[i]);
    const T activated = static_cast<T>(g / (1.0f + std::exp(-g)));
    out[i] = static_cast<T>(static_cast<float>(activated) * static_cast<float>(up[i]));
  }
}

// The same, eight at a time with exp8; the rest of the row in plain C++.
template <class T>
__attribute__((target("avx2,fma"))) void silu_mul_avx2(const T* gate, const T* up, T* out, int64_t I) {
  const __m256 one = _mm256_set1_ps(1.0f);
  int64_t i = 0;
  for (; i + 8 <= I; i += 8) {
    const __m256 g = load8(gate + i);
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));  // e^-g
    const __m256 activated = round_to(T(), _mm256_div_ps(g, _mm256_add_ps(one, e)));
    store8(out + i, _mm256_mul_ps(activated, load8(up + i)));
  }
  silu_mul_scalar(gate, up, out, i, I);
}

}  // namespace

bool fused_cpu_applies(const at::Tensor& x) {
  const auto dtype = x.scalar_type();
  return x.device().is_cpu() && x.dim() >= 1 && x.stride(-1) == 1 &&
         (dtype == at::kFloat || dtype == at::kBFloat16 || dtype == at::kHalf);
}

at::Tensor fused_rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  auto input = x.contiguous();
  auto out = at::empty_like(input);
  const int64_t H = input.size(-1), rows = input.numel() / H;
  auto w = weight.to(input.scalar_type()).contiguous();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, input.scalar_type(), "fused_rms_norm", [&] {
    const scalar_t* in = input.data_ptr<scalar_t>();
    const scalar_t* wp = w.data_ptr<scalar_t>();
    scalar_t* o = out.data_ptr<scalar_t>();
    at::parallel_for(0, rows, std::max<int64_t>(1, 16384 / H), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const scalar_t* row = in + r * H;
        float sum = 0;
        for (int64_t i = 0; i < H; ++i) sum += static_cast<float>(row[i]) * static_cast<float>(row[i]);
        const float inverse = 1.0f / std::sqrt(sum / static_cast<float>(H) + static_cast<float>(eps));
        for (int64_t i = 0; i < H; ++i) {
          const scalar_t normalised = static_cast<scalar_t>(static_cast<float>(row[i]) * inverse);
          o[r * H + i] = static_cast<scalar_t>(static_cast<float>(wp[i]) * static_cast<float>(normalised));
        }
      }
    });
  });
  return out;
}

void fused_rotary_(at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t B = x.size(0), T = x.size(1), heads = x.size(2), D = x.size(3), half = D / 2;
  const int64_t sb = x.stride(0), st = x.stride(1), sh = x.stride(2);
  auto c = cos.contiguous(), s = sin.contiguous();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "fused_rotary", [&] {
    scalar_t* base = x.data_ptr<scalar_t>();
    const scalar_t* cp = c.data_ptr<scalar_t>();
    const scalar_t* sp = s.data_ptr<scalar_t>();
    at::parallel_for(0, B * T, std::max<int64_t>(1, 4096 / (heads * D)), [&](int64_t begin, int64_t end) {
      for (int64_t bt = begin; bt < end; ++bt) {
        const int64_t b = bt / T, t = bt % T;
        const scalar_t* cos_row = cp + bt * D;
        const scalar_t* sin_row = sp + bt * D;
        for (int64_t h = 0; h < heads; ++h) {
          scalar_t* v = base + b * sb + t * st + h * sh;
          for (int64_t i = 0; i < half; ++i) {
            const float x1 = static_cast<float>(v[i]), x2 = static_cast<float>(v[i + half]);
            // rotate_half(x) = [-x2, x1]
            v[i] = static_cast<scalar_t>(x1 * static_cast<float>(cos_row[i]) - x2 * static_cast<float>(sin_row[i]));
            v[i + half] = static_cast<scalar_t>(x2 * static_cast<float>(cos_row[i + half]) +
                                                x1 * static_cast<float>(sin_row[i + half]));
          }
        }
      }
    });
  });
}

at::Tensor fused_silu_mul(const at::Tensor& gate_up) {
  auto input = gate_up.contiguous();
  const int64_t I = input.size(-1) / 2, rows = input.numel() / (2 * I);
  auto sizes = input.sizes().vec();
  sizes.back() = I;
  auto out = at::empty(sizes, input.options());
  const bool vector = cpu_features().avx2_fma && input.scalar_type() != at::kHalf;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, input.scalar_type(), "fused_silu_mul", [&] {
    const scalar_t* in = input.data_ptr<scalar_t>();
    scalar_t* o = out.data_ptr<scalar_t>();
    at::parallel_for(0, rows, std::max<int64_t>(1, 16384 / I), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const scalar_t* gate = in + r * 2 * I;
        if constexpr (std::is_same_v<scalar_t, float> || std::is_same_v<scalar_t, at::BFloat16>) {
          if (vector) {
            silu_mul_avx2(gate, gate + I, o + r * I, I);
            continue;
          }
        }
        silu_mul_scalar(gate, gate + I, o + r * I, 0, I);
      }
    });
  });
  return out;
}

}  // namespace therapeia
