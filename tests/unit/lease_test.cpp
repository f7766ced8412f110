// The slave's lease rules (services/slave/lease.h), with times given by the test.
#include "lease.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cdb::slave {
namespace {

using namespace std::chrono_literals;
using Time = Lease::Time;

const AnnouncedLeader following{3, 1, 0};

protocol::LeaseGrant grant_on(std::uint64_t nonce, std::int64_t duration_ms = 700) {
    return protocol::LeaseGrant{following.term, following.leader, nonce, duration_ms};
}

TEST(Lease, RunsFromWhenTheNonceWasSentNotWhenTheGrantCame) {
    Lease lease(42);
    const Time sent = Time(10s);
    const std::uint64_t nonce = lease.issue_nonce(sent);
    EXPECT_FALSE(lease.holds(following, sent));
    // However late the grant arrives, the lease ends 700 ms after the nonce left.
    EXPECT_EQ(lease.renew(grant_on(nonce), following), GrantOutcome::renewed);
    EXPECT_TRUE(lease.holds(following, sent + 699ms));
    EXPECT_FALSE(lease.holds(following, sent + 700ms));
    EXPECT_EQ(lease.remaining(following, sent + 500ms), 200ms);
}

TEST(Lease, HoldsOnlyForTheLeaderItWasGrantedOn) {
    Lease lease(42);
    const Time sent = Time(10s);
    const std::uint64_t nonce = lease.issue_nonce(sent);
    EXPECT_EQ(lease.renew(protocol::LeaseGrant{3, 2, nonce, 700}, following), GrantOutcome::other_leader);
    EXPECT_EQ(lease.renew(protocol::LeaseGrant{4, 1, nonce, 700}, following), GrantOutcome::other_leader);
    ASSERT_EQ(lease.renew(grant_on(nonce), following), GrantOutcome::renewed);
    EXPECT_FALSE(lease.holds(AnnouncedLeader{4, 1, 0}, sent + 1ms));
    EXPECT_FALSE(lease.holds(AnnouncedLeader{3, 2, 0}, sent + 1ms));
}

TEST(Lease, AnOlderGrantNeverShortensIt) {
    Lease lease(42);
    const std::uint64_t early = lease.issue_nonce(Time(10s));
    const std::uint64_t late = lease.issue_nonce(Time(10s) + 200ms);
    ASSERT_EQ(lease.renew(grant_on(late), following), GrantOutcome::renewed);
    ASSERT_EQ(lease.renew(grant_on(early), following), GrantOutcome::renewed);  // delivered out of order
    EXPECT_TRUE(lease.holds(following, Time(10s) + 850ms));
}

TEST(Lease, RefusesNoncesItNeverSentOrNoLongerKeeps) {
    Lease lease(42);
    const std::uint64_t first = lease.issue_nonce(Time(10s));
    EXPECT_EQ(lease.renew(grant_on(first + 1000), following), GrantOutcome::unknown_nonce);
    EXPECT_EQ(lease.renew(grant_on(0), following), GrantOutcome::unknown_nonce);
    for (int i = 1; i <= 16; ++i) lease.issue_nonce(Time(10s) + i * 30ms);
    EXPECT_EQ(lease.renew(grant_on(first), following), GrantOutcome::unknown_nonce);  // 16 newer ones since
    Lease restarted(43);  // another run of the slave: its nonces are not the old run's
    EXPECT_EQ(restarted.renew(grant_on(first), following), GrantOutcome::unknown_nonce);
}

// Whoever else polls /status cannot push the LB's nonce out: within 25 ms the same nonce is reused,
// so the last 16 kept cover 400 ms however many answers were sent.
TEST(Lease, ManyStatusAnswersKeepTheLbsNonceKnown) {
    Lease lease(42);
    const Time start = Time(10s);
    const std::uint64_t lbs = lease.issue_nonce(start);
    for (int i = 1; i < 10000; ++i) lease.issue_nonce(start + i * 39us);  // 10 000 answers in 390 ms
    EXPECT_EQ(lease.renew(grant_on(lbs), following), GrantOutcome::renewed);
    EXPECT_TRUE(lease.holds(following, start + 600ms));
}

}  // namespace
}  // namespace cdb::slave

namespace cdb::protocol {
namespace {

TEST(LeaseGrantHeader, RoundTripsWithTheLbsProofOnly) {
    const ControlKey key("the-deployments-control-plane-key-0001");
    const LeaseGrant grant{7, 2, 123456789, 700};
    const auto verdict = decode_lease_grant(key, encode_lease_grant(key, grant));
    ASSERT_TRUE(verdict.grant) << verdict.problem;
    EXPECT_EQ(verdict.grant->term, 7);
    EXPECT_EQ(verdict.grant->leader, 2);
    EXPECT_EQ(verdict.grant->nonce, 123456789u);
    EXPECT_EQ(verdict.grant->duration_ms, 700);

    const ControlKey stranger("a-key-that-is-not-the-deployments-01");
    const auto forged = decode_lease_grant(key, encode_lease_grant(stranger, grant));
    EXPECT_FALSE(forged.grant);
    EXPECT_TRUE(forged.unproven);
    // A proof covers every field: the same proof with a longer lease is refused.
    std::string stretched = encode_lease_grant(key, grant);
    stretched.replace(stretched.find(" 700 "), 5, " 9000 ");
    EXPECT_TRUE(decode_lease_grant(key, stretched).unproven);
}

TEST(LeaseGrantHeader, RefusesMalformedOnes) {
    const ControlKey key("the-deployments-control-plane-key-0001");
    const std::string proof(64, 'a');
    for (const std::string& header : std::vector<std::string>{
             "", "7 2 1 700", "0 2 1 700 " + proof, "7 256 1 700 " + proof, "7 2 0 700 " + proof,
          "7 2 1 0 " + proof, "7 2 1 60001 " + proof, "7 2 9007199254740992 700 " + proof,
          "-7 2 1 700 " + proof, "7 2 1 700 " + proof + " extra", "7  2 1 700 " + proof}) {
        const auto verdict = decode_lease_grant(key, header);
        EXPECT_FALSE(verdict.grant) << header;
        EXPECT_FALSE(verdict.unproven) << header;
        EXPECT_FALSE(verdict.problem.empty()) << header;
    }
}

}  // namespace
}  // namespace cdb::protocol
