#pragma once
// Every duration the LB derives from the probe interval P (election.probe_interval_ms), in one
// place, each with why it is what it is (docs/ELECTION.md, "Timings"). The configuration schema
// takes P's range from here, so that no P it accepts makes a timing the coordinator refuses.
#include "cdb/coordination/events.h"

namespace cdb::coordination {

// What a lease has beyond one probe interval: room for the slave's next probe to be answered and
// its grant to reach it, late (a busy 2-core machine delayed probes by over 200 ms, and every
// request then got 503).
inline constexpr Millis lease_margin_ms = 300;
// The longest lease the coordinator takes (Config::lease_ms): a lease holds the next election back.
inline constexpr Millis max_lease_ms = 60000;
inline constexpr Millis max_probe_interval_ms = max_lease_ms - lease_margin_ms;

struct ElectionTimings {
    // P: each cluster's slave and its Redis are probed once per P; each P the leader's Redis probe
    // stays unanswered counts as one failure.
    Millis probe_period = 0;
    // How long a slave's /status answer may take and still count: 2P, at least 300 ms (a loaded
    // slave must still get its answer in: at 100 ms a busy 2-core machine kept a healthy slave out
    // of forwarding for good), at most the LB's bound on any call to a slave.
    Millis slave_probe_timeout = 0;
    // A slave's lease on the leader, from its nonce: P, since every slave probe brings a fresh
    // nonce, plus the margin. Any longer would only hold the next election back.
    Millis lease = 0;
    // After an LB start, how long it waits for every cluster's first probe before it settles the
    // leader from the slaves that did answer: 3P, at least 1 s (a slow cluster's first answer).
    Millis recovery_window = 0;
    // How long one lookup of the clusters' names may take: P, at least 200 ms (a slow DNS under
    // load); a name unanswered by then keeps its member where it was.
    Millis name_lookup_timeout = 0;
    // After a cluster's first leave request, how long the coordinator waits for others before it
    // moves the leader: clusters stopped together (a scale-down, a node drain) send theirs within
    // milliseconds of each other. 2P, at most the longest lease: still shorter than the lease wait
    // the move does anyway, so with the defaults it costs nothing.
    Millis leave_gathering = 0;
    // How long the LB holds a request that every slave refused for lack of a lease (nothing sent)
    // before it answers 503: the gap of a leader move, from the old leases' end to the new term's
    // first grants, is far shorter; lease + P bounds it with a probe interval to spare.
    Millis lease_gap_hold = 0;
};

// `upstream_timeout_ms`: http.upstream_timeout_ms, the LB's bound on any call to a slave.
ElectionTimings election_timings(Millis probe_interval_ms, Millis upstream_timeout_ms);

}  // namespace cdb::coordination
