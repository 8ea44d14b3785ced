#pragma once

// Shared by the C++ tests: where the reference data lives and how parity is measured.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "therapeia/cpu_features.h"

namespace therapeia::test {

// The CPU kernel paths this machine can run, as the ISA limits that select them: AVX2 where the
// CPU has it, and AVX-512 too where it has that, so that an AVX-512 machine also tests the path
// of AVX2-only CPUs.
inline std::vector<CpuIsa> cpu_kernel_paths() {
  std::vector<CpuIsa> paths;
  if (detected_cpu_features().avx2_fma) paths.push_back(CpuIsa::kAvx2);
  if (detected_cpu_features().avx512) paths.push_back(CpuIsa::kAvx512);
  return paths;
}

inline const char* name_of(CpuIsa isa) {
  return isa == CpuIsa::kAvx512 ? "avx512" : (isa == CpuIsa::kAvx2 ? "avx2" : "scalar");
}

// Caps the CPU kernels at `limit` for one scope, then restores the limit before it.
class ScopedCpuIsaLimit {
 public:
  explicit ScopedCpuIsaLimit(CpuIsa limit) { set_cpu_isa_limit(limit); }
  ~ScopedCpuIsaLimit() { set_cpu_isa_limit(saved_); }
  ScopedCpuIsaLimit(const ScopedCpuIsaLimit&) = delete;
  ScopedCpuIsaLimit& operator=(const ScopedCpuIsaLimit&) = delete;

 private:
  const CpuIsa saved_ = cpu_isa_limit();
};

// Folder named by an environment variable (set by CTest), or skip-free failure if it is missing:
// a parity test that silently finds no data would be a test that cannot fail.
inline std::filesystem::path data_folder(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr || !std::filesystem::is_directory(value)) {
    ADD_FAILURE() << variable << " must name an existing folder";
    return {};
  }
  return value;
}

inline nlohmann::json read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  return nlohmann::json::parse(in);
}

// [rows][columns] JSON numbers -> float32 tensor [rows, columns].
inline at::Tensor matrix(const nlohmann::json& rows) {
  std::vector<float> flat;
  for (const auto& row : rows)
    for (const auto& v : row) flat.push_back(v.get<float>());
  const int64_t n = static_cast<int64_t>(rows.size());
  return at::tensor(flat).view({n, static_cast<int64_t>(flat.size()) / n});
}

// The parity measure of the issue: max |ours - reference| / max |reference|.
inline double relative_error(const at::Tensor& ours, const at::Tensor& reference) {
  return ((ours - reference).abs().max() / reference.abs().max()).item<double>();
}

inline bool same_argmax(const at::Tensor& ours, const at::Tensor& reference) {
  return ours.argmax(-1).equal(reference.argmax(-1));
}

}  // namespace therapeia::test
