#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "therapeia/config.h"
#include "therapeia/kv_cache.h"
#include "therapeia/model.h"
#include "therapeia/sampler.h"
#include "therapeia/slot_pool.h"

namespace therapeia {

struct EngineOptions {
  std::filesystem::path model_dir;
  // float32 | bfloat16 | float16 | int8 (8-bit linear weights quantized at load, float32 activations)
  std::string dtype = "float32";
  std::string device = "cpu";     // cpu | cuda | cuda:N
  int64_t max_slots = 8;          // sequences decoded together (KV cache slots)
  int64_t max_context = 0;        // tokens per sequence; 0 = min(max_position_embeddings, 4096)
  int64_t threads = 0;            // intra-op threads on the engine thread; 0 = the CPUs this process may use
  // Prompt tokens prefilled per step. Longer prompts are prefilled in chunks over several steps,
  // so that a long prompt delays the running sequences' next token by one chunk at most.
  int64_t max_prefill_tokens = 512;
  // Keep a finished sequence's KV in its slot and let a later prompt that starts with the same
  // token ids (the next turn of a conversation) skip computing them. See SlotPool.
  bool prefix_cache = true;
};

// One token produced by step() for one sequence, or the failure that ended it.
struct StepEvent {
  int64_t sequence_id;
  int64_t token;  // -1 when the sequence failed
  bool finished;  // EOS, max_new_tokens, the context limit or a failure; the slot is free again
  // Empty unless this sequence failed (non-finite logits, a sampler error, its prefill throwing):
  // then it names the cause, the sequence is gone, and every other sequence of the step went on.
  std::string failure;
  // Leading prompt tokens of this sequence whose KV came from a warm slot instead of a prefill
  // (the same on every event of the sequence).
  int64_t prompt_tokens_reused = 0;
};

struct EngineStats {
  int64_t waiting = 0;
  int64_t running = 0;
  int64_t free_slots = 0;           // running no sequence: cold or warm
  int64_t total_slots = 0;
  int64_t max_context = 0;
  int64_t vocab_size = 0;
  int64_t steps = 0;
  int64_t last_batch_size = 0;      // sequences decoded together in the last step
  int64_t tokens_generated = 0;     // since load
  int64_t warm_slots = 0;           // free slots holding a previous sequence's KV
  int64_t warm_tokens = 0;          // tokens those warm slots hold
  int64_t prompt_tokens_reused = 0;    // since load: prompt tokens taken from warm slots
  int64_t prompt_tokens_computed = 0;  // since load: prompt tokens prefilled
};

// The step API: add sequences at any time, call step() in a loop from one thread; each step
// admits waiting sequences into free KV slots (prefill) and decodes all running ones in one batch.
class Engine {
 public:
  explicit Engine(const EngineOptions& options);

  // Queues a sequence. Throws therapeia::Error for an empty prompt, a token id outside the
  // vocabulary, a prompt that does not fit the context, or invalid sampling parameters.
  // A sequence reuses warm KV only from sequences of the same `reuse_scope` (0 = shared by all;
  // a keyed hash of an API key, say, keeps one client's prefixes, and their timing, to itself).
  int64_t add(const std::vector<int64_t>& prompt, const SamplingParams& params, int64_t reuse_scope = 0);
  std::vector<StepEvent> step();
  // Removes a waiting or running sequence and frees its slot, which keeps the KV computed so far;
  // unknown ids are ignored (the sequence may have finished in the meantime).
  void cancel(int64_t sequence_id);
  EngineStats stats() const;

  // Full forward pass over `ids` without touching the KV cache: logits [T, V] float32.
  at::Tensor logits(const std::vector<int64_t>& ids);

  const ModelConfig& config() const { return model_->config(); }

 private:
  struct Sequence {
    int64_t id;
    std::vector<int64_t> tokens;  // prompt followed by generated tokens
    int64_t prompt_length;
    int64_t slot = -1;
    int64_t prefilled = 0;  // prompt tokens already in the KV cache (reused or computed)
    SamplingParams params;
    at::Generator generator;
    int64_t reuse_scope = 0;
    int64_t reused = 0;     // prompt tokens whose KV came from a warm slot
  };

  void use_engine_threads() const;
  // Throws when ids is empty, holds an id outside the vocabulary, or is longer than max_tokens.
  void validate_prompt(const std::vector<int64_t>& ids, int64_t max_tokens, const char* limit) const;
  // Appends the sampled token, and finishes the sequence when it ends. Returns the event.
  StepEvent accept(Sequence& sequence, int64_t token);
  // Frees a sequence's slot, which keeps the KV of the tokens it computed (with the prefix cache on).
  void release_slot(const Sequence& sequence);
  // Takes a slot for the sequence at the head of the queue, with its longest warm prefix; false
  // when every slot runs a sequence.
  bool admit(Sequence& sequence);
  // Ends a sequence that failed on its own: wipes and frees its slot. Returns its failure event.
  StepEvent fail(Sequence& sequence, const std::string& cause);
  // Samples the next token of a sequence from its logits [V], or fails that sequence alone.
  StepEvent sample_or_fail(Sequence& sequence, const at::Tensor& logits);
  // Spends the step's prompt budget: first on sequences part-way through their prefill, then on
  // waiting ones admitted into free slots. A sequence whose prompt completes samples its first token.
  std::vector<StepEvent> prefill(int64_t budget);
  // Prefills up to `budget` more prompt tokens of a sequence; returns the tokens used.
  int64_t prefill_chunk(Sequence& sequence, int64_t budget, std::vector<StepEvent>& events);
  std::vector<StepEvent> decode_running(const std::vector<int64_t>& ids);

  EngineOptions options_;
  int64_t threads_;  // options_.threads, or the CPUs this process may use when that is 0
  std::unique_ptr<Model> model_;
  std::unique_ptr<KvCache> cache_;
  std::unique_ptr<SlotPool> slots_;
  std::deque<int64_t> waiting_;
  std::map<int64_t, Sequence> sequences_;
  int64_t next_id_ = 1;
  EngineStats counters_;
};

// The compute dtype of a dtype setting (int8: float32). Throws naming the setting for others.
at::ScalarType parse_dtype(const std::string& name);

}  // namespace therapeia
