#include "therapeia/sampler.h"

#include <cfloat>
#include <cmath>
#include <limits>
#include <sstream>

#include "therapeia/error.h"

namespace therapeia {

namespace {

constexpr float kPositiveInfinity = std::numeric_limits<float>::infinity();

// A double as a short, exact-enough number for messages (std::to_string writes 1e-39 as 0.000000).
std::string describe(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// ATen computes `float32 tensor op double scalar` in float32: a scalar below FLT_MIN loses its
// precision or becomes 0, one above FLT_MAX becomes inf. Within this range transformers'
// float32 arithmetic is reproduced as it is.
bool is_normal_float(double value) { return value >= FLT_MIN && value <= FLT_MAX; }

// NaN or +inf in the processed scores leaves softmax NaN (and at::multinomial throwing); -inf is
// a filtered token.
bool has_nan_or_positive_infinity(const at::Tensor& scores) {
  return (at::isnan(scores) | at::isposinf(scores)).any().item<bool>();
}

// The model's own output must be usable before any processor runs: NaN or +inf there come from
// broken weights or an overflow inside the model, not from the request's parameters.
void check_logits(const at::Tensor& logits) {
  if (has_nan_or_positive_infinity(logits)) {
    throw Error("the model's logits hold NaN or +infinity (broken weights or an overflow inside the model)");
  }
  if (!at::isfinite(logits).any().item<bool>()) throw Error("the model's logits hold no finite value");
}

}  // namespace

void validate(const SamplingParams& p) {
  if (p.max_new_tokens <= 0) throw Error("max_new_tokens must be positive, got " + std::to_string(p.max_new_tokens));
  if (!(p.temperature >= 0.0) || !std::isfinite(p.temperature)) {
    throw Error("temperature must be a finite number >= 0, got " + describe(p.temperature));
  }
  if (p.top_k < 0) throw Error("top_k must be >= 0, got " + std::to_string(p.top_k));
  if (!(p.top_p > 0.0 && p.top_p <= 1.0)) throw Error("top_p must be in (0, 1], got " + describe(p.top_p));
  if (!(p.repetition_penalty > 0.0) || !std::isfinite(p.repetition_penalty)) {
    throw Error("repetition_penalty must be a finite number > 0, got " + describe(p.repetition_penalty));
  }
}

// RepetitionPenaltyLogitsProcessor: every id seen so far (prompt and generated) has its logit
// divided by the penalty when positive and multiplied by it when negative.
void apply_repetition_penalty(at::Tensor& scores, const std::vector<int64_t>& previous_ids, double penalty) {
  if (penalty == 1.0 || previous_ids.empty()) return;
  auto ids = at::tensor(previous_ids, at::TensorOptions().dtype(at::kLong)).to(scores.device());
  auto picked = scores.gather(0, ids);
  at::Tensor penalised;
  if (is_normal_float(penalty)) {
    penalised = at::where(picked < 0, picked * penalty, picked / penalty);  // as transformers, in float32
  } else {
    // A penalty float32 cannot hold: the same formula in float64.
    const auto wide = picked.to(at::kDouble);
    penalised = at::where(wide < 0, wide * penalty, wide / penalty).to(scores.scalar_type());
  }
  // A penalty near 0 divides a positive logit past float32's range: +inf would make softmax NaN.
  // The largest float still puts such a token above every other one (tying those that overflow).
  penalised.masked_fill_(at::isposinf(penalised), std::numeric_limits<float>::max());
  scores.scatter_(0, ids, penalised);
}

// TemperatureLogitsWarper: scores / temperature.
void apply_temperature(at::Tensor& scores, double temperature) {
  if (temperature == 1.0) return;
  if (is_normal_float(temperature)) {
    auto divided = scores / temperature;  // as transformers, in float32
    if (!has_nan_or_positive_infinity(divided)) {
      scores.copy_(divided);
      return;
    }
  }
  // Near 0 the division overflows float32 (1e-39: every positive logit becomes +inf, softmax NaN).
  // Softmax, top-k and top-p depend only on the differences between scores, so subtracting the
  // largest first gives the same distribution; in float64 every score then becomes <= 0, the
  // largest exactly 0, and those below float32's range -inf (probability 0 either way). As the
  // temperature goes to 0 this tends to greedy decoding, tied tokens sharing the draw.
  const auto wide = scores.to(at::kDouble);                         // [V]
  scores.copy_((wide - wide.max()) / temperature);                 // [V], back to float32
}

// TopKLogitsWarper: keeps every logit >= the k-th largest (ties at the boundary survive).
void apply_top_k(at::Tensor& scores, int64_t top_k) {
  if (top_k <= 0) return;
  const int64_t k = std::min<int64_t>(top_k, scores.size(0));
  auto kth = std::get<0>(scores.topk(k)).index({k - 1});
  scores.masked_fill_(scores < kth, -kPositiveInfinity);
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
  scores.masked_fill_(remove, -kPositiveInfinity);
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
  check_logits(logits);
  auto scores = process_logits(logits, previous_ids, params);
  if (params.temperature == 0.0) return scores.argmax().item<int64_t>();
  auto probabilities = scores.softmax(0);  // [V]
  // at::multinomial throws on NaN, inf, negative entries or a zero sum (and a CUDA kernel would
  // assert): check first, and say which settings produced the distribution.
  if (!at::isfinite(probabilities).all().item<bool>() || !(probabilities.sum().item<double>() > 0.0)) {
    throw Error("the sampling distribution is not finite (temperature " + describe(params.temperature) + ", top_k " +
                std::to_string(params.top_k) + ", top_p " + describe(params.top_p) + ", repetition_penalty " +
                describe(params.repetition_penalty) + ")");
  }
  return at::multinomial(probabilities, 1, /*replacement=*/false, generator).item<int64_t>();
}

}  // namespace therapeia
