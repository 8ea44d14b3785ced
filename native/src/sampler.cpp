#include "therapeia/sampler.h"

#include <cmath>
#include <limits>

#include "therapeia/error.h"

namespace therapeia {

void validate(const SamplingParams& p) {
  if (p.max_new_tokens <= 0) throw Error("max_new_tokens must be positive, got " + std::to_string(p.max_new_tokens));
  if (!(p.temperature >= 0.0) || !std::isfinite(p.temperature)) {
    throw Error("temperature must be a finite number >= 0, got " + std::to_string(p.temperature));
  }
  if (p.top_k < 0) throw Error("top_k must be >= 0, got " + std::to_string(p.top_k));
  if (!(p.top_p > 0.0 && p.top_p <= 1.0)) throw Error("top_p must be in (0, 1], got " + std::to_string(p.top_p));
  if (!(p.repetition_penalty > 0.0) || !std::isfinite(p.repetition_penalty)) {
    throw Error("repetition_penalty must be a finite number > 0, got " + std::to_string(p.repetition_penalty));
  }
}

// RepetitionPenaltyLogitsProcessor: every id seen so far (prompt and generated) has its logit
// divided by the penalty when positive and multiplied by it when negative.
void apply_repetition_penalty(at::Tensor& scores, const std::vector<int64_t>& previous_ids, double penalty) {
  if (penalty == 1.0 || previous_ids.empty()) return;
  auto ids = at::tensor(previous_ids, at::TensorOptions().dtype(at::kLong)).to(scores.device());
  auto picked = scores.gather(0, ids);
  auto penalised = at::where(picked < 0, picked * penalty, picked / penalty);
  scores.scatter_(0, ids, penalised);
}

void apply_temperature(at::Tensor& scores, double temperature) {
  if (temperature == 1.0) return;
  scores.div_(temperature);
}

// TopKLogitsWarper: keeps every logit >= the k-th largest (ties at the boundary survive).
void apply_top_k(at::Tensor& scores, int64_t top_k) {
  if (top_k <= 0) return;
  const int64_t k = std::min<int64_t>(top_k, scores.size(0));
  auto kth = std::get<0>(scores.topk(k)).index({k - 1});
  scores.masked_fill_(scores < kth, -std::numeric_limits<float>::infinity());
}

// TopPLogitsWarper: sorts ascending, removes the tokens whose cumulative probability is
// <= 1 - top_p, and always keeps the most likely token.
void apply_top_p(at::Tensor& scores, double top_p) {
  if (top_p >= 1.0) return;
  auto [sorted, indices] = scores.sort(/*dim=*/0, /*descending=*/false);
  auto cumulative = sorted.softmax(0).cumsum(0);
  auto remove_sorted = cumulative <= (1.0 - top_p);
  remove_sorted.index_put_({-1}, false);
  auto remove = remove_sorted.scatter(0, indices, remove_sorted);
  scores.masked_fill_(remove, -std::numeric_limits<float>::infinity());
}

at::Tensor process_logits(const at::Tensor& logits, const std::vector<int64_t>& previous_ids,
                          const SamplingParams& params) {
  auto scores = logits.to(at::kFloat).clone();
  apply_repetition_penalty(scores, previous_ids, params.repetition_penalty);
  if (params.temperature > 0.0) {
    apply_temperature(scores, params.temperature);
    apply_top_k(scores, params.top_k);
    apply_top_p(scores, params.top_p);
  }
  return scores;
}

int64_t sample_token(const at::Tensor& logits, const std::vector<int64_t>& previous_ids, const SamplingParams& params,
                     at::Generator& generator) {
  auto scores = process_logits(logits, previous_ids, params);
  if (params.temperature == 0.0) return scores.argmax().item<int64_t>();
  auto probabilities = scores.softmax(0);
  return at::multinomial(probabilities, 1, /*replacement=*/false, generator).item<int64_t>();
}

}  // namespace therapeia
