#include "therapeia/available_cpus.h"

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace therapeia {

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// "a b" with a and b positive integers: ceil(a / b); otherwise 0.
int64_t ceil_ratio(const std::string& quota, const std::string& period) {
  try {
    size_t used = 0;
    const long long q = std::stoll(quota, &used);
    if (quota.find_first_not_of(" \t\n", used) != std::string::npos) return 0;
    const long long p = std::stoll(period, &used);
    if (period.find_first_not_of(" \t\n", used) != std::string::npos) return 0;
    if (q <= 0 || p <= 0) return 0;
    return static_cast<int64_t>(q / p + (q % p != 0 ? 1 : 0));
  } catch (const std::exception&) {  // not a number, or out of range
    return 0;
  }
}

// The smallest positive limit that `limit_in(dir)` finds in `leaf` or any folder above it up to
// `root`; 0 when none has one. Folders that do not exist are passed over: inside a cgroup
// namespace /proc/self/cgroup may name a path that is not mounted, and the root is then the
// process's own cgroup.
template <class F>
int64_t smallest_limit_up_to(const fs::path& root, const std::string& cgroup_path, F limit_in) {
  fs::path dir = root;
  std::vector<fs::path> chain{root};
  for (const auto& part : fs::path(cgroup_path).relative_path()) {
    if (part.empty() || part == "." || part == "..") continue;
    dir /= part;
    chain.push_back(dir);
  }
  int64_t smallest = 0;
  for (const auto& d : chain) {
    const int64_t limit = limit_in(d);
    if (limit > 0 && (smallest == 0 || limit < smallest)) smallest = limit;
  }
  return smallest;
}

int64_t affinity_cpus() {
  for (int cpus = 1024; cpus <= (1 << 16); cpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(cpus);
    if (set == nullptr) break;
    const size_t size = CPU_ALLOC_SIZE(cpus);
    CPU_ZERO_S(size, set);
    const int rc = sched_getaffinity(0, size, set);
    const int count = rc == 0 ? CPU_COUNT_S(size, set) : 0;
    CPU_FREE(set);
    if (rc == 0) return count;
    if (errno != EINVAL) break;  // EINVAL: the kernel's mask is larger, try a larger set
  }
  return 0;
}

}  // namespace

int64_t cpus_from_cpu_max(const std::string& contents) {
  std::istringstream in(contents);
  std::string quota, period, rest;
  if (!(in >> quota >> period) || (in >> rest)) return 0;
  if (quota == "max") return 0;
  return ceil_ratio(quota, period);
}

int64_t cpus_from_cfs_quota(const std::string& quota_us, const std::string& period_us) {
  return ceil_ratio(quota_us, period_us);  // -1 (no limit) is not positive: 0
}

int64_t cgroup_cpu_limit(const std::string& proc_self_cgroup, const fs::path& cgroup_root) {
  std::istringstream lines(proc_self_cgroup);
  std::string line;
  int64_t limit = 0;
  auto take = [&limit](int64_t found) {
    if (found > 0 && (limit == 0 || found < limit)) limit = found;
  };
  while (std::getline(lines, line)) {
    // "hierarchy-id:controller,controller:/path"; cgroup v2 is "0::/path"
    const size_t first = line.find(':');
    const size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (line.compare(0, first, "0") == 0 && controllers.empty()) {
      take(smallest_limit_up_to(cgroup_root, path,
                                [](const fs::path& d) { return cpus_from_cpu_max(read_file(d / "cpu.max")); }));
      continue;
    }
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');) {
      if (name != "cpu") continue;
      for (const char* mount : {"cpu,cpuacct", "cpuacct,cpu", "cpu"}) {
        const fs::path base = cgroup_root / mount;
        if (!fs::is_directory(base)) continue;
        take(smallest_limit_up_to(base, path, [](const fs::path& d) {
          return cpus_from_cfs_quota(read_file(d / "cpu.cfs_quota_us"), read_file(d / "cpu.cfs_period_us"));
        }));
        break;
      }
    }
  }
  return limit;
}

int64_t available_cpus() {
  int64_t cpus = affinity_cpus();
  if (cpus <= 0) cpus = std::thread::hardware_concurrency();
  const int64_t quota = cgroup_cpu_limit(read_file("/proc/self/cgroup"), "/sys/fs/cgroup");
  if (quota > 0) cpus = cpus > 0 ? std::min(cpus, quota) : quota;
  return std::max<int64_t>(1, cpus);
}

}  // namespace therapeia
