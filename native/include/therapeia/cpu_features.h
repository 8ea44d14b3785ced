#pragma once

#include <string>

namespace therapeia {

// The instruction-set levels our CPU kernels are written for, lowest first.
enum class CpuIsa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

// What the CPU kernels may use. One binary serves every x86-64 CPU: each kernel picks its path at
// run time from these flags, never from compile-time flags.
struct CpuFeatures {
  bool avx2_fma = false;     // AVX2 and FMA3
  bool avx512 = false;       // AVX-512 F, BW, VL and DQ
  bool avx512_bf16 = false;  // AVX512_BF16 (vdpbf16ps)
  bool avx512_vnni = false;  // AVX512_VNNI (vpdpbusd)
};

// What this CPU has.
CpuFeatures detected_cpu_features();

// What the kernels may use now: the detected features, capped by the limit below.
CpuFeatures cpu_features();

// Caps the kernels at `limit` for the whole process: tests and benchmarks force the AVX2 path on
// an AVX-512 machine with it. The environment variable THERAPEIA_CPU_ISA (scalar | avx2 | avx512)
// sets the starting limit; without it the CPU decides.
void set_cpu_isa_limit(CpuIsa limit);
CpuIsa cpu_isa_limit();

// "avx2 fma avx512 avx512_bf16 avx512_vnni" (the flags that are on), for logs and benchmarks.
std::string describe(const CpuFeatures& features);

}  // namespace therapeia
