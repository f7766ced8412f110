#pragma once
// What request threads learn about slaves (failures, newer terms), on its way to the coordinator
// loop. Bounded: when the loop is behind, further reports are dropped and counted; one report more
// or less does not change a decision that the loop's own probes also reach.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <variant>
#include <vector>

#include "cdb/coordination/events.h"

namespace cdb::lb {

struct ForwardFailure {
    int index;
};
struct SlaveStopping {
    int index;
};
struct SlaveStateReport {
    int index;
    coordination::LeaderState state;
};
// A proven, fresh leave request (docs/PROTOCOL.md §10). One dropped when the queue is full costs
// nothing: the slave asks again until the LB answers that its cluster has handed over.
struct ClusterLeaving {
    int index;
};
using Report = std::variant<coordination::LeaderFailureReport, ForwardFailure, SlaveStopping, SlaveStateReport,
                            ClusterLeaving>;

class ReportQueue {
public:
    explicit ReportQueue(std::size_t capacity) : capacity_(capacity) {}

    void push(Report report) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (reports_.size() >= capacity_) {
                ++dropped_;
                return;
            }
            reports_.push_back(std::move(report));
        }
        arrived_.notify_one();
    }

    // Waits until a report arrives, `wake()` is called, or `deadline`; returns what is queued.
    std::vector<Report> take_until(std::chrono::steady_clock::time_point deadline) {
        std::unique_lock<std::mutex> lock(mutex_);
        arrived_.wait_until(lock, deadline, [&] { return !reports_.empty() || woken_; });
        woken_ = false;
        std::vector<Report> taken(std::make_move_iterator(reports_.begin()), std::make_move_iterator(reports_.end()));
        reports_.clear();
        return taken;
    }

    void wake() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            woken_ = true;
        }
        arrived_.notify_one();
    }

    std::uint64_t dropped() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return dropped_;
    }

private:
    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::condition_variable arrived_;
    std::deque<Report> reports_;
    bool woken_ = false;
    std::uint64_t dropped_ = 0;
};

}  // namespace cdb::lb
