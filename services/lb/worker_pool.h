#pragma once
// A fixed set of threads that runs a batch of bounded jobs (one probe or announcement per cluster)
// and waits for all of them, so one slow cluster costs its own timeout, not the sum of everyone's.
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cdb::lb {

class WorkerPool {
public:
    explicit WorkerPool(std::size_t threads);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // Runs every job (each must bound its own time) and returns when all are done.
    void run_all(std::vector<std::function<void()>> jobs);

private:
    void work();

    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::function<void()>> jobs_;
    std::size_t next_ = 0;
    std::size_t unfinished_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace cdb::lb
