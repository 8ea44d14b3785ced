#include "therapeia/engine.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

#include <algorithm>

#include "therapeia/available_cpus.h"
#include "therapeia/error.h"
#include "therapeia/weights.h"

namespace therapeia {

at::ScalarType parse_dtype(const std::string& name) {
  if (name == "float32" || name == "int8") return at::kFloat;
  if (name == "bfloat16") return at::kBFloat16;
  if (name == "float16") return at::kHalf;
  throw Error("dtype '" + name + "' is not supported (float32, bfloat16, float16, int8)");
}

namespace {

at::Device parse_device(const std::string& name) {
  try {
    at::Device device(name);
    if (!device.is_cpu() && !device.is_cuda()) throw Error("");
    return device;
  } catch (const std::exception&) {
    throw Error("device '" + name + "' is not supported (cpu, cuda, cuda:N)");
  }
}

// An exception's message, without the C++ backtrace c10::Error carries.
std::string message_of(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) return c10_error->what_without_backtrace();
  return e.what();
}

}  // namespace

Engine::Engine(const EngineOptions& options)
    : options_(options), threads_(options.threads > 0 ? options.threads : available_cpus()) {
  c10::InferenceMode inference;
  use_engine_threads();
  const ModelConfig config = load_model_config(options.model_dir);
  const auto dtype = parse_dtype(options.dtype);
  const auto device = parse_device(options.device);
  if (options.max_slots <= 0) throw Error("max_slots must be positive, got " + std::to_string(options.max_slots));
  if (options.max_prefill_tokens <= 0) throw Error("max_prefill_tokens must be positive");
  const int64_t context = options.max_context > 0 ? options.max_context
                                                  : std::min<int64_t>(config.max_position_embeddings, 4096);
  if (options.max_context > config.max_position_embeddings) {
    throw Error("max_context " + std::to_string(options.max_context) + " exceeds the model's max_position_embeddings (" +
                std::to_string(config.max_position_embeddings) + ")");
  }
  const WeightStore weights = WeightStore::open(options.model_dir);
  try {
    model_ = std::make_unique<Model>(config, weights, dtype, device, options.dtype == "int8");
  } catch (const c10::Error& e) {
    throw Error("cannot place the model on " + options.device + ": " + e.what_without_backtrace());
  }
  cache_ = std::make_unique<KvCache>(config.num_hidden_layers, options.max_slots, config.num_key_value_heads, context,
                                     config.head_dim, dtype, device);
  slots_ = std::make_unique<SlotPool>(options.max_slots);
  counters_.total_slots = options.max_slots;
  counters_.max_context = context;
  counters_.vocab_size = config.vocab_size;
}

// LibTorch's intra-op thread count is a per-thread setting under OpenMP: set it on whichever
// thread drives the engine, once.
void Engine::use_engine_threads() const {
  thread_local int64_t configured = -1;
  if (configured != threads_) {
    at::set_num_threads(static_cast<int>(threads_));
    configured = threads_;
  }
}

void Engine::validate_prompt(const std::vector<int64_t>& ids, int64_t max_tokens, const char* limit) const {
  if (ids.empty()) throw Error("prompt is empty");
  const int64_t vocab = model_->config().vocab_size;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      throw Error("token id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                  " is outside the vocabulary (vocab_size " + std::to_string(vocab) + ")");
    }
  }
  if (static_cast<int64_t>(ids.size()) > max_tokens) {
    throw Error("prompt of " + std::to_string(ids.size()) + " tokens exceeds the limit of " + std::to_string(max_tokens) +
                " tokens (" + limit + ")");
  }
}

int64_t Engine::add(const std::vector<int64_t>& prompt, const SamplingParams& params, int64_t reuse_scope) {
  validate_prompt(prompt, cache_->max_context() - 1, "max_context minus the one token that must be generated");
  validate(params);
  const int64_t id = next_id_++;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(params.seed);
  Sequence sequence{id,     prompt,    static_cast<int64_t>(prompt.size()), /*slot=*/-1, /*prefilled=*/0,
                    params, generator, reuse_scope,                         /*reused=*/0};
  sequences_.emplace(id, std::move(sequence));
  waiting_.push_back(id);
  return id;
}

void Engine::cancel(int64_t sequence_id) {
  const auto it = sequences_.find(sequence_id);
  if (it == sequences_.end()) return;
  if (it->second.slot >= 0) release_slot(it->second);
  waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), sequence_id), waiting_.end());
  sequences_.erase(it);
}

EngineStats Engine::stats() const {
  EngineStats s = counters_;
  s.waiting = static_cast<int64_t>(waiting_.size());
  s.running = static_cast<int64_t>(sequences_.size()) - s.waiting;
  s.free_slots = slots_->free_slots();
  s.warm_slots = slots_->warm_slots();
  s.warm_tokens = slots_->warm_tokens();
  return s;
}

void Engine::release_slot(const Sequence& sequence) {
  std::vector<int64_t> held;
  if (options_.prefix_cache) {
    // During the prefill, the prompt tokens written so far; after it, every token but the last
    // sampled one, which no forward pass has fed yet.
    const int64_t computed = sequence.prefilled < sequence.prompt_length
                                 ? sequence.prefilled
                                 : static_cast<int64_t>(sequence.tokens.size()) - 1;
    held.assign(sequence.tokens.begin(), sequence.tokens.begin() + computed);
  }
  slots_->release(sequence.slot, std::move(held), sequence.reuse_scope);
}

bool Engine::admit(Sequence& sequence) {
  const std::vector<int64_t> prompt(sequence.tokens.begin(), sequence.tokens.begin() + sequence.prompt_length);
  const SlotPool::Admission admission = slots_->admit(prompt, sequence.reuse_scope, options_.prefix_cache);
  if (admission.slot < 0) return false;
  if (admission.copy_from >= 0) cache_->copy_prefix(admission.copy_from, admission.slot, admission.reused);
  sequence.slot = admission.slot;
  sequence.prefilled = admission.reused;
  sequence.reused = admission.reused;
  counters_.prompt_tokens_reused += admission.reused;
  return true;
}

StepEvent Engine::accept(Sequence& sequence, int64_t token) {
  sequence.tokens.push_back(token);
  counters_.tokens_generated += 1;
  const int64_t generated = static_cast<int64_t>(sequence.tokens.size()) - sequence.prompt_length;
  const auto& eos = model_->config().eos_token_ids;
  const bool end_of_sequence = !sequence.params.ignore_eos && std::find(eos.begin(), eos.end(), token) != eos.end();
  const bool finished = end_of_sequence ||
                        generated >= sequence.params.max_new_tokens ||
                        static_cast<int64_t>(sequence.tokens.size()) >= cache_->max_context();
  StepEvent event{sequence.id, token, finished, {}, sequence.reused};
  if (finished) {
    release_slot(sequence);
    sequences_.erase(sequence.id);
  }
  return event;
}

StepEvent Engine::fail(Sequence& sequence, const std::string& cause) {
  StepEvent event{sequence.id, -1, true, cause, sequence.reused};
  if (sequence.slot >= 0) {
    cache_->clear(sequence.slot);  // its keys and values may be NaN: see KvCache::clear
    slots_->release(sequence.slot, {}, sequence.reuse_scope);  // cold: nothing in it is valid
  }
  sequences_.erase(sequence.id);
  return event;
}

StepEvent Engine::sample_or_fail(Sequence& sequence, const at::Tensor& logits) {
  int64_t token = -1;
  try {
    token = sample_token(logits, sequence.tokens, static_cast<std::size_t>(sequence.prompt_length), sequence.params,
                         sequence.generator);
  } catch (const std::exception& e) {
    return fail(sequence, std::string("sampling failed: ") + message_of(e));
  }
  return accept(sequence, token);
}

int64_t Engine::prefill_chunk(Sequence& sequence, int64_t budget, std::vector<StepEvent>& events) {
  const int64_t length = std::min(budget, sequence.prompt_length - sequence.prefilled);
  const auto options = at::TensorOptions().dtype(at::kLong);
  at::Tensor logits;
  try {
    auto chunk = at::tensor(std::vector<int64_t>(sequence.tokens.begin() + sequence.prefilled,
                                                 sequence.tokens.begin() + sequence.prefilled + length),
                            options)
                     .to(model_->device());  // [length]
    logits = model_->forward_sequence(chunk, sequence.prefilled, cache_.get(), sequence.slot, /*last_only=*/true);
  } catch (const std::exception& e) {
    // A prefill computes this one sequence, in its own slot: what it throws is its failure alone.
    events.push_back(fail(sequence, std::string("prefill failed: ") + message_of(e)));
    return length;
  }
  sequence.prefilled += length;
  counters_.prompt_tokens_computed += length;
  if (sequence.prefilled == sequence.prompt_length) events.push_back(sample_or_fail(sequence, logits[0].cpu()));
  return length;
}

std::vector<StepEvent> Engine::prefill(int64_t budget) {
  std::vector<StepEvent> events;
  std::vector<int64_t> partial;  // admitted, prompt not yet complete, in id (= arrival) order
  for (const auto& [id, s] : sequences_) {
    if (s.slot >= 0 && s.prefilled < s.prompt_length) partial.push_back(id);
  }
  for (int64_t id : partial) {
    if (budget <= 0) return events;
    budget -= prefill_chunk(sequences_.at(id), budget, events);
  }
  while (budget > 0 && !waiting_.empty()) {
    Sequence& sequence = sequences_.at(waiting_.front());
    if (!admit(sequence)) break;
    waiting_.pop_front();
    budget -= prefill_chunk(sequence, budget, events);
  }
  return events;
}

std::vector<StepEvent> Engine::decode_running(const std::vector<int64_t>& ids) {
  std::vector<StepEvent> events;
  if (ids.empty()) return events;
  std::vector<int64_t> tokens, positions, slots;
  int64_t attend_length = 0;
  for (int64_t id : ids) {
    const Sequence& s = sequences_.at(id);
    const int64_t position = static_cast<int64_t>(s.tokens.size()) - 1;  // the last token is not in the cache yet
    tokens.push_back(s.tokens.back());
    positions.push_back(position);
    slots.push_back(s.slot);
    attend_length = std::max(attend_length, position + 1);
  }
  const auto options = at::TensorOptions().dtype(at::kLong);
  const auto device = model_->device();
  auto logits = model_->forward_decode(at::tensor(tokens, options).to(device), at::tensor(positions, options).to(device),
                                       at::tensor(slots, options).to(device), attend_length, *cache_)
                    .cpu();  // [B, V]
  counters_.last_batch_size = static_cast<int64_t>(ids.size());
  // Every row of the batch is computed from its own token and its own slot only, so a row that
  // went wrong (NaN logits) fails its sequence alone and the others sample as they would alone.
  for (size_t b = 0; b < ids.size(); ++b) events.push_back(sample_or_fail(sequences_.at(ids[b]), logits[b]));
  return events;
}

std::vector<StepEvent> Engine::step() {
  c10::InferenceMode inference;
  use_engine_threads();
  // Sequences past their prefill decode one token; a prompt that completes its prefill in this
  // step gets its first token from the prefill.
  std::vector<int64_t> running;
  for (const auto& [id, s] : sequences_) {
    if (s.slot >= 0 && s.prefilled == s.prompt_length) running.push_back(id);
  }
  auto events = prefill(options_.max_prefill_tokens);
  auto decoded = decode_running(running);
  events.insert(events.end(), decoded.begin(), decoded.end());
  counters_.steps += 1;
  return events;
}

at::Tensor Engine::logits(const std::vector<int64_t>& ids) {
  c10::InferenceMode inference;
  use_engine_threads();
  validate_prompt(ids, model_->config().max_position_embeddings, "max_position_embeddings");
  auto tokens = at::tensor(ids, at::TensorOptions().dtype(at::kLong)).to(model_->device());
  return model_->forward_sequence(tokens, 0, nullptr, -1, /*last_only=*/false).cpu();
}

}  // namespace therapeia
