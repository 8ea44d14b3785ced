#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace therapeia {

class MappedFile;

// Where one tensor lives inside a memory-mapped safetensors file.
struct TensorEntry {
  at::ScalarType dtype;
  std::vector<int64_t> shape;
  size_t begin = 0;  // byte offsets into the file
  size_t end = 0;
  std::shared_ptr<MappedFile> file;
};

// The tensors of a model folder: `model.safetensors`, or the shards listed in
// `model.safetensors.index.json`. Every header is parsed and checked (JSON, dtypes, offsets
// inside the file, byte sizes matching shapes) when the store is opened, before any compute.
class WeightStore {
 public:
  static WeightStore open(const std::filesystem::path& model_dir);

  bool contains(const std::string& name) const;

  // A read-only view of the mapped bytes (no copy), after checking the shape the config implies.
  // Throws therapeia::Error naming the tensor and file when it is missing or has another shape.
  at::Tensor get(const std::string& name, const std::vector<int64_t>& expected_shape) const;

  // Drops the tensor's mapped pages from this process's memory; the file stays in the page cache.
  // For tensors converted at load (8-bit weights), which are not read from the file again: without
  // it, every float32 page read while quantizing would count in the process's memory until exit.
  // Views of the tensor stay valid (a later read maps the file's pages in again).
  void release(const std::string& name) const;

  // Shape of a tensor as stored; throws if it is missing.
  const std::vector<int64_t>& shape(const std::string& name) const;

 private:
  const TensorEntry& entry(const std::string& name) const;

  std::map<std::string, TensorEntry> tensors_;
};

}  // namespace therapeia
