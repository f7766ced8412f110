#include "slave_state.h"

#include "cdb/protocol.h"

namespace cdb::lb {

SlaveStateReading read_slave_state(const ControlKey& key, const std::string& body) {
    const protocol::ReportVerdict verdict = protocol::decode_reported_leader(key, body);
    SlaveStateReading reading;
    reading.unproven = verdict.unproven;
    reading.lease_nonce = verdict.lease_nonce;
    if (verdict.state) reading.state = coordination::LeaderState{verdict.state->term, verdict.state->leader};
    return reading;
}

}  // namespace cdb::lb
