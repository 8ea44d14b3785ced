// Warm slots (the prefix cache): a conversation whose every turn resends the history reuses the
// KV its previous turn left in a slot, and the result is the one a cold prefill gives.
//
// - Model level, per family (a sliding-window one among them, its history longer than its
//   window): the logits of every turn's new positions computed over a reused (and copied) prefix
//   are within 1e-5 of a cold forward pass over the whole prompt.
// - Engine level: conversations of 6 turns give the same greedy tokens with the prefix cache on
//   and off, with 1 slot (eviction every turn), 3 conversations on 2 slots, chunked prefill and a
//   turn cancelled half-way; the reused counts are exactly what the slots held.
// - SlotPool alone: the admission policy (longest prefix, scopes, copy instead of overwrite, LRU).

#include <gtest/gtest.h>

#include <c10/core/InferenceMode.h>

#include <map>

#include "test_support.h"
#include "therapeia/engine.h"
#include "therapeia/model.h"
#include "therapeia/slot_pool.h"

namespace therapeia {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxContext = 96;
constexpr int kTurns = 6;
constexpr int64_t kReplyTokens = 4;

fs::path reference_model(const std::string& name) {
  const auto root = test::data_folder("THERAPEIA_REFERENCES");
  const auto dir = root / name;
  EXPECT_TRUE(fs::exists(dir / "config.json")) << dir;
  return dir;
}

// A system prompt all conversations share, then per turn a user message of 3 tokens (the
// reference models' vocabulary is 96).
const std::vector<int64_t> kSystem{1, 30, 31, 32, 33, 34, 35, 36};

std::vector<int64_t> user_message(int conversation, int turn) {
  const int64_t base = 3 + (conversation * 17 + turn * 7) % 80;
  return {base, base + 1, (base * 5) % 90 + 2};
}

SamplingParams greedy() {
  SamplingParams params;
  params.max_new_tokens = kReplyTokens;
  params.ignore_eos = true;  // fixed reply length: the prompts grow the same way on every engine
  return params;
}

// One turn of every conversation: prompts[c] -> reply tokens and the reused count.
struct TurnResult {
  std::vector<int64_t> reply;
  int64_t reused = -1;
};

// Adds every prompt at once (they compete for the slots) and steps until all finish.
std::vector<TurnResult> run_turn(Engine& engine, const std::vector<std::vector<int64_t>>& prompts) {
  std::map<int64_t, size_t> index;
  for (size_t i = 0; i < prompts.size(); ++i) index[engine.add(prompts[i], greedy())] = i;
  std::vector<TurnResult> results(prompts.size());
  size_t finished = 0;
  for (int guard = 0; finished < prompts.size() && guard < 1000; ++guard) {
    for (const auto& event : engine.step()) {
      EXPECT_TRUE(event.failure.empty()) << event.failure;
      TurnResult& r = results[index.at(event.sequence_id)];
      r.reply.push_back(event.token);
      if (r.reused >= 0) {
        EXPECT_EQ(r.reused, event.prompt_tokens_reused) << "the same on every event";
      }
      r.reused = event.prompt_tokens_reused;
      finished += event.finished ? 1 : 0;
    }
  }
  EXPECT_EQ(finished, prompts.size());
  return results;
}

struct Scenario {
  int64_t slots = 2;
  int conversations = 1;
  bool together = false;       // every conversation's turn added at once, else one after another
  int64_t max_prefill_tokens = 512;
};

struct ConversationLog {
  std::vector<std::vector<int64_t>> replies;  // [turn]
  std::vector<int64_t> reused;                // [turn]
  std::vector<std::vector<int64_t>> prompts;  // [turn]
};

std::vector<ConversationLog> converse(const fs::path& model, const Scenario& scenario, bool prefix_cache) {
  EngineOptions options;
  options.model_dir = model;
  options.max_slots = scenario.slots;
  options.max_context = kMaxContext;
  options.max_prefill_tokens = scenario.max_prefill_tokens;
  options.prefix_cache = prefix_cache;
  Engine engine(options);
  std::vector<ConversationLog> logs(scenario.conversations);
  std::vector<std::vector<int64_t>> history(scenario.conversations, kSystem);
  for (int turn = 0; turn < kTurns; ++turn) {
    std::vector<std::vector<int64_t>> prompts;
    for (int c = 0; c < scenario.conversations; ++c) {
      auto prompt = history[c];
      const auto user = user_message(c, turn);
      prompt.insert(prompt.end(), user.begin(), user.end());
      prompts.push_back(prompt);
    }
    std::vector<TurnResult> results;
    if (scenario.together) {
      results = run_turn(engine, prompts);
    } else {
      for (const auto& prompt : prompts) results.push_back(run_turn(engine, {prompt}).at(0));
    }
    for (int c = 0; c < scenario.conversations; ++c) {
      logs[c].prompts.push_back(prompts[c]);
      logs[c].replies.push_back(results[c].reply);
      logs[c].reused.push_back(results[c].reused);
      history[c] = prompts[c];
      history[c].insert(history[c].end(), results[c].reply.begin(), results[c].reply.end());
    }
  }
  const auto stats = engine.stats();
  EXPECT_EQ(stats.running, 0);
  EXPECT_EQ(stats.free_slots, scenario.slots) << "warm slots count as free";
  int64_t prompt_tokens = 0, reused = 0;
  for (const auto& log : logs) {
    for (const auto& p : log.prompts) prompt_tokens += static_cast<int64_t>(p.size());
    for (int64_t r : log.reused) reused += r;
  }
  EXPECT_EQ(stats.prompt_tokens_reused, reused);
  EXPECT_EQ(stats.prompt_tokens_reused + stats.prompt_tokens_computed, prompt_tokens);
  if (prefix_cache) {
    EXPECT_GT(stats.warm_slots, 0);
    EXPECT_GT(stats.warm_tokens, 0);
  } else {
    EXPECT_EQ(stats.prompt_tokens_reused, 0);
    EXPECT_EQ(stats.warm_slots, 0);
  }
  return logs;
}

// The prefix cache changes which tokens are computed, never the tokens generated.
std::vector<ConversationLog> expect_same_replies(const fs::path& model, const Scenario& scenario) {
  const auto cold = converse(model, scenario, false);
  const auto warm = converse(model, scenario, true);
  for (int c = 0; c < scenario.conversations; ++c) {
    for (int turn = 0; turn < kTurns; ++turn) {
      EXPECT_EQ(warm[c].replies[turn], cold[c].replies[turn]) << "conversation " << c << " turn " << turn;
    }
  }
  return warm;
}

// Tokens the previous turn's slot holds: its prompt and reply but the last reply token.
int64_t held_after(const ConversationLog& log, int turn) {
  return static_cast<int64_t>(log.prompts[turn].size() + log.replies[turn].size()) - 1;
}

class PrefixReuse : public ::testing::TestWithParam<std::string> {};

TEST_P(PrefixReuse, LogitsOverAReusedPrefixMatchAColdPrefill) {
  const auto dir = reference_model(GetParam());
  c10::InferenceMode inference;
  const ModelConfig config = load_model_config(dir);
  Model model(config, WeightStore::open(dir), at::kFloat, at::kCPU);
  KvCache cache(config.num_hidden_layers, 2, config.num_key_value_heads, kMaxContext, config.head_dim, at::kFloat,
                at::kCPU);
  const auto longs = at::TensorOptions().dtype(at::kLong);
  std::vector<int64_t> history = kSystem;
  int64_t held = 0;  // positions of the current slot holding `history`'s KV
  int64_t slot = 0;
  double worst = 0;
  for (int turn = 0; turn < kTurns; ++turn) {
    std::vector<int64_t> prompt = history;
    const auto user = user_message(0, turn);
    prompt.insert(prompt.end(), user.begin(), user.end());
    const int64_t P = static_cast<int64_t>(prompt.size());
    const int64_t start = std::min(held, P - 1);
    if (turn % 2 == 1) {  // every other turn the prefix moves to the other slot, as SlotPool may
      cache.copy_prefix(slot, 1 - slot, start);
      slot = 1 - slot;
    }
    const auto suffix = at::tensor(std::vector<int64_t>(prompt.begin() + start, prompt.end()), longs);
    const auto reused = model.forward_sequence(suffix, start, &cache, slot, /*last_only=*/false);  // [P - start, V]
    const auto cold = model.forward_sequence(at::tensor(prompt, longs), 0, nullptr, -1, false).narrow(0, start, P - start);
    const double error = test::relative_error(reused, cold);
    worst = std::max(worst, error);
    EXPECT_LT(error, 1e-5) << "turn " << turn << " reused " << start << " of " << P;
    EXPECT_TRUE(test::same_argmax(reused, cold)) << "turn " << turn;
    // The reply, decoded greedily one token at a time as the engine does; the last one is never fed.
    std::vector<int64_t> tokens = prompt;
    int64_t next = reused[-1].argmax().item<int64_t>();
    for (int64_t i = 0; i < kReplyTokens; ++i) {
      tokens.push_back(next);
      if (i + 1 == kReplyTokens) break;
      const int64_t position = static_cast<int64_t>(tokens.size()) - 1;
      const auto logits = model.forward_decode(at::tensor({next}, longs), at::tensor({position}, longs),
                                               at::tensor({slot}, longs), position + 1, cache);
      next = logits[0].argmax().item<int64_t>();
    }
    history = tokens;
    held = static_cast<int64_t>(tokens.size()) - 1;
  }
  ASSERT_GT(held, 40) << "the history outgrows the sliding windows of the reference models (4 and 5)";
  std::cout << "[ reuse ] " << GetParam() << " max relative error over " << kTurns << " turns " << worst << "\n";
}

TEST_P(PrefixReuse, OneConversationReusesAllItsPreviousTurnHolds) {
  const auto warm = expect_same_replies(reference_model(GetParam()), Scenario{});
  EXPECT_EQ(warm[0].reused[0], 0);
  for (int turn = 1; turn < kTurns; ++turn) EXPECT_EQ(warm[0].reused[turn], held_after(warm[0], turn - 1));
}

TEST_P(PrefixReuse, TwoConversationsOnOneSlotShareOnlyTheSystemPrompt) {
  Scenario scenario;
  scenario.slots = 1;
  scenario.conversations = 2;
  const auto warm = expect_same_replies(reference_model(GetParam()), scenario);
  // The single slot always holds the other conversation last: only the system prompt matches.
  EXPECT_EQ(warm[0].reused[0], 0);
  for (int turn = 0; turn < kTurns; ++turn) {
    EXPECT_EQ(warm[1].reused[turn], static_cast<int64_t>(kSystem.size())) << "turn " << turn;
    if (turn > 0) {
      EXPECT_EQ(warm[0].reused[turn], static_cast<int64_t>(kSystem.size())) << "turn " << turn;
    }
  }
}

TEST_P(PrefixReuse, ThreeConversationsCompetingForTwoSlots) {
  Scenario scenario;
  scenario.slots = 2;
  scenario.conversations = 3;
  scenario.together = true;
  const auto warm = expect_same_replies(reference_model(GetParam()), scenario);
  // Three conversations in turn on two slots is least-recently-used eviction's worst case: each
  // turn finds its own history evicted, and reuses the shared system prompt only.
  for (int c = 0; c < 3; ++c) {
    for (int turn = 1; turn < kTurns; ++turn) {
      EXPECT_EQ(warm[c].reused[turn], static_cast<int64_t>(kSystem.size())) << "conversation " << c << " turn " << turn;
    }
  }
}

TEST_P(PrefixReuse, ChunkedPrefillResumesFromTheReusedPosition) {
  Scenario scenario;
  scenario.slots = 2;
  scenario.conversations = 2;
  scenario.together = true;
  scenario.max_prefill_tokens = 3;
  const auto warm = expect_same_replies(reference_model(GetParam()), scenario);
  for (int c = 0; c < 2; ++c) {
    for (int turn = 1; turn < kTurns; ++turn) EXPECT_EQ(warm[c].reused[turn], held_after(warm[c], turn - 1));
  }
}

INSTANTIATE_TEST_SUITE_P(Families, PrefixReuse,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3", "qwen3_moe_window", "olmoe"));

// A turn cancelled half-way (mid-prefill with chunks, or mid-reply) leaves the KV it computed: the
// retried turn reuses exactly that, and replies as it would have without the cancel.
TEST(PrefixReuseCancel, CancelledTurnLeavesOnlyWhatItComputed) {
  const auto dir = reference_model("mistral");
  const Scenario scenario;
  const auto expected = converse(dir, scenario, false)[0];
  for (const int steps_before_cancel : {1, 2, 4}) {
    SCOPED_TRACE(steps_before_cancel);
    EngineOptions options;
    options.model_dir = dir;
    options.max_slots = 1;
    options.max_context = kMaxContext;
    options.max_prefill_tokens = 2;  // turn 1 computes 4 prompt tokens: in 2 steps
    Engine engine(options);
    // Turn 0 completes; turn 1 is cancelled after a few steps and then sent again.
    const auto first = run_turn(engine, {expected.prompts[0]}).at(0);
    ASSERT_EQ(first.reply, expected.replies[0]);
    const auto& prompt = expected.prompts[1];
    const int64_t reused_before = held_after(expected, 0);
    const int64_t id = engine.add(prompt, greedy());
    std::vector<int64_t> produced;
    for (int i = 0; i < steps_before_cancel; ++i) {
      for (const auto& event : engine.step()) produced.push_back(event.token);
    }
    engine.cancel(id);
    EXPECT_EQ(engine.stats().warm_slots, 1);
    // Computed: the prompt up to its chunks so far, or the prompt and all but the last reply token.
    const int64_t prompt_left = static_cast<int64_t>(prompt.size()) - reused_before;
    const int64_t prefill_steps = (prompt_left + options.max_prefill_tokens - 1) / options.max_prefill_tokens;
    const int64_t computed =
        steps_before_cancel < prefill_steps
            ? reused_before + steps_before_cancel * options.max_prefill_tokens
            : static_cast<int64_t>(prompt.size() + produced.size()) - 1;
    EXPECT_EQ(engine.stats().warm_tokens, computed);
    const auto retried = run_turn(engine, {prompt}).at(0);
    EXPECT_EQ(retried.reply, expected.replies[1]);
    EXPECT_EQ(retried.reused, std::min(computed, static_cast<int64_t>(prompt.size()) - 1));
  }
}

// prefix_cache = false: every slot is cold after its sequence, nothing is reused.
TEST(PrefixReuseOff, PrefixCacheOffKeepsNoWarmSlots) {
  EngineOptions options;
  options.model_dir = reference_model("llama");
  options.max_slots = 2;
  options.max_context = kMaxContext;
  options.prefix_cache = false;
  Engine engine(options);
  const auto a = run_turn(engine, {{5, 6, 7, 8}}).at(0);
  const auto b = run_turn(engine, {{5, 6, 7, 8}}).at(0);
  EXPECT_EQ(a.reply, b.reply);
  EXPECT_EQ(b.reused, 0);
  EXPECT_EQ(engine.stats().warm_slots, 0);
}

// --- SlotPool, no model ---------------------------------------------------------------------

TEST(SlotPoolAdmission, TakesTheLongestCommonPrefixAndRecomputesAtLeastOneToken) {
  SlotPool pool(3);
  const auto a = pool.admit({1, 2, 3}, 0, true);
  const auto b = pool.admit({1, 2, 9, 9}, 0, true);
  EXPECT_EQ(a.reused, 0);
  EXPECT_EQ(b.reused, 0);
  EXPECT_NE(a.slot, b.slot);
  pool.release(a.slot, {1, 2, 3, 4}, 0);
  pool.release(b.slot, {1, 2, 9, 9, 8}, 0);
  EXPECT_EQ(pool.warm_slots(), 2);
  EXPECT_EQ(pool.warm_tokens(), 9);
  EXPECT_EQ(pool.free_slots(), 3);

  const auto next = pool.admit({1, 2, 9, 9, 8, 7}, 0, true);
  EXPECT_EQ(next.slot, b.slot);
  EXPECT_EQ(next.reused, 5);
  EXPECT_EQ(next.copy_from, -1);
  EXPECT_EQ(pool.free_slots(), 2);
  pool.release(next.slot, {1, 2, 9, 9, 8, 7}, 0);

  // The whole prompt held: its last token is computed again, for the logits.
  const auto same = pool.admit({1, 2, 3, 4}, 0, true);
  EXPECT_EQ(same.reused, 3);
}

TEST(SlotPoolAdmission, CopiesAPrefixIntoAColdSlotRatherThanOverwriteAWarmConversation) {
  SlotPool pool(3);
  const auto a = pool.admit({1, 2, 3}, 0, true);
  pool.release(a.slot, {1, 2, 3, 4, 5}, 0);
  // Shares the "system prompt" {1, 2} only: a cold slot gets a copy of it, `a` stays warm.
  const auto b = pool.admit({1, 2, 7, 7}, 0, true);
  EXPECT_NE(b.slot, a.slot);
  EXPECT_EQ(b.copy_from, a.slot);
  EXPECT_EQ(b.reused, 2);
  EXPECT_EQ(pool.warm_slots(), 1);
  const auto c = pool.admit({9, 9}, 0, true);
  EXPECT_EQ(c.reused, 0);
  pool.release(c.slot, {9, 9, 9}, 0);
  pool.release(b.slot, {1, 2, 7, 7, 6}, 0);
  // No cold slot left: of the two that share {1, 2}, the least recently used is taken in place.
  const auto d = pool.admit({1, 2, 8}, 0, true);
  EXPECT_EQ(d.slot, a.slot);
  EXPECT_EQ(d.copy_from, -1);
  EXPECT_EQ(d.reused, 2);
}

TEST(SlotPoolAdmission, WithoutAColdSlotAPrefixIsCopiedIntoTheLeastRecentlyUsedRatherThanOverAConversation) {
  SlotPool pool(3);
  const auto x = pool.admit({9, 9}, 0, true);
  pool.release(x.slot, {9, 9, 9}, 0);  // the least recently used from here on
  const auto a = pool.admit({1, 2, 3}, 0, true);
  pool.release(a.slot, {1, 2, 3, 4, 5}, 0);
  const auto b = pool.admit({1, 2, 6}, 0, true);  // into the last cold slot, {1, 2} copied from `a`
  EXPECT_EQ(b.copy_from, a.slot);
  pool.release(b.slot, {1, 2, 6, 6}, 0);
  // Two conversations hold {1, 2} and go on differently (the shorter, `b`, was taken before):
  // the prefix goes into `x`, and both stay warm.
  const auto d = pool.admit({1, 2, 8}, 0, true);
  EXPECT_EQ(d.slot, x.slot);
  EXPECT_EQ(d.copy_from, a.slot) << "of two equal prefixes, the least recently used one's";
  EXPECT_EQ(d.reused, 2);
  pool.release(d.slot, {1, 2, 8, 8}, 0);
  EXPECT_EQ(pool.admit({1, 2, 3, 4, 5, 7}, 0, true).reused, 5);
  EXPECT_EQ(pool.admit({1, 2, 6, 6, 7}, 0, true).reused, 4);
}

TEST(SlotPoolAdmission, ScopesKeepPrefixesApartAndEvictionIsLeastRecentlyUsed) {
  SlotPool pool(2);
  const auto a = pool.admit({1, 2, 3}, 11, true);
  const auto b = pool.admit({1, 2, 3}, 22, true);
  pool.release(a.slot, {1, 2, 3, 4}, 11);
  pool.release(b.slot, {1, 2, 3, 5}, 22);
  const auto other = pool.admit({1, 2, 3, 4, 6}, 33, true);
  EXPECT_EQ(other.reused, 0) << "another scope's prefix is never reused";
  EXPECT_EQ(other.slot, a.slot) << "the least recently used warm slot is evicted";
  pool.release(other.slot, {}, 33);
  const auto same_scope = pool.admit({1, 2, 3, 5, 6}, 22, true);
  EXPECT_EQ(same_scope.slot, b.slot);
  EXPECT_EQ(same_scope.reused, 4);
  pool.release(same_scope.slot, {1, 2, 3, 5, 6}, 22);
  const auto off = pool.admit({1, 2, 3, 5, 6, 7}, 22, false);
  EXPECT_EQ(off.reused, 0);
  EXPECT_EQ(off.slot, a.slot) << "a cold slot before a warm one";
  EXPECT_EQ(pool.admit({4}, 0, true).slot, b.slot);
  EXPECT_EQ(pool.admit({4}, 0, true).slot, -1) << "every slot runs a sequence";
}

}  // namespace
}  // namespace therapeia
