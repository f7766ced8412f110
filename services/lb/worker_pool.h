#pragma once
// A fixed set of threads for bounded jobs towards clusters (probes, announcements), so one slow
// cluster costs its own timeout, not the sum of everyone's, and never the coordinator loop's: the
// loop waits for probes and announcements until a deadline, and what comes later arrives on its own.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cdb::lb {

class WorkerPool {
public:
    // At most `max_queued` jobs wait for a thread.
    WorkerPool(std::size_t threads, std::size_t max_queued);
    // Waits for the jobs that run; drops those that have not started.
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // Runs `job` (which must bound its own time) as soon as a thread is free; does not wait.
    // False, and the job dropped, when `max_queued` jobs wait already.
    bool submit(std::function<void()> job);

private:
    void work();

    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::function<void()>> queue_;
    bool stopping_ = false;
    const std::size_t max_queued_;
    std::vector<std::thread> threads_;
};

}  // namespace cdb::lb
