#include "therapeia/slot_pool.h"

#include <algorithm>

namespace therapeia {

namespace {

int64_t common_prefix(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const auto limit = std::min(a.size(), b.size());
  size_t n = 0;
  while (n < limit && a[n] == b[n]) ++n;
  return static_cast<int64_t>(n);
}

}  // namespace

SlotPool::SlotPool(int64_t slots) : slots_(static_cast<size_t>(slots)) {}

SlotPool::Admission SlotPool::admit(const std::vector<int64_t>& prompt, int64_t scope, bool reuse) {
  const int64_t most_reusable = static_cast<int64_t>(prompt.size()) - 1;
  int64_t best = -1, best_reused = 0;
  bool best_loses = false;  // whether `best` holds tokens past the common prefix
  if (reuse) {
    for (size_t i = 0; i < slots_.size(); ++i) {
      const Slot& s = slots_[i];
      if (s.running || s.held.empty() || s.scope != scope) continue;
      const int64_t common = common_prefix(s.held, prompt);
      const int64_t reused = std::min(common, most_reusable);
      const bool loses = static_cast<int64_t>(s.held.size()) > common;
      // Ties go to the slot that loses nothing, then to the least recently used.
      const bool better = reused > best_reused ||
                          (reused == best_reused && reused > 0 &&
                           ((best_loses && !loses) || (loses == best_loses && s.last_used < slots_[best].last_used)));
      if (better) {
        best = static_cast<int64_t>(i);
        best_reused = reused;
        best_loses = loses;
      }
    }
  }
  Admission admission;
  if (best < 0) {
    admission.slot = victim();
  } else if (best_loses) {
    // Taking `best` would overwrite a conversation that goes on differently (one sharing only the
    // system prompt, say): the prefix is copied into the slot least worth keeping instead - a
    // cold one, else the least recently used - unless that is `best` itself. Without this, two
    // new prompts sharing only the system prompt overwrote each other's slot (two conversations
    // prefilled ahead of their next turn, say), since either held that prefix.
    admission.slot = victim();
    admission.reused = best_reused;
    if (admission.slot != best) admission.copy_from = best;
  } else {
    admission.slot = best;
    admission.reused = best_reused;
  }
  if (admission.slot >= 0) take(admission.slot);
  return admission;
}

int64_t SlotPool::cold() const {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].running && slots_[i].held.empty()) return static_cast<int64_t>(i);
  }
  return -1;
}

int64_t SlotPool::victim() const {
  const int64_t empty = cold();
  if (empty >= 0) return empty;
  int64_t lru = -1;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].running && (lru < 0 || slots_[i].last_used < slots_[lru].last_used)) lru = static_cast<int64_t>(i);
  }
  return lru;
}

void SlotPool::take(int64_t slot) {
  Slot& s = slots_.at(slot);
  s.running = true;
  s.held.clear();  // until release: the running sequence owns the positions
  s.last_used = ++clock_;
}

void SlotPool::release(int64_t slot, std::vector<int64_t> held, int64_t scope) {
  Slot& s = slots_.at(slot);
  s.running = false;
  s.held = std::move(held);
  s.scope = scope;
  s.last_used = ++clock_;
}

int64_t SlotPool::free_slots() const {
  return std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return !s.running; });
}

int64_t SlotPool::warm_slots() const {
  return std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return !s.running && !s.held.empty(); });
}

int64_t SlotPool::warm_tokens() const {
  int64_t tokens = 0;
  for (const Slot& s : slots_) tokens += s.running ? 0 : static_cast<int64_t>(s.held.size());
  return tokens;
}

}  // namespace therapeia
