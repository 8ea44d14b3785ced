// Broken model folders and bad requests: each must fail with a therapeia::Error whose message
// names the file, tensor, field or limit, and leave the process able to serve.

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <functional>

#include "test_support.h"
#include "therapeia/engine.h"
#include "therapeia/error.h"

namespace therapeia {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    fixtures = test::data_folder("THERAPEIA_FIXTURES");
    ASSERT_FALSE(fixtures.empty());
    scratch = fs::temp_directory_path() /
              ("therapeia-bad-input-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(scratch);
  }
  void TearDown() override {
    fs::remove_all(scratch);
    // The engine still serves after the failure.
    EngineOptions options;
    options.model_dir = fixtures / "ferrl-tiny_llama";
    Engine engine(options);
    EXPECT_EQ(engine.logits({3, 10, 17}).size(0), 3);
  }

  // A copy of a fixture model that the test may break.
  fs::path copy_of(const std::string& fixture) {
    fs::create_directories(scratch);
    for (const auto& entry : fs::directory_iterator(fixtures / fixture)) {
      fs::copy_file(entry.path(), scratch / entry.path().filename());
    }
    return scratch;
  }

  static void edit_config(const fs::path& dir, const std::function<void(json&)>& edit) {
    json config = test::read_json(dir / "config.json");
    edit(config);
    std::ofstream(dir / "config.json") << config.dump(2);
  }

  // Rewrites the safetensors header (same data), for shape and offset corruption.
  static void edit_header(const fs::path& file, const std::function<void(json&)>& edit) {
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    uint64_t length = 0;
    std::memcpy(&length, bytes.data(), 8);
    json header = json::parse(bytes.substr(8, length));
    edit(header);
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    const uint64_t new_length = text.size();
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(&new_length), 8);
    out << text << bytes.substr(8 + length);
  }

  static void expect_error(const std::function<void()>& action, const std::vector<std::string>& mentions) {
    try {
      action();
      ADD_FAILURE() << "expected a therapeia::Error";
    } catch (const Error& e) {
      for (const auto& word : mentions) EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
    }
  }

  static void open(const fs::path& dir) {
    EngineOptions options;
    options.model_dir = dir;
    Engine engine(options);
  }

  fs::path fixtures, scratch;
};

TEST_F(BadInput, MissingModelFolder) { expect_error([&] { open(scratch / "nowhere"); }, {"nowhere", "does not exist"}); }

TEST_F(BadInput, ConfigThatIsNotJson) {
  const auto dir = copy_of("ferrl-tiny_llama");
  std::ofstream(dir / "config.json") << "{ not json";
  expect_error([&] { open(dir); }, {"config.json", "not valid JSON"});
}

TEST_F(BadInput, UnsupportedArchitecture) {
  const auto dir = copy_of("ferrl-tiny_llama");
  edit_config(dir, [](json& c) { c["architectures"] = {"GPT2LMHeadModel"}; });
  expect_error([&] { open(dir); }, {"GPT2LMHeadModel", "not supported"});
}

TEST_F(BadInput, TruncatedSafetensors) {
  const auto dir = copy_of("ferrl-tiny_llama");
  fs::resize_file(dir / "model.safetensors", fs::file_size(dir / "model.safetensors") / 2);
  expect_error([&] { open(dir); }, {"model.safetensors", "truncated"});
}

TEST_F(BadInput, HeaderOffsetsPastTheEndOfTheFile) {
  const auto dir = copy_of("ferrl-tiny_llama");
  edit_header(dir / "model.safetensors", [](json& h) {
    h["model.norm.weight"]["data_offsets"] = {1u << 30, (1u << 30) + 128};
  });
  expect_error([&] { open(dir); }, {"model.norm.weight", "past the end"});
}

// Shapes and offsets are checked with overflow-safe arithmetic: a header entry that would wrap
// around 64 bits is refused naming the tensor, also when no model weight uses it.
TEST_F(BadInput, HeaderShapesWhoseSizeOverflowsOrIsNotAShape) {
  struct Case {
    const char* name;
    json shape;
    json offsets;
    std::string mention;
  };
  const uint64_t two_31 = 1ull << 31, two_32 = 1ull << 32;
  const Case cases[] = {
      // 2^31 * 2^31 * 4 bytes = 2^64: wraps to 0, matching the empty range [0, 0]
      {"2^31 x 2^31", json::array({two_31, two_31}), json::array({0, 0}), "does not fit in 64 bits"},
      {"2^32 x 2^32 x 2", json::array({two_32, two_32, 2}), json::array({0, 0}), "does not fit in 64 bits"},
      {"2^62 x 1 (x 4 bytes)", json::array({1ull << 62, 1}), json::array({0, 0}), "does not fit in 64 bits"},
      {"2^63 + 1", json::array({(1ull << 63) + 1}), json::array({0, 0}), "larger than 2^63 - 1"},
      {"negative dimension", json::array({-1, 32}), json::array({0, 128}), "negative dimension"},
      {"fractional dimension", json::array({2.5, 4}), json::array({0, 40}), "not an integer"},
      {"shape not an array", json(32), json::array({0, 128}), "not an array"},
      {"begin after end", json::array({32}), json::array({256, 128}), "begins after it ends"},
      {"negative offset", json::array({2}), json::array({-8, 0}), "data_offsets"},
      {"fractional offset", json::array({2}), json::array({0.5, 8.5}), "data_offsets"},
      {"one offset", json::array({2}), json::array({0}), "data_offsets"},
      {"end at 2^64 - 1", json::array({2}), json::array({0, UINT64_MAX}), "past the end"},
      {"begin and end at 2^64 - 1", json::array({0}), json::array({UINT64_MAX, UINT64_MAX}), "past the end"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    for (const std::string tensor : {"model.norm.weight", "unused.extra.weight"}) {
      const auto dir = copy_of("ferrl-tiny_llama");
      edit_header(dir / "model.safetensors", [&](json& h) {
        h[tensor] = {{"dtype", "F32"}, {"shape", c.shape}, {"data_offsets", c.offsets}};
      });
      expect_error([&] { open(dir); }, {tensor, c.mention});
      fs::remove_all(scratch);
    }
  }
}

TEST_F(BadInput, TensorStoredInTwoShards) {
  const auto dir = copy_of("ferrl-tiny_llama");
  fs::copy_file(dir / "model.safetensors", dir / "copy.safetensors");
  const json index{{"weight_map", {{"model.norm.weight", "model.safetensors"}, {"lm_head.weight", "copy.safetensors"}}}};
  std::ofstream(dir / "model.safetensors.index.json") << index.dump();
  expect_error([&] { open(dir); }, {"copy.safetensors", "stored once"});
}

TEST_F(BadInput, MissingTensor) {
  const auto dir = copy_of("ferrl-tiny_llama");
  edit_header(dir / "model.safetensors", [](json& h) { h.erase("model.layers.1.mlp.down_proj.weight"); });
  expect_error([&] { open(dir); }, {"model.layers.1.mlp.down_proj.weight", "missing"});
}

TEST_F(BadInput, TensorOfTheWrongShape) {
  const auto dir = copy_of("ferrl-tiny_llama");
  edit_header(dir / "model.safetensors", [](json& h) {
    auto& shape = h["model.layers.0.self_attn.k_proj.weight"]["shape"];
    shape = {shape[1], shape[0]};  // same bytes, transposed shape
  });
  expect_error([&] { open(dir); }, {"model.layers.0.self_attn.k_proj.weight", "[32, 16]", "[16, 32]"});
}

TEST_F(BadInput, TokenIdOutsideTheVocabularyAndPromptLongerThanTheContext) {
  EngineOptions options;
  options.model_dir = fixtures / "ferrl-tiny_llama";
  options.max_context = 8;
  Engine engine(options);
  expect_error([&] { engine.add({3, 32}, {}); }, {"32", "vocab_size 32"});
  expect_error([&] { engine.add(std::vector<int64_t>(8, 3), {}); }, {"8 tokens", "limit of 7"});
  EXPECT_EQ(engine.logits({3, 4}).size(0), 2);  // and it still serves
}

TEST_F(BadInput, MoeExpertCountThatDoesNotMatchTheTensors) {
  const auto dir = copy_of("neuralapi-tiny_olmoe");
  // The router's shape is checked first: it carries the expert count.
  edit_config(dir, [](json& c) { c["num_experts"] = 3; });
  expect_error([&] { open(dir); }, {"model.layers.0.mlp.gate.weight", "[4, 8]", "[3, 8]"});
  edit_config(dir, [](json& c) { c["num_experts"] = 5; });
  expect_error([&] { open(dir); }, {"model.layers.0.mlp.gate.weight", "[5, 8]"});
}

TEST_F(BadInput, MoeRouterOfTheWrongShape) {
  const auto dir = copy_of("neuralapi-tiny_mixtral");
  edit_header(dir / "model.safetensors", [](json& h) {
    h["model.layers.1.block_sparse_moe.gate.weight"]["shape"] = {8, 4};
  });
  expect_error([&] { open(dir); }, {"model.layers.1.block_sparse_moe.gate.weight", "[8, 4]", "[4, 8]"});
}

TEST_F(BadInput, MoeMoreExpertsPerTokenThanExperts) {
  const auto dir = copy_of("neuralapi-tiny_qwen3_moe");
  edit_config(dir, [](json& c) { c["num_experts_per_tok"] = 5; });
  expect_error([&] { open(dir); }, {"num_experts_per_tok", "num_experts"});
}

}  // namespace
}  // namespace therapeia
