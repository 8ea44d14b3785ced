#pragma once

#include <cstdint>
#include <vector>

namespace therapeia {

// Which KV cache slots run a sequence, and which token ids the others still hold.
//
// A slot whose sequence ended keeps its keys and values ("warm"): the next turn of a
// conversation resends the same history, so a new sequence admitted into the warm slot that
// holds the longest common prefix of its prompt computes only the rest. A warm slot is free
// capacity: it is taken (and its contents overwritten) whenever no cold slot is left.
//
// Position p of a slot's KV depends only on the tokens at positions <= p (causal attention;
// sliding windows are masks over absolute positions), so the KV of a common prefix is exactly
// the KV a cold prefill of the new prompt would compute.
class SlotPool {
 public:
  explicit SlotPool(int64_t slots);

  struct Admission {
    int64_t slot = -1;       // -1: every slot runs a sequence
    int64_t reused = 0;      // leading prompt tokens whose KV `slot` holds once copy_from is copied
    int64_t copy_from = -1;  // >= 0: copy positions [0, reused) of this warm slot into `slot` first
  };

  // Picks a slot that runs no sequence for `prompt` and marks it running. With `reuse`, the warm
  // slot of the same `scope` holding the longest common prefix wins (at least one prompt token is
  // always left to compute, for the logits of the first new token; ties go to a slot that holds
  // nothing past the prefix, then to the least recently used). When taking it would overwrite
  // tokens it holds past the common prefix (another conversation sharing only the system prompt,
  // say), the prefix is copied into a cold slot instead, else into the least recently used warm
  // one, so the warm conversation survives. Without a match: a cold slot, else the least recently
  // used warm one.
  Admission admit(const std::vector<int64_t>& prompt, int64_t scope, bool reuse);

  // The slot's sequence ended. Its positions [0, held.size()) hold the KV of `held`
  // (empty: nothing valid, the slot is cold).
  void release(int64_t slot, std::vector<int64_t> held, int64_t scope);

  int64_t free_slots() const;   // running no sequence: cold or warm
  int64_t warm_slots() const;   // running no sequence and holding tokens
  int64_t warm_tokens() const;  // tokens held by warm slots
  int64_t total_slots() const { return static_cast<int64_t>(slots_.size()); }

 private:
  struct Slot {
    bool running = false;
    std::vector<int64_t> held;  // token ids whose KV is at positions [0, held.size())
    int64_t scope = 0;
    uint64_t last_used = 0;     // the admission or release that touched it last, for LRU eviction
  };

  int64_t cold() const;    // a slot running nothing and holding nothing, or -1
  int64_t victim() const;  // the slot to overwrite: a cold one, else the least recently used warm one
  void take(int64_t slot);

  std::vector<Slot> slots_;
  uint64_t clock_ = 0;
};

}  // namespace therapeia
