#include "therapeia/cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace therapeia {
namespace {

CpuIsa isa_from_environment() {
  const char* value = std::getenv("THERAPEIA_CPU_ISA");
  if (value == nullptr) return CpuIsa::kAvx512;
  if (std::strcmp(value, "scalar") == 0) return CpuIsa::kScalar;
  if (std::strcmp(value, "avx2") == 0) return CpuIsa::kAvx2;
  return CpuIsa::kAvx512;
}

// Read on every kernel call, so a relaxed atomic: a test that lowers it runs its kernels after.
std::atomic<int> isa_limit{static_cast<int>(isa_from_environment())};

}  // namespace

CpuFeatures detected_cpu_features() {
  static const CpuFeatures detected = [] {
    __builtin_cpu_init();
    CpuFeatures f;
    f.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    f.avx512 = f.avx2_fma && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    f.avx512_bf16 = f.avx512 && __builtin_cpu_supports("avx512bf16");
    f.avx512_vnni = f.avx512 && __builtin_cpu_supports("avx512vnni");
    return f;
  }();
  return detected;
}

CpuFeatures cpu_features() {
  CpuFeatures f = detected_cpu_features();
  const CpuIsa limit = cpu_isa_limit();
  if (limit < CpuIsa::kAvx512) f.avx512 = f.avx512_bf16 = f.avx512_vnni = false;
  if (limit < CpuIsa::kAvx2) f.avx2_fma = false;
  return f;
}

void set_cpu_isa_limit(CpuIsa limit) { isa_limit.store(static_cast<int>(limit), std::memory_order_relaxed); }

CpuIsa cpu_isa_limit() { return static_cast<CpuIsa>(isa_limit.load(std::memory_order_relaxed)); }

std::string describe(const CpuFeatures& f) {
  std::string out;
  const auto add = [&out](bool on, const char* name) {
    if (!on) return;
    if (!out.empty()) out += ' ';
    out += name;
  };
  add(f.avx2_fma, "avx2 fma");
  add(f.avx512, "avx512");
  add(f.avx512_bf16, "avx512_bf16");
  add(f.avx512_vnni, "avx512_vnni");
  return out.empty() ? "scalar" : out;
}

}  // namespace therapeia
