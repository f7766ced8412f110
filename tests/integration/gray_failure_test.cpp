// Gray failures: a process that does not die but stops running for a while (SIGSTOP here; a GC
// pause, CPU throttling under a pod's limit, a slow node in production). A stop of any one process
// that is not the leader's Redis must cost no request: the LB's view of the others, and the leases
// that let their slaves serve, must not wait for the frozen one (issue 20).
#include <gtest/gtest.h>

#include <csignal>
#include <iostream>

#include "local_system.h"
#include "read_load.h"

namespace cdb::test {
namespace {

// The default timing (probe interval, lease, timeouts): what users run.
const std::map<std::string, std::string> default_timing_env{{"LIMITS_MAX_VALUE_BYTES", "1024"}};

constexpr int readers = 32;
// Long enough for several lease periods and probe rounds to pass while the process is frozen.
constexpr auto frozen_for = std::chrono::seconds(4);
// The requests in flight to a process when it freezes may take their try deadline and a second try.
constexpr auto fault_onset = std::chrono::milliseconds(250);

// Reads refused out of 100 that a test tolerates. Alone on this 2-core machine every row refuses
// none (the bench's gray section measures it); under a load average of 10 (three builds beside
// make test) a stall of a process past the lease's 300 ms margin refused 1.5 %. The faults these
// tests hold off refused 13 to 41 %.
constexpr int tolerated_failure_percent = 5;

class GrayFailureTest : public ::testing::Test {
protected:
    void start(std::map<std::string, std::string> env = default_timing_env) {
        system_ = std::make_unique<LocalSystem>(3, std::move(env));
        ASSERT_TRUE(system_->wait_ready(3)) << system_->logs();
        ASSERT_TRUE(wait_until([&] {
            auto status = system_->status();
            return status.HasMember("followers") && status["followers"].GetInt() == 2;
        }, 5000ms)) << system_->logs();
        ASSERT_TRUE(system_->set("gray", "v"));
    }
    int follower() const { return system_->leader() == 2 ? 1 : 2; }

    // 32 keep-alive readers; `freeze` stops a process, `thaw` resumes it `frozen_for` later.
    void read_through(const std::function<void()>& freeze, const std::function<void()>& thaw) {
        ReadLoad load(*system_, readers, "gray");
        std::this_thread::sleep_for(300ms);  // traffic before the freeze: connections to every slave
        freeze();
        std::this_thread::sleep_for(fault_onset);
        load.restart_slowest();
        std::this_thread::sleep_for(frozen_for - fault_onset);
        thaw();
        std::this_thread::sleep_for(300ms);
        load.stop();
        std::cout << load.summary() << "\n";
        reads_ = load.reads();
        failures_ = load.failures();
        slowest_ms_ = load.slowest_ms();
        summary_ = load.summary();
    }

    std::unique_ptr<LocalSystem> system_;
    // Fewer failed reads than the tolerance.
    bool few_failures() const { return failures_ * 100 < reads_ * tolerated_failure_percent; }

    int reads_ = 0;
    int failures_ = 0;
    long long slowest_ms_ = 0;
    std::string summary_;
};

// Issue 20: SIGSTOP of the leader cluster's slave (its Redis healthy) for 8 s answered 41 % of all
// reads 503 "no lease". The LB's probe of that cluster waited for the frozen slave before it asked
// the Redis, so the leader's Redis looked silent: every lease stopped being renewed.
TEST_F(GrayFailureTest, AFrozenLeaderClusterSlaveFailsNoRead) {
    ASSERT_NO_FATAL_FAILURE(start());
    const int leader = system_->leader();
    const long long term = system_->term();
    read_through([&] { system_->slave(leader).signal(SIGSTOP); }, [&] { system_->slave(leader).signal(SIGCONT); });
    EXPECT_TRUE(few_failures()) << summary_ << "\n" << system_->logs();
    // The leader's Redis never stopped: nothing to elect.
    EXPECT_EQ(system_->term(), term) << system_->logs();
    // A second try after the try deadline; the bound leaves room for a loaded 2-core machine.
    EXPECT_LT(slowest_ms_, 1000) << summary_;
}

// Issue 20: SIGSTOP of a follower's Redis for 8 s failed 1 521 of 21 403 reads: its probe held the
// LB's probe round, and the renewal of every lease with it.
TEST_F(GrayFailureTest, AFrozenFollowerRedisFailsNoRead) {
    ASSERT_NO_FATAL_FAILURE(start());
    const int frozen = follower();
    read_through([&] { system_->redis(frozen).pause(); }, [&] { system_->redis(frozen).resume(); });
    EXPECT_TRUE(few_failures()) << summary_ << "\n" << system_->logs();
    EXPECT_LT(slowest_ms_, 1000) << summary_;
}

// Issue 14: with one slave frozen, every read in flight to it used to wait the whole upstream
// timeout (2 s). Reads now have a try deadline, go to another slave after it, and the frozen slave
// gets no new request until it answers again.
TEST_F(GrayFailureTest, AFrozenFollowerSlaveDelaysNoReadByMoreThanItsTryDeadline) {
    auto env = default_timing_env;
    env["HTTP_UPSTREAM_TIMEOUT_MS"] = "2000";
    env["HTTP_UPSTREAM_TRY_TIMEOUT_MS"] = "150";
    ASSERT_NO_FATAL_FAILURE(start(env));
    const int frozen = follower();
    read_through([&] { system_->slave(frozen).signal(SIGSTOP); }, [&] { system_->slave(frozen).signal(SIGCONT); });
    EXPECT_EQ(failures_, 0) << summary_ << "\n" << system_->logs();  // as strict as before the move
    // 150 ms and a second try, far below the 2 s every read in flight waited before.
    EXPECT_LT(slowest_ms_, 1000) << summary_;
}

}  // namespace
}  // namespace cdb::test
