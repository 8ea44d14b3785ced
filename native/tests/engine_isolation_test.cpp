// One sequence's failure never harms another: a sequence whose logits turn NaN (here: a token whose
// embedding row is NaN in an otherwise sound model, as a corrupt checkpoint would have it) ends
// alone with a failure event, while every other sequence of the same steps produces exactly the
// tokens it produces alone; and sampling settings that overflow float32 (temperature or
// repetition penalty near 0, given straight to the engine, past the service's validation) are
// computed safely instead of failing anything.
//
// The model is the project's "llama" reference (generate_references.py): untied embeddings, so
// a NaN input embedding reaches only the sequences that feed that token, vocabulary 96.

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include "test_support.h"
#include "therapeia/engine.h"

namespace therapeia {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kMaxContext = 96;

struct Outcome {
  std::vector<int64_t> tokens;
  std::string failure;  // empty when the sequence did not fail
};

EngineOptions options_for(const fs::path& dir, int64_t slots = 3) {
  EngineOptions options;
  options.model_dir = dir;
  options.max_slots = slots;
  options.max_context = kMaxContext;
  return options;
}

SamplingParams greedy(int64_t max_new_tokens) {
  SamplingParams params;
  params.max_new_tokens = max_new_tokens;
  params.ignore_eos = true;  // full length: more tokens compared
  return params;
}

// Steps the engine until every sequence in `outcomes` has finished, recording its events.
void run_until_done(Engine& engine, std::map<int64_t, Outcome>& outcomes, std::map<int64_t, bool>& done) {
  for (int guard = 0; guard < 1000; ++guard) {
    bool all = true;
    for (const auto& [id, d] : done) all = all && d;
    if (all) return;
    for (const auto& event : engine.step()) {
      Outcome& outcome = outcomes[event.sequence_id];
      if (event.failure.empty()) {
        outcome.tokens.push_back(event.token);
      } else {
        EXPECT_EQ(event.token, -1);
        EXPECT_TRUE(event.finished);
        outcome.failure = event.failure;
      }
      if (event.finished) done[event.sequence_id] = true;
    }
  }
  ADD_FAILURE() << "sequences did not finish";
}

// A sequence run alone on a fresh engine.
Outcome alone(const fs::path& model, const std::vector<int64_t>& prompt, const SamplingParams& params) {
  Engine engine(options_for(model));
  std::map<int64_t, Outcome> outcomes;
  std::map<int64_t, bool> done;
  done[engine.add(prompt, params)] = false;
  run_until_done(engine, outcomes, done);
  return outcomes.begin()->second;
}

class EngineIsolation : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto references = test::data_folder("THERAPEIA_REFERENCES");
    ASSERT_FALSE(references.empty());
    model = references / "llama";
    ASSERT_TRUE(fs::exists(model / "model.safetensors")) << model;
    scratch = fs::temp_directory_path() /
              ("therapeia-isolation-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(scratch);
  }
  void TearDown() override { fs::remove_all(scratch); }

  // A copy of the model whose input embedding of `token` is NaN.
  fs::path with_nan_embedding(int64_t token) {
    fs::create_directories(scratch);
    for (const auto& entry : fs::directory_iterator(model)) fs::copy_file(entry.path(), scratch / entry.path().filename());
    const auto file = scratch / "model.safetensors";
    std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
    uint64_t header_length = 0;
    io.read(reinterpret_cast<char*>(&header_length), 8);
    std::string header(header_length, '\0');
    io.read(header.data(), static_cast<std::streamsize>(header_length));
    const auto entry = json::parse(header).at("model.embed_tokens.weight");
    EXPECT_EQ(entry.at("dtype"), "F32");
    const int64_t hidden = entry.at("shape")[1].get<int64_t>();
    const uint64_t row = 8 + header_length + entry.at("data_offsets")[0].get<uint64_t>() + token * hidden * 4;
    const std::vector<float> nan(hidden, std::numeric_limits<float>::quiet_NaN());
    io.seekp(static_cast<std::streamoff>(row));
    io.write(reinterpret_cast<const char*>(nan.data()), static_cast<std::streamsize>(hidden * 4));
    return scratch;
  }

  fs::path model, scratch;
};

TEST_F(EngineIsolation, SequenceWithNanLogitsFailsAloneInItsBatchAndItsSlotIsClean) {
  const std::vector<int64_t> poisoned_prompt{5, 6, 7, 8, 9};
  // The token the poisoned sequence samples first on the sound model: feeding it back is where
  // its logits turn NaN, in a batched decode step shared with the others.
  const int64_t poison = alone(model, poisoned_prompt, greedy(1)).tokens.at(0);
  const auto broken = with_nan_embedding(poison);

  const std::vector<int64_t> long_prompt{40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57};
  const std::vector<int64_t> short_prompt{70, 71, 72};
  for (const auto& prompt : {poisoned_prompt, long_prompt, short_prompt}) {
    ASSERT_EQ(std::count(prompt.begin(), prompt.end(), poison), 0) << "pick prompts without token " << poison;
  }
  // Alone on the broken model, the healthy sequences never feed the poisoned token.
  const Outcome long_alone = alone(broken, long_prompt, greedy(24));
  const Outcome short_alone = alone(broken, short_prompt, greedy(12));
  ASSERT_TRUE(long_alone.failure.empty()) << long_alone.failure;
  ASSERT_TRUE(short_alone.failure.empty()) << short_alone.failure;
  ASSERT_EQ(long_alone.tokens.size(), 24u);

  Engine engine(options_for(broken));
  std::map<int64_t, Outcome> outcomes;
  std::map<int64_t, bool> done;
  const int64_t healthy = engine.add(long_prompt, greedy(24));  // slot 0
  done[healthy] = false;
  for (int i = 0; i < 3; ++i) {  // it prefills and decodes a few tokens alone
    for (const auto& event : engine.step()) outcomes[event.sequence_id].tokens.push_back(event.token);
  }
  const int64_t bad = engine.add(poisoned_prompt, greedy(16));  // slot 1
  done[bad] = false;
  // Prefill: its first token. Next step: decoded in one batch with the healthy one, it fails.
  for (int i = 0; i < 2; ++i) {
    for (const auto& event : engine.step()) {
      Outcome& outcome = outcomes[event.sequence_id];
      if (event.failure.empty()) outcome.tokens.push_back(event.token);
      outcome.failure = event.failure;
      if (event.finished) done[event.sequence_id] = true;
    }
  }
  ASSERT_TRUE(done[bad]) << "the poisoned sequence ended";
  EXPECT_EQ(outcomes[bad].tokens, std::vector<int64_t>{poison});
  EXPECT_NE(outcomes[bad].failure.find("NaN"), std::string::npos) << outcomes[bad].failure;
  EXPECT_FALSE(done[healthy]);

  // A short sequence takes the freed slot next to the longer healthy one: its masked positions
  // include the failed sequence's stale NaN keys and values unless the slot was wiped.
  const int64_t next = engine.add(short_prompt, greedy(12));
  done[next] = false;
  run_until_done(engine, outcomes, done);

  EXPECT_TRUE(outcomes[healthy].failure.empty()) << outcomes[healthy].failure;
  EXPECT_EQ(outcomes[healthy].tokens, long_alone.tokens) << "the healthy sequence's tokens are those it makes alone";
  EXPECT_TRUE(outcomes[next].failure.empty()) << outcomes[next].failure;
  EXPECT_EQ(outcomes[next].tokens, short_alone.tokens) << "the reused slot holds nothing of the failed sequence";
  const auto stats = engine.stats();
  EXPECT_EQ(stats.running, 0);
  EXPECT_EQ(stats.free_slots, stats.total_slots);
}

TEST_F(EngineIsolation, SequenceFailingAtItsPrefillEndsAloneAmongPrefillsAndDecodes) {
  const std::vector<int64_t> first{10, 11, 12, 13}, second{20, 21, 22};
  const Outcome first_alone = alone(model, first, greedy(10));
  const Outcome second_alone = alone(model, second, greedy(10));
  // A token neither healthy sequence feeds (prompt or generated), in the bad one's prompt.
  std::set<int64_t> used(first.begin(), first.end());
  used.insert(second.begin(), second.end());
  used.insert(first_alone.tokens.begin(), first_alone.tokens.end());
  used.insert(second_alone.tokens.begin(), second_alone.tokens.end());
  int64_t poison = 3;
  while (used.count(poison) > 0) ++poison;
  const auto broken = with_nan_embedding(poison);
  const std::vector<int64_t> bad{60, poison, 61};

  Engine engine(options_for(broken));
  std::map<int64_t, Outcome> outcomes;
  std::map<int64_t, bool> done;
  const int64_t a = engine.add(first, greedy(10));
  done[a] = false;
  for (const auto& event : engine.step()) outcomes[event.sequence_id].tokens.push_back(event.token);
  // One step: the first decodes, the bad one and the second are prefilled.
  const int64_t b = engine.add(bad, greedy(10));
  const int64_t c = engine.add(second, greedy(10));
  done[b] = done[c] = false;
  run_until_done(engine, outcomes, done);

  EXPECT_TRUE(outcomes[b].tokens.empty());
  EXPECT_NE(outcomes[b].failure.find("NaN"), std::string::npos) << outcomes[b].failure;
  EXPECT_EQ(outcomes[a].tokens, first_alone.tokens);
  EXPECT_EQ(outcomes[c].tokens, second_alone.tokens);
  EXPECT_TRUE(outcomes[a].failure.empty() && outcomes[c].failure.empty());
}

TEST_F(EngineIsolation, ExtremeSamplingSettingsAreComputedSafelyAndHarmNoOne) {
  const std::vector<int64_t> normal_prompt{3, 14, 15, 92, 65};
  const std::vector<int64_t> extreme_prompt{27, 18, 28, 18, 28};
  const Outcome normal_alone = alone(model, normal_prompt, greedy(16));
  const Outcome extreme_greedy = alone(model, extreme_prompt, greedy(16));

  struct Case {
    const char* name;
    double temperature, top_p, repetition_penalty;
    int64_t top_k;
    bool same_as_greedy;  // a temperature near 0 is the limit of sampling: greedy decoding
  };
  const double subnormal = std::numeric_limits<double>::denorm_min();
  const Case cases[] = {
      {"temperature 1e-39", 1e-39, 1.0, 1.0, 0, true},
      {"temperature 1e-46 (0 as a float32)", 1e-46, 1.0, 1.0, 0, true},
      {"temperature 5e-324", subnormal, 1.0, 1.0, 0, true},
      {"temperature 1e-39, top_k 50, top_p 0.9", 1e-39, 0.9, 1.0, 50, true},
      {"temperature 1e308", 1e308, 1.0, 1.0, 0, false},
      {"repetition_penalty 1e-39", 0.7, 1.0, 1e-39, 0, false},
      {"repetition_penalty 5e-324", 0.7, 1.0, subnormal, 0, false},
      {"repetition_penalty 1e308", 0.7, 1.0, 1e308, 0, false},
      {"temperature and repetition_penalty 1e-39", 1e-39, 1.0, 1e-39, 0, false},
      {"top_p 5e-324, top_k 2^63 - 1", 1.0, subnormal, 1.0, std::numeric_limits<int64_t>::max(), false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    SamplingParams extreme = greedy(16);
    extreme.temperature = c.temperature;
    extreme.top_p = c.top_p;
    extreme.top_k = c.top_k;
    extreme.repetition_penalty = c.repetition_penalty;
    extreme.seed = 7;

    Engine engine(options_for(model));
    std::map<int64_t, Outcome> outcomes;
    std::map<int64_t, bool> done;
    const int64_t n = engine.add(normal_prompt, greedy(16));
    const int64_t x = engine.add(extreme_prompt, extreme);
    done[n] = done[x] = false;
    run_until_done(engine, outcomes, done);

    EXPECT_TRUE(outcomes[x].failure.empty()) << outcomes[x].failure;
    EXPECT_EQ(outcomes[x].tokens.size(), 16u);
    for (int64_t token : outcomes[x].tokens) EXPECT_TRUE(token >= 0 && token < 96) << token;
    if (c.same_as_greedy) {
      EXPECT_EQ(outcomes[x].tokens, extreme_greedy.tokens);
    }
    EXPECT_TRUE(outcomes[n].failure.empty()) << outcomes[n].failure;
    EXPECT_EQ(outcomes[n].tokens, normal_alone.tokens);
  }
}

}  // namespace
}  // namespace therapeia
