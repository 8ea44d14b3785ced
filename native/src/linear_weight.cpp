#include "therapeia/linear_weight.h"

#include "therapeia/cpu_linear.h"
#include "therapeia/int8_linear.h"

namespace therapeia {

LinearWeight LinearWeight::operator[](int64_t e) const {
  if (dense.defined()) return {dense[e], {}};
  return {{}, int8[e]};
}

LinearWeight load_linear(const WeightStore& weights, const std::vector<std::pair<std::string, std::vector<int64_t>>>& parts,
                         const at::TensorOptions& options, bool int8) {
  if (int8) {
    std::vector<Int8Weight> quantized;
    for (const auto& [name, shape] : parts) {
      quantized.push_back(quantize_int8(weights.get(name, shape), name));
      weights.release(name);
    }
    return {{}, quantized.size() == 1 ? quantized.front() : concat_rows(quantized)};
  }
  std::vector<at::Tensor> tensors;
  for (const auto& [name, shape] : parts) tensors.push_back(weights.get(name, shape).to(options).contiguous());
  return {tensors.size() == 1 ? tensors.front() : at::cat(tensors), {}};
}

LinearWeight stack_experts(const std::vector<LinearWeight>& experts) {
  if (experts.front().dense.defined()) {
    std::vector<at::Tensor> dense;
    for (const auto& e : experts) dense.push_back(e.dense);
    return {at::stack(dense), {}};
  }
  std::vector<Int8Weight> quantized;
  for (const auto& e : experts) quantized.push_back(e.int8);
  return {{}, stack(quantized)};
}

at::Tensor apply_linear(const at::Tensor& x, const LinearWeight& w, const at::Tensor& bias) {
  if (w.dense.defined()) return apply_linear(x, w.dense, bias);  // timed there
  const LinearTimer timer;
  return int8_linear(x, w.int8, bias);
}

}  // namespace therapeia
