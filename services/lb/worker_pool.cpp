#include "worker_pool.h"

namespace cdb::lb {

WorkerPool::WorkerPool(std::size_t threads) {
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    for (auto& thread : threads_) thread.join();
}

void WorkerPool::run_all(std::vector<std::function<void()>> jobs) {
    std::unique_lock<std::mutex> lock(mutex_);
    jobs_ = std::move(jobs);
    next_ = 0;
    unfinished_ = jobs_.size();
    changed_.notify_all();
    changed_.wait(lock, [&] { return unfinished_ == 0; });
    jobs_.clear();
}

void WorkerPool::work() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
        changed_.wait(lock, [&] { return stopping_ || next_ < jobs_.size(); });
        if (stopping_) return;
        auto& job = jobs_[next_++];
        lock.unlock();
        job();
        lock.lock();
        if (--unfinished_ == 0) changed_.notify_all();
    }
}

}  // namespace cdb::lb
