#pragma once
// The thread that owns the election coordinator (a pure state machine): it feeds it membership,
// probe results, slaves' reports and time, performs the decisions (REPLICAOF, announcements), and
// publishes what forwarding threads and /lb/status read. The only thread that touches the coordinator.
// It decides nothing itself: scaling, elections and forwarding health are the coordinator's.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cdb/cluster_addresses.h"
#include "cdb/config.h"
#include "cdb/control_key.h"
#include "cdb/coordination/coordinator.h"
#include "cdb/metrics.h"
#include "cluster_prober.h"
#include "name_resolver.h"
#include "report_queue.h"
#include "routing_board.h"
#include "worker_pool.h"

namespace cdb::lb {

// What /lb/status shows (rendered by the API, lb_api.cpp): the coordinator's status as of a moment.
struct CoordinatorSnapshot {
    coordination::Status status;
    coordination::Millis taken_at = 0;  // on the coordinator's clock, which the status's times use
};

class CoordinatorLoop {
public:
    CoordinatorLoop(const DeploymentConfig& config, const ClusterAddresses& addresses, RoutingBoard& board,
                    ReportQueue& reports, Metrics& metrics, const ControlKey& key);
    ~CoordinatorLoop();

    void start();
    void stop();

    // As of the last event the loop handled.
    std::shared_ptr<const CoordinatorSnapshot> snapshot() const;
    // Rescale: clusters at or above `size` first lose the leadership, then leave (docs/DEPLOY.md#scaling).
    void request_size(int size);
    // Cluster `index`'s slave is stopping and asked to leave (proven and fresh: LbApi checked).
    void request_leave(int index) { reports_.push(ClusterLeaving{index}); }

private:
    using Millis = coordination::Millis;
    void run();
    void round(Millis now);
    // Sends a probe to every member that has none in flight, and returns, by the round's deadline,
    // each member's answer, or a failed probe for one that has not answered yet.
    std::vector<std::pair<coordination::ClusterProbe, Millis>> probe_members(
        const std::map<int, coordination::ClusterState>& members);
    void record_probe(coordination::ClusterProbe probe);
    void refresh_membership(Millis now);
    void handle(const Report& report, Millis now);
    void perform(const coordination::Decisions& decisions, Millis now);
    void publish(Millis now);  // the routing view and the snapshot
    std::optional<SocketAddress> slave_address(int index) const;
    Millis now() const;

    const DeploymentConfig config_;
    const ClusterAddresses& addresses_;
    RoutingBoard& board_;
    ReportQueue& reports_;
    Metrics& metrics_;
    const ControlKey& key_;
    coordination::Coordinator coordinator_;
    ClusterProber prober_;
    NameResolver resolver_;

    // One probe per cluster at a time. A round does not wait for a frozen cluster: at its deadline
    // the probe counts as failed, and its answer, when it comes, counts too (a slow cluster that
    // does answer resets its failures).
    struct ProbeSlot {
        bool in_flight = false;
        Millis sent_at = 0;
        std::optional<coordination::ClusterProbe> answer;
    };
    std::mutex probes_mutex_;
    std::condition_variable probe_answered_;
    std::map<int, ProbeSlot> probes_;
    WorkerPool workers_;  // after the slots: its jobs write to them until it is destroyed
    const std::chrono::steady_clock::time_point epoch_;

    std::atomic<int> requested_size_{0};  // 0: none since the loop last looked
    std::map<int, SocketAddress> slave_addresses_;  // resolved at each membership refresh
    Millis membership_refreshed_at_ = -1;

    mutable std::mutex snapshot_mutex_;
    std::shared_ptr<const CoordinatorSnapshot> snapshot_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace cdb::lb
