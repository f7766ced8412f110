#include "forward_rules.h"

#include <gtest/gtest.h>

#include "cdb/protocol.h"

namespace cdb::lb {
namespace {

constexpr int slave = 2;
constexpr std::int64_t term = 7;
const ControlKey key("control-plane-key-of-the-tests-0001");

UpstreamOutcome failed(UpstreamFailure failure) {
    UpstreamOutcome outcome;
    outcome.failure = failure;
    outcome.problem = "what happened";
    return outcome;
}

UpstreamOutcome answered(int status, std::vector<std::pair<std::string, std::string>> headers, std::string body) {
    UpstreamOutcome outcome;
    outcome.response = UpstreamResponse{status, std::move(headers), std::move(body), true};
    return outcome;
}

TEST(ForwardRules, ARequestThatNeverArrivedGoesElsewhereWhateverItsMethod) {
    for (auto failure : {UpstreamFailure::no_connection, UpstreamFailure::connect_timeout, UpstreamFailure::send_failed}) {
        for (bool idempotent : {true, false}) {
            const AttemptVerdict verdict = judge_attempt(key, slave, term, idempotent, failed(failure));
            EXPECT_FALSE(verdict.answer) << "failure " << static_cast<int>(failure);
            ASSERT_TRUE(verdict.report);
            EXPECT_EQ(std::get<ForwardFailure>(*verdict.report).index, slave);
            EXPECT_EQ(verdict.problem, "slave-2: what happened");
        }
    }
}

// The read try deadline steers reads away from a slow slave (the OutlierGuard); ejecting it from
// forwarding is for slaves that fail, not for slow ones: under CPU load every slave is slow, and
// three late reads each ejected all of them ("no cluster is ready" for every client).
TEST(ForwardRules, AReadPastItsTryDeadlineGoesElsewhereWithoutEjectingItsSlave) {
    const AttemptVerdict verdict = judge_attempt(key, slave, term, true, failed(UpstreamFailure::timed_out));
    EXPECT_FALSE(verdict.answer);
    EXPECT_FALSE(verdict.report);
    EXPECT_STREQ(verdict.outcome, "timed_out");
}

TEST(ForwardRules, AnUnansweredReadGoesElsewhereAnUnansweredWriteIsReported504OutcomeUnknown) {
    EXPECT_FALSE(judge_attempt(key, slave, term, true, failed(UpstreamFailure::no_answer)).answer);
    const AttemptVerdict write = judge_attempt(key, slave, term, false, failed(UpstreamFailure::no_answer));
    ASSERT_TRUE(write.answer);
    EXPECT_EQ(write.answer->status, 504);
    EXPECT_NE(write.answer->body.find(R"("outcome":"unknown")"), std::string::npos) << write.answer->body;
    EXPECT_NE(write.answer->body.find("may or may not have been applied"), std::string::npos);
    ASSERT_TRUE(write.report);
    const AttemptVerdict garbled = judge_attempt(key, slave, term, false, failed(UpstreamFailure::bad_answer));
    ASSERT_TRUE(garbled.answer);
    EXPECT_EQ(garbled.answer->status, 504);
}

TEST(ForwardRules, TheLbsOwnRefusalSaysNothingAboutTheSlave) {
    const AttemptVerdict verdict = judge_attempt(key, slave, term, false, failed(UpstreamFailure::overloaded));
    EXPECT_FALSE(verdict.answer);
    EXPECT_FALSE(verdict.report);
}

TEST(ForwardRules, AStoppingSlaveIsLeftForTheNextOneAndReportedAsStopping) {
    const AttemptVerdict verdict =
        judge_attempt(key, slave, term, false, answered(503, {{"X-Retry-Elsewhere", "stopping"}}, R"({"error":"stopping"})"));
    EXPECT_FALSE(verdict.answer);
    ASSERT_TRUE(verdict.report);
    EXPECT_EQ(std::get<SlaveStopping>(*verdict.report).index, slave);
    EXPECT_STREQ(verdict.outcome, "stopping");
    EXPECT_TRUE(verdict.untouched);
}

// Issue 20: a slave whose own probe was late (its Redis frozen) held no lease, and its refusals
// reached the clients although another slave could serve them.
TEST(ForwardRules, ASlaveWithoutALeaseIsLeftForTheNextOneWhateverTheMethodAndNotReported) {
    for (bool idempotent : {true, false}) {
        const AttemptVerdict verdict = judge_attempt(
            key, slave, term, idempotent,
            answered(503, {{"X-Retry-Elsewhere", "no-lease"}}, R"({"error":"no lease: nothing was sent"})"));
        EXPECT_FALSE(verdict.answer);
        EXPECT_FALSE(verdict.report);
        EXPECT_STREQ(verdict.outcome, "no_lease");
        EXPECT_EQ(verdict.problem, "slave-2 holds no lease on the leader");
        EXPECT_TRUE(verdict.untouched);  // the request may wait for new grants
    }
}

TEST(ForwardRules, ASlaveOnANewerTermIsLeftForTheNextOneAndItsTermReported) {
    const AttemptVerdict verdict = judge_attempt(
        key, slave, term, false,
        answered(409, {{"x-retry-elsewhere", "stale-term"}},
                 R"({"error":"x","term":9,"leader":1,"proof":")" + protocol::leader_grant_proof(key, 9, 1) + R"("})"));
    EXPECT_FALSE(verdict.answer);
    ASSERT_TRUE(verdict.report);
    const auto& report = std::get<SlaveStateReport>(*verdict.report);
    EXPECT_EQ(report.state.term, 9);
    EXPECT_EQ(report.state.leader, 1);
    EXPECT_STREQ(verdict.outcome, "stale_term");
}

// A forged or replayed refusal must not teach the LB a term (docs/PROTOCOL.md): without the proof, or
// with the proof of another (term, leader), the slave is only left for the next one.
TEST(ForwardRules, ATermWithoutTheLbsProofIsNotLearnt) {
    const std::string forgeries[] = {
        R"({"error":"x","term":9,"leader":1})",
        R"({"error":"x","term":9,"leader":1,"proof":")" + protocol::leader_grant_proof(key, 9, 2) + R"("})",
        R"({"error":"x","term":9,"leader":1,"proof":")" + ControlKey("another-key-of-the-tests-00000001").prove("x") +
            R"("})",
        // Even proven, a term past protocol::max_term is refused: `term + 1` must never overflow.
        R"({"error":"x","term":9007199254740993,"leader":1,"proof":")" +
            protocol::leader_grant_proof(key, 9007199254740993, 1) + R"("})",
    };
    for (const std::string& body : forgeries) {
        const AttemptVerdict verdict =
            judge_attempt(key, slave, term, false, answered(409, {{"X-Retry-Elsewhere", "stale-term"}}, body));
        EXPECT_FALSE(verdict.answer) << body;
        ASSERT_TRUE(verdict.report) << body;
        EXPECT_EQ(std::get<ForwardFailure>(*verdict.report).index, slave) << body;
    }
}

TEST(ForwardRules, AnAnswerPassesToTheClientWithItsHeaders) {
    const AttemptVerdict verdict = judge_attempt(
        key, slave, term, false,
        answered(200, {{"Content-Type", "application/json"}, {"X-Replication", "degraded"}, {"Server", "slave"}},
                 R"({"key":"a"})"));
    ASSERT_TRUE(verdict.answer);
    EXPECT_EQ(verdict.answer->status, 200);
    EXPECT_EQ(verdict.answer->body, R"({"key":"a"})");
    EXPECT_EQ(verdict.answer->header("X-Replication"), "degraded");
    EXPECT_FALSE(verdict.answer->header("Server"));
    EXPECT_FALSE(verdict.report);
    // A 409 without X-Retry-Elsewhere (a key holding another type) is the client's answer.
    EXPECT_EQ(judge_attempt(key, slave, term, false, answered(409, {}, "{}")).answer->status, 409);
}

TEST(ForwardRules, ALeaderFailureIsAnsweredAndReportedWithTheTerm) {
    const AttemptVerdict verdict =
        judge_attempt(key, slave, term, false, answered(503, {{"X-Leader-Failure", "7"}, {"Retry-After", "1"}}, "{}"));
    ASSERT_TRUE(verdict.answer);
    EXPECT_EQ(verdict.answer->status, 503);
    EXPECT_EQ(verdict.answer->header("Retry-After"), "1");
    ASSERT_TRUE(verdict.report);
    const auto& report = std::get<coordination::LeaderFailureReport>(*verdict.report);
    EXPECT_EQ(report.from, slave);
    EXPECT_EQ(report.term, term);
}

TEST(ForwardRules, AWriteTheLeaderNeverAnsweredGoesToTheClientAsUnknownAndCountsAsAFailure) {
    const std::string body = R"({"error":"timeout","outcome":"unknown"})";
    const AttemptVerdict verdict = judge_attempt(key, slave, term, false, answered(504, {{"X-Leader-Failure", "7"}}, body));
    ASSERT_TRUE(verdict.answer);  // never repeated on another slave: it may have been applied
    EXPECT_EQ(verdict.answer->status, 504);
    EXPECT_EQ(verdict.answer->body, body);
    ASSERT_TRUE(verdict.report);
    EXPECT_EQ(std::get<coordination::LeaderFailureReport>(*verdict.report).term, term);
}

}  // namespace
}  // namespace cdb::lb
