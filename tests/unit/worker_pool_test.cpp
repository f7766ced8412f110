// The LB's worker pool keeps at most its cap of jobs waiting.
#include "worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <future>

namespace cdb::lb {
namespace {

TEST(WorkerPool, RefusesJobsPastItsCapAndRunsTheRest) {
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::promise<void> started;
    std::atomic<int> ran{0};
    {
        WorkerPool pool(1, 2);
        ASSERT_TRUE(pool.submit([&, released] {
            started.set_value();
            released.wait();
            ++ran;
        }));
        started.get_future().wait();  // the one thread is busy: what follows waits in the queue
        EXPECT_TRUE(pool.submit([&] { ++ran; }));
        EXPECT_TRUE(pool.submit([&] { ++ran; }));
        EXPECT_FALSE(pool.submit([&] { ++ran; }));
        release.set_value();
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (ran < 3 && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
    }
    EXPECT_EQ(ran, 3);
}

}  // namespace
}  // namespace cdb::lb
