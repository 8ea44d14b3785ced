#include "therapeia/weights.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "therapeia/error.h"

namespace therapeia {

// A read-only memory mapping of one safetensors file, unmapped when the last tensor view goes.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error("cannot open " + path.string() + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      ::close(fd_);
      throw Error("cannot stat " + path.string());
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
      if (data_ == MAP_FAILED) {
        ::close(fd_);
        throw Error("cannot memory-map " + path.string() + ": " + std::strerror(errno));
      }
    }
  }
  ~MappedFile() {
    if (data_ != nullptr && data_ != MAP_FAILED) ::munmap(data_, size_);
    if (fd_ >= 0) ::close(fd_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* bytes() const { return static_cast<const uint8_t*>(data_); }
  size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  void* data_ = nullptr;
  size_t size_ = 0;
};

namespace {

using nlohmann::json;

std::string shape_string(const std::vector<int64_t>& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

std::pair<at::ScalarType, size_t> parse_dtype(const std::string& dtype, const std::string& where) {
  if (dtype == "F32") return {at::kFloat, 4};
  if (dtype == "F16") return {at::kHalf, 2};
  if (dtype == "BF16") return {at::kBFloat16, 2};
  throw Error(where + " has dtype " + dtype + ", not one of F32, F16, BF16");
}

// The shape of a header entry: a JSON array of integers, each >= 0 and small enough for int64.
// (nlohmann would silently truncate 2.5 to 2 and wrap 2^64 - 1 to -1: every element is checked.)
std::vector<int64_t> parse_shape(const json& value, const std::string& where) {
  if (!value.is_array()) throw Error(where + " has a shape that is not an array");
  std::vector<int64_t> shape;
  for (const auto& d : value) {
    if (!d.is_number_integer()) throw Error(where + " has a shape with a dimension that is not an integer");
    if (!d.is_number_unsigned()) throw Error(where + " has a negative dimension");
    if (d.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw Error(where + " has a dimension larger than 2^63 - 1");
    }
    shape.push_back(d.get<int64_t>());
  }
  return shape;
}

// The bytes a tensor of `shape` needs, or nothing when that count does not fit in 64 bits: a
// header may declare [2147483648, 2147483648] of F32, whose 2^64 bytes wrap around to 0.
std::optional<uint64_t> byte_size(const std::vector<int64_t>& shape, uint64_t element_size) {
  uint64_t bytes = element_size;
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes)) return std::nullopt;
  }
  return bytes;
}

// Parses and checks the header of one safetensors file:
// [u64 little-endian header length][JSON header][data], with offsets relative to the data.
void read_header(const std::shared_ptr<MappedFile>& file, std::map<std::string, TensorEntry>& into) {
  const std::string name = file->path().string();
  if (file->size() < 8) throw Error(name + " is truncated: shorter than the 8-byte safetensors header length");
  uint64_t header_length = 0;
  std::memcpy(&header_length, file->bytes(), 8);
  if (header_length > file->size() - 8) {
    throw Error(name + " is truncated: header of " + std::to_string(header_length) + " bytes does not fit in " +
                std::to_string(file->size()) + " bytes");
  }
  json header;
  try {
    header = json::parse(file->bytes() + 8, file->bytes() + 8 + header_length);
  } catch (const json::exception& e) {
    throw Error(name + ": safetensors header is not valid JSON: " + e.what());
  }
  if (!header.is_object()) throw Error(name + ": safetensors header must be a JSON object");
  const size_t data_size = file->size() - 8 - header_length;
  for (const auto& [tensor, info] : header.items()) {
    if (tensor == "__metadata__") continue;
    const std::string where = "tensor '" + tensor + "' in " + name;
    try {
      const auto [dtype, element_size] = parse_dtype(info.at("dtype").get<std::string>(), where);
      TensorEntry entry{dtype, parse_shape(info.at("shape"), where), 0, 0, file};
      const json& offsets = info.at("data_offsets");
      if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
          !offsets[1].is_number_unsigned()) {
        throw Error(where + " has invalid data_offsets: they must be two integers >= 0");
      }
      const uint64_t begin = offsets[0].get<uint64_t>();
      const uint64_t end = offsets[1].get<uint64_t>();
      if (begin > end) throw Error(where + " has invalid data_offsets: it begins after it ends");
      if (end > data_size) {
        throw Error(where + " ends at byte " + std::to_string(end) + ", past the end of the data (" +
                    std::to_string(data_size) + " bytes): the file is truncated or corrupt");
      }
      entry.begin = begin;
      entry.end = end;
      const auto needed = byte_size(entry.shape, element_size);
      if (!needed) {
        throw Error(where + " has shape " + shape_string(entry.shape) + ", whose size in bytes does not fit in 64 bits");
      }
      if (*needed != entry.end - entry.begin) {
        throw Error(where + " holds " + std::to_string(entry.end - entry.begin) + " bytes but shape " +
                    shape_string(entry.shape) + " needs " + std::to_string(*needed));
      }
      if (entry.begin % element_size != 0 || (8 + header_length) % element_size != 0) {
        throw Error(where + " is not aligned to its element size");
      }
      entry.begin += 8 + header_length;  // from here on, offsets into the whole file
      entry.end += 8 + header_length;
      if (into.count(tensor) > 0) {
        throw Error(where + " is also in " + into.at(tensor).file->path().string() + ": a tensor must be stored once");
      }
      into[tensor] = std::move(entry);
    } catch (const json::exception& e) {
      throw Error(where + " has a malformed header entry: " + e.what());
    }
  }
}

}  // namespace

WeightStore WeightStore::open(const std::filesystem::path& dir) {
  WeightStore store;
  const auto single = dir / "model.safetensors";
  const auto index = dir / "model.safetensors.index.json";
  std::set<std::string> shards;
  if (std::filesystem::exists(index)) {
    std::ifstream in(index);
    json j;
    try {
      j = json::parse(in);
    } catch (const json::exception& e) {
      throw Error(index.string() + " is not valid JSON: " + e.what());
    }
    if (!j.contains("weight_map") || !j.at("weight_map").is_object()) {
      throw Error(index.string() + ": field 'weight_map' is missing");
    }
    for (const auto& [tensor, shard] : j.at("weight_map").items()) {
      if (!shard.is_string()) throw Error(index.string() + ": the shard of tensor '" + tensor + "' is not a file name");
      shards.insert(shard.get<std::string>());
    }
  } else if (std::filesystem::exists(single)) {
    shards.insert("model.safetensors");
  } else {
    throw Error("model folder " + dir.string() + " has neither model.safetensors nor model.safetensors.index.json");
  }
  for (const auto& shard : shards) {
    if (shard.find('/') != std::string::npos) throw Error(index.string() + ": shard name '" + shard + "' must be a file name");
    const auto path = dir / shard;
    if (!std::filesystem::exists(path)) throw Error("weight shard " + path.string() + " is missing");
    read_header(std::make_shared<MappedFile>(path), store.tensors_);
  }
  return store;
}

bool WeightStore::contains(const std::string& name) const { return tensors_.count(name) > 0; }

const TensorEntry& WeightStore::entry(const std::string& name) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error("tensor '" + name + "' is missing from the model's safetensors files");
  return it->second;
}

void WeightStore::release(const std::string& name) const {
  const TensorEntry& e = entry(name);
  // Whole pages only; a page shared with a neighbouring tensor is read in again if that one is.
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(e.file->bytes() + e.begin) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(e.file->bytes() + e.end);
  // Advice only: on failure the pages simply stay resident.
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

const std::vector<int64_t>& WeightStore::shape(const std::string& name) const { return entry(name).shape; }

at::Tensor WeightStore::get(const std::string& name, const std::vector<int64_t>& expected_shape) const {
  const TensorEntry& e = entry(name);
  if (e.shape != expected_shape) {
    throw Error("tensor '" + name + "' in " + e.file->path().string() + " has shape " + shape_string(e.shape) +
                ", but config.json implies " + shape_string(expected_shape));
  }
  // PROT_READ mapping: the engine never writes to weights; views that must change are copied first.
  void* start = const_cast<uint8_t*>(e.file->bytes()) + e.begin;
  // The deleter holds the mapping alive for as long as any view of it exists.
  auto keep_alive = e.file;
  return at::from_blob(start, e.shape, [keep_alive](void*) {}, at::TensorOptions().dtype(e.dtype));
}

}  // namespace therapeia
