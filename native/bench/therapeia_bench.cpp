// therapeia-bench: times the engine on one model, for bench/cpu_benchmark.py and the GPU check.
//   therapeia-bench --model DIR [--dtype float32] [--device cpu] [--threads N] [--prompt-tokens 256]
//                   [--new-tokens 64] [--batch 1] [--runs 3]
// Prints one JSON object: medians over the runs of prefill tokens/s and time to first token (one
// prompt alone), decode tokens/s of `batch` sequences decoding together (after all of them have
// their first token), the decode step's time and the part of it spent outside the linear
// (weight-reading) kernels, and peak RSS.
#include <c10/util/Exception.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "therapeia/cpu_features.h"
#include "therapeia/cpu_linear.h"
#include "therapeia/engine.h"
#include "therapeia/error.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::vector<int64_t> random_prompt(std::mt19937_64& rng, int64_t length, int64_t vocab) {
  std::uniform_int_distribution<int64_t> id(3, vocab - 1);
  std::vector<int64_t> prompt(length);
  for (auto& token : prompt) token = id(rng);
  return prompt;
}

struct Flags {
  std::map<std::string, std::string> values;
  std::string text(const std::string& name, const std::string& fallback) const {
    const auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  int64_t number(const std::string& name, int64_t fallback) const {
    const auto it = values.find(name);
    return it == values.end() ? fallback : std::stoll(it->second);
  }
};

int run(const Flags& flags) {
  therapeia::EngineOptions options;
  options.model_dir = flags.text("model", "");
  if (options.model_dir.empty()) throw therapeia::Error("--model is required");
  options.dtype = flags.text("dtype", "float32");
  options.device = flags.text("device", "cpu");
  options.threads = flags.number("threads", 0);
  const int64_t prompt_tokens = flags.number("prompt-tokens", 256);
  const int64_t new_tokens = flags.number("new-tokens", 64);
  const int64_t batch = flags.number("batch", 1);
  const int64_t runs = flags.number("runs", 3);
  options.max_slots = batch;
  options.max_context = prompt_tokens + new_tokens + 1;
  therapeia::Engine engine(options);
  const int64_t vocab = engine.config().vocab_size;
  std::mt19937_64 rng(1234);

  therapeia::SamplingParams params;
  params.ignore_eos = true;
  auto drain = [&engine] {
    while (engine.stats().running + engine.stats().waiting > 0) engine.step();
  };

  // Warm-up: first calls pay for allocator growth and kernel selection.
  params.max_new_tokens = 2;
  engine.add(random_prompt(rng, prompt_tokens, vocab), params);
  drain();

  std::vector<double> prefill, ttft, decode, step_ms, outside_ms;
  for (int64_t r = 0; r < runs; ++r) {
    // Time to first token: one prompt alone, from add() to its token (its prefill may take
    // several steps when the prompt exceeds the per-step budget).
    params.max_new_tokens = 1;
    engine.add(random_prompt(rng, prompt_tokens, vocab), params);
    auto start = Clock::now();
    while (engine.step().empty()) {
    }
    const double first = seconds_since(start);
    ttft.push_back(first);
    prefill.push_back(static_cast<double>(prompt_tokens) / first);

    // Decode: once every sequence of the batch has its first token, they decode in lockstep.
    params.max_new_tokens = new_tokens;
    std::set<int64_t> started;
    for (int64_t b = 0; b < batch; ++b) engine.add(random_prompt(rng, prompt_tokens, vocab), params);
    while (static_cast<int64_t>(started.size()) < batch) {
      for (const auto& event : engine.step()) started.insert(event.sequence_id);
    }
    start = Clock::now();
    const int64_t linear_start = therapeia::linear_nanoseconds();
    int64_t produced = 0, steps = 0;
    for (; engine.stats().running > 0; ++steps) produced += static_cast<int64_t>(engine.step().size());
    const double elapsed = seconds_since(start);
    const double linear = static_cast<double>(therapeia::linear_nanoseconds() - linear_start) * 1e-9;
    decode.push_back(static_cast<double>(produced) / elapsed);
    step_ms.push_back(1e3 * elapsed / static_cast<double>(steps));
    outside_ms.push_back(1e3 * (elapsed - linear) / static_cast<double>(steps));
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  nlohmann::json out = {{"prefill_tokens_per_s", median(prefill)}, {"ttft_s", median(ttft)},
                        {"decode_tokens_per_s", median(decode)},   {"batch", batch},
                        {"runs", runs},                            {"peak_rss_mb", usage.ru_maxrss / 1024.0},
                        {"threads", options.threads},
                        {"decode_step_ms", median(step_ms)},
                        {"decode_step_outside_linear_ms", median(outside_ms)},
                        {"cpu_kernels", therapeia::describe(therapeia::cpu_features())}};
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Flags flags;
    for (int i = 1; i + 1 < argc; i += 2) {
      const std::string name = argv[i];
      if (name.rfind("--", 0) != 0) throw therapeia::Error("expected --flag value, got '" + name + "'");
      flags.values[name.substr(2)] = argv[i + 1];
    }
    return run(flags);
  } catch (const c10::Error& e) {
    std::cerr << "therapeia-bench: " << e.what_without_backtrace() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "therapeia-bench: " << e.what() << "\n";
  }
  return 1;
}
