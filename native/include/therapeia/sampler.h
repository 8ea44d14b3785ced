#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace therapeia {

// Per-request generation settings. Hugging Face semantics: temperature 0 means greedy
// (do_sample=False), top_k 0 and top_p 1 disable those filters, repetition_penalty 1 is off.
struct SamplingParams {
  int64_t max_new_tokens = 256;
  double temperature = 0.0;
  int64_t top_k = 0;
  double top_p = 1.0;
  double repetition_penalty = 1.0;
  uint64_t seed = 0;
  bool ignore_eos = false;  // generate exactly max_new_tokens (benchmarks)
};

// Throws therapeia::Error naming the field when a value is out of range.
void validate(const SamplingParams& params);

// The logits processors of transformers' generate(), one function each, in place on
// scores [V] (float32). Filtered entries become -inf. For every value validate() accepts they
// stay free of NaN and +inf: where transformers' float32 arithmetic would overflow (a penalty or
// temperature near 0), they compute the same distribution another way (see sampler.cpp).
void apply_repetition_penalty(at::Tensor& scores, const std::vector<int64_t>& previous_ids, double penalty);
void apply_temperature(at::Tensor& scores, double temperature);
void apply_top_k(at::Tensor& scores, int64_t top_k);
void apply_top_p(at::Tensor& scores, double top_p);

// All processors in transformers' order: repetition penalty, then (when sampling)
// temperature, top-k, top-p. Returns the processed scores [V].
at::Tensor process_logits(const at::Tensor& logits, const std::vector<int64_t>& previous_ids,
                          const SamplingParams& params);

// Picks the next token from logits [V]: argmax for greedy, else a draw from the processed
// distribution with the sequence's own generator (same seed + same input = same tokens).
// Throws therapeia::Error when the logits hold NaN or +inf or no finite value (a broken model
// or weights), or when the distribution to draw from is not finite: a failure of this one
// sequence, which the engine ends alone.
int64_t sample_token(const at::Tensor& logits, const std::vector<int64_t>& previous_ids,
                     const SamplingParams& params, at::Generator& generator);

}  // namespace therapeia
