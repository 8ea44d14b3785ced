// therapeia-cli: runs the core from the command line.
//   therapeia-cli logits   --model DIR --ids 3,10,17 [--dtype D] [--device DEV]
//   therapeia-cli generate --model DIR --ids ... --max-new-tokens N [--temperature T --top-k K
//                          --top-p P --repetition-penalty R --seed S] [--dtype D] [--device DEV]
// Prints JSON on stdout; errors go to stderr with exit code 1 (2 for usage errors).
#include <c10/util/Exception.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "therapeia/engine.h"
#include "therapeia/error.h"

namespace {

constexpr const char* kUsage =
    "usage: therapeia-cli logits --model DIR --ids 3,10,17 [--dtype float32|bfloat16|float16|int8] [--device cpu|cuda]\n"
    "       therapeia-cli generate --model DIR --ids 3,10,17 --max-new-tokens N [--temperature T] [--top-k K]\n"
    "                     [--top-p P] [--repetition-penalty R] [--seed S] [--dtype ...] [--device ...] [--threads N]\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::map<std::string, std::string> parse_flags(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 2; i < argc; i += 2) {
    const std::string name = argv[i];
    if (name.rfind("--", 0) != 0 || i + 1 >= argc) throw UsageError("expected --flag value, got '" + name + "'");
    flags[name.substr(2)] = argv[i + 1];
  }
  return flags;
}

std::vector<int64_t> parse_ids(const std::string& text) {
  std::vector<int64_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      ids.push_back(std::stoll(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw UsageError("--ids: '" + item + "' is not an integer");
    }
  }
  return ids;
}

template <class T>
T number(const std::map<std::string, std::string>& flags, const std::string& name, T fallback) {
  const auto it = flags.find(name);
  if (it == flags.end()) return fallback;
  std::stringstream in(it->second);
  T value;
  if (!(in >> value) || !in.eof()) throw UsageError("--" + name + ": '" + it->second + "' is not a number");
  return value;
}

std::string required(const std::map<std::string, std::string>& flags, const std::string& name) {
  const auto it = flags.find(name);
  if (it == flags.end()) throw UsageError("--" + name + " is required");
  return it->second;
}

int run(int argc, char** argv) {
  if (argc < 2) throw UsageError("missing command");
  const std::string command = argv[1];
  if (command != "logits" && command != "generate") throw UsageError("unknown command '" + command + "'");
  const auto flags = parse_flags(argc, argv);
  static const std::vector<std::string> known = {"model", "ids", "dtype", "device", "max-new-tokens", "temperature",
                                                 "top-k", "top-p", "repetition-penalty", "seed", "threads"};
  for (const auto& [name, value] : flags) {
    if (std::find(known.begin(), known.end(), name) == known.end()) throw UsageError("unknown flag --" + name);
  }

  therapeia::EngineOptions options;
  options.model_dir = required(flags, "model");
  options.dtype = flags.count("dtype") ? flags.at("dtype") : "float32";
  options.device = flags.count("device") ? flags.at("device") : "cpu";
  options.threads = number<int64_t>(flags, "threads", 0);
  options.max_slots = 1;
  const auto ids = parse_ids(required(flags, "ids"));
  therapeia::Engine engine(options);

  nlohmann::json out;
  if (command == "logits") {
    auto logits = engine.logits(ids).contiguous();  // [T, V]
    auto rows = nlohmann::json::array();
    for (int64_t t = 0; t < logits.size(0); ++t) {
      const float* row = logits[t].data_ptr<float>();
      rows.push_back(std::vector<float>(row, row + logits.size(1)));
    }
    out["logits"] = rows;
  } else {
    therapeia::SamplingParams params;
    params.max_new_tokens = number<int64_t>(flags, "max-new-tokens", -1);
    if (params.max_new_tokens < 0) throw UsageError("--max-new-tokens is required");
    params.temperature = number<double>(flags, "temperature", 0.0);
    params.top_k = number<int64_t>(flags, "top-k", 0);
    params.top_p = number<double>(flags, "top-p", 1.0);
    params.repetition_penalty = number<double>(flags, "repetition-penalty", 1.0);
    params.seed = number<uint64_t>(flags, "seed", 0);
    engine.add(ids, params);
    std::vector<int64_t> generated;
    bool finished = false;
    while (!finished) {
      for (const auto& event : engine.step()) {
        if (!event.failure.empty()) throw therapeia::Error("the generation failed: " + event.failure);
        generated.push_back(event.token);
        finished = event.finished;
      }
    }
    out["ids"] = generated;
  }
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "therapeia-cli: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const therapeia::Error& e) {
    std::cerr << "therapeia-cli: " << e.what() << "\n";
  } catch (const c10::Error& e) {
    std::cerr << "therapeia-cli: " << e.what_without_backtrace() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "therapeia-cli: " << e.what() << "\n";
  }
  return 1;
}
