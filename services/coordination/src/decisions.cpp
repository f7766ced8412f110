#include "cdb/coordination/decisions.h"

namespace cdb::coordination {

const char* to_string(ElectionReason reason) {
    switch (reason) {
        case ElectionReason::initial: return "initial";
        case ElectionReason::leader_failed: return "leader-failed";
        case ElectionReason::leader_lost_data: return "leader-lost-data";
        case ElectionReason::leader_drained: return "leader-drained";
        case ElectionReason::leader_removed: return "leader-removed";
    }
    return "?";
}

}  // namespace cdb::coordination
