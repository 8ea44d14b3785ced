#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace therapeia {

// How many CPUs this process may use: the CPUs of its affinity mask (taskset, cpuset), capped by
// its cgroup's CPU quota rounded up (a container limited to 1.5 CPUs gets 2 threads), at least 1.
// std::thread::hardware_concurrency counts the machine's CPUs instead: in a container limited to
// 2 CPUs on a 64-core host it would start 64 threads that the quota then throttles.
int64_t available_cpus();

// The cgroup CPU quota of the process described by `proc_self_cgroup` (the contents of
// /proc/self/cgroup) under the cgroup file system mounted at `cgroup_root` (/sys/fs/cgroup):
// the smallest quota of its cgroup and every ancestor, in CPUs rounded up; 0 when there is none.
// cgroup v2 reads cpu.max; cgroup v1 reads cpu.cfs_quota_us and cpu.cfs_period_us of the cpu
// controller (mounted at cpu,cpuacct or cpu).
int64_t cgroup_cpu_limit(const std::string& proc_self_cgroup, const std::filesystem::path& cgroup_root);

// The contents of a cgroup v2 cpu.max file, "$QUOTA $PERIOD" or "max $PERIOD": the quota in CPUs
// rounded up, or 0 for no limit (and for contents that do not parse).
int64_t cpus_from_cpu_max(const std::string& contents);

// cgroup v1: cpu.cfs_quota_us (-1 = no limit) over cpu.cfs_period_us, rounded up; 0 for no limit.
int64_t cpus_from_cfs_quota(const std::string& quota_us, const std::string& period_us);

}  // namespace therapeia
