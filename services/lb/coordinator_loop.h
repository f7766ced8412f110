#pragma once
// The thread that owns the election coordinator (a pure state machine): it feeds it membership,
// probe results, slaves' reports and time, performs the decisions (REPLICAOF, announcements), and
// publishes what forwarding threads and /lb/status read. The only thread that touches the coordinator.
// It decides nothing itself: scaling, elections and forwarding health are the coordinator's.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <variant>

#include "cdb/cluster_addresses.h"
#include "cdb/config.h"
#include "cdb/control_key.h"
#include "cdb/coordination/coordinator.h"
#include "cdb/coordination/timings.h"
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
    enum class ProbePart { slave, redis };
    using ProbeAnswer = std::variant<coordination::SlaveProbe, coordination::RedisProbe>;

    void run();
    // When the loop must act next without being woken: a probe due, the leader's Redis silent for
    // an interval, the leases' end, the next tick.
    Millis next_wake() const;
    // Feeds the probe answers that came, and the leader's Redis probe that has been unanswered
    // for another interval as failed.
    void take_probe_answers(Millis now);
    // Sends each member's slave and Redis probe that is due and not in flight.
    void send_due_probes(Millis now);
    void record_probe(int index, ProbePart part, ProbeAnswer answer);
    void refresh_membership(Millis now);
    void handle(const Report& report, Millis now);
    void perform(const coordination::Decisions& decisions, Millis now);
    // What an announcement told the slaves, numbered in the order they were sent.
    struct Told {
        std::uint64_t sequence = 0;
        coordination::LeaderState state;
        int followers = 0;
    };
    struct Delivery {
        Told told;
        std::atomic<std::size_t> left{0};  // sends not yet ended, answered or not
    };
    void announce(const coordination::Announcement& announcement, Millis now);
    void delivered(Delivery& delivery);
    void publish(Millis now);  // the routing view and the snapshot
    std::optional<SocketAddress> slave_address(int index) const;
    Millis now() const;

    const coordination::ElectionTimings timings_;
    const ClusterAddresses& addresses_;
    RoutingBoard& board_;
    ReportQueue& reports_;
    Metrics& metrics_;
    const ControlKey& key_;
    coordination::Coordinator coordinator_;
    ClusterProber prober_;
    NameResolver resolver_;

    // Per cluster, one slave probe and one Redis probe in flight at a time, each sent one probe
    // interval after the last (docs/ELECTION.md, "Probes"). Nothing waits for a probe: its answer
    // wakes the loop, which feeds it at once, so a frozen cluster holds back no one else's answer,
    // nor the leases that ride on them. Only the leader's Redis is watched for silence: each
    // interval its probe stays unanswered counts as a failed one (how a frozen leader is detected).
    // A late answer counts too (a slow cluster that does answer resets its failures). A follower
    // whose probe is late keeps what its last answer said until the late one comes: counting it
    // down would hide its Redis's offset from the election, which could then pick a follower that
    // lacks acknowledged writes.
    struct ProbeSlot {
        bool in_flight = false;
        Millis sent_at = 0;
        Millis silent_until = 0;  // in flight: when another interval of silence is over
        std::optional<ProbeAnswer> answer;
    };
    mutable std::mutex probes_mutex_;
    std::map<std::pair<int, ProbePart>, ProbeSlot> probes_;
    std::uint64_t announcements_ = 0;
    std::mutex told_mutex_;
    Told told_;  // the newest announcement whose every send has ended
    WorkerPool workers_;  // after the slots and `told_`: its jobs write to them until it is destroyed
    const std::chrono::steady_clock::time_point epoch_;
    Millis next_tick_ = 0;

    std::atomic<int> requested_size_{0};  // 0: none since the loop last looked
    std::map<int, SocketAddress> slave_addresses_;  // resolved at each membership refresh
    Millis membership_refreshed_at_ = -1;

    mutable std::mutex snapshot_mutex_;
    std::shared_ptr<const CoordinatorSnapshot> snapshot_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace cdb::lb
