// The engine's default thread count: the CPUs the process may use (affinity mask and cgroup CPU
// quota), with the cgroup files parsed from made-up contents and folder trees.

#include <gtest/gtest.h>

#include <sched.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "therapeia/available_cpus.h"

namespace therapeia {
namespace {

namespace fs = std::filesystem;

TEST(AvailableCpus, CpuMaxContents) {
  EXPECT_EQ(cpus_from_cpu_max("max 100000\n"), 0) << "no limit";
  EXPECT_EQ(cpus_from_cpu_max("150000 100000\n"), 2) << "1.5 CPUs round up";
  EXPECT_EQ(cpus_from_cpu_max("50000 100000"), 1);
  EXPECT_EQ(cpus_from_cpu_max("200000 100000"), 2);
  EXPECT_EQ(cpus_from_cpu_max("1000 100000"), 1);
  EXPECT_EQ(cpus_from_cpu_max("400000 50000"), 8);
  for (const char* broken : {"", "max", "100000", "abc 100000", "150000 0", "-5 100000", "150000 100000 7",
                             "99999999999999999999999 100000"}) {
    EXPECT_EQ(cpus_from_cpu_max(broken), 0) << "'" << broken << "'";
  }
}

TEST(AvailableCpus, CfsQuotaContents) {
  EXPECT_EQ(cpus_from_cfs_quota("-1\n", "100000\n"), 0) << "no limit";
  EXPECT_EQ(cpus_from_cfs_quota("250000\n", "100000\n"), 3);
  EXPECT_EQ(cpus_from_cfs_quota("100000", "100000"), 1);
  EXPECT_EQ(cpus_from_cfs_quota("", ""), 0);
}

class CgroupTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() /
           ("therapeia-cgroup-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    fs::create_directories(root);
  }
  void TearDown() override { fs::remove_all(root); }

  void write(const fs::path& relative, const std::string& contents) {
    fs::create_directories((root / relative).parent_path());
    std::ofstream(root / relative) << contents;
  }

  fs::path root;
};

TEST_F(CgroupTree, V2TakesTheSmallestQuotaOnThePathToTheRoot) {
  write("cpu.max", "max 100000\n");
  write("kubepods/cpu.max", "400000 100000\n");
  write("kubepods/pod1/cpu.max", "150000 100000\n");
  write("kubepods/pod1/app/cpu.max", "max 100000\n");
  EXPECT_EQ(cgroup_cpu_limit("0::/kubepods/pod1/app\n", root), 2);
  EXPECT_EQ(cgroup_cpu_limit("0::/kubepods\n", root), 4);
  EXPECT_EQ(cgroup_cpu_limit("0::/\n", root), 0) << "no quota anywhere";
  // Inside a cgroup namespace the named path may not exist: the root is the process's own cgroup.
  write("cpu.max", "50000 100000\n");
  EXPECT_EQ(cgroup_cpu_limit("0::/../outside/path\n", root), 1);
}

TEST_F(CgroupTree, V1ReadsTheCpuControllersCfsQuota) {
  write("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "250000\n");
  write("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  write("cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
  write("cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  const std::string proc_self_cgroup =
      "12:memory:/docker/abc\n"
      "4:cpu,cpuacct:/docker/abc\n"
      "1:name=systemd:/docker/abc\n";
  EXPECT_EQ(cgroup_cpu_limit(proc_self_cgroup, root), 3);
  EXPECT_EQ(cgroup_cpu_limit("4:cpu,cpuacct:/\n", root), 0);
  EXPECT_EQ(cgroup_cpu_limit("garbage\n\n::\n", root), 0);
}

TEST(AvailableCpus, NoMoreThanTheAffinityMaskAndAtLeastOne) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  const int64_t cpus = available_cpus();
  EXPECT_GE(cpus, 1);
  EXPECT_LE(cpus, CPU_COUNT(&set));
}

}  // namespace
}  // namespace therapeia
