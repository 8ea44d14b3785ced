#include "therapeia/cpu_fused.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <cmath>

namespace therapeia {

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
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, input.scalar_type(), "fused_silu_mul", [&] {
    const scalar_t* in = input.data_ptr<scalar_t>();
    scalar_t* o = out.data_ptr<scalar_t>();
    at::parallel_for(0, rows, std::max<int64_t>(1, 16384 / I), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const scalar_t* gate = in + r * 2 * I;
        const scalar_t* up = gate + I;
        for (int64_t i = 0; i < I; ++i) {
          const float g = static_cast<float>(gate[i]);
          // silu rounds to the dtype before the product, as at::silu(gate) * up does.
          const scalar_t activated = static_cast<scalar_t>(g / (1.0f + std::exp(-g)));
          o[r * I + i] = static_cast<scalar_t>(static_cast<float>(activated) * static_cast<float>(up[i]));
        }
      }
    });
  });
  return out;
}

}  // namespace therapeia
