// The verifier (verifier.hpp): every rule of verify() (V1-V7 in agent/verify/verifier.cpp), the
// reached() tables, the names, and summarize().
#include "npv/verifier.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "support/manifest_builder.hpp"
#include "support/web_db_cluster.hpp"

namespace npv {
namespace {

using FK = FindingKind;
using Findings = std::vector<FindingKind>;

// prod/db accepts 5432/TCP and 53/UDP from prod/web only (db-in); prod/web and other/x are not
// isolated.
const std::string kCluster = std::string(test::kWebDbPods) + test::kDbInPolicy;

class Verifier : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = test::load_yaml(kCluster);
    ASSERT_TRUE(c) << c.error().message;
    cluster_ = std::move(*c);
    engine_ = std::make_unique<PolicyEngine>(cluster_);
  }

  Endpoint pod(std::string_view ref) const {
    auto id = cluster_.find_pod(ref);
    EXPECT_TRUE(id) << ref;
    return id ? Endpoint::of_pod(*id) : Endpoint{};
  }

  // A verified record: `observed` nullopt means the observer reported no flow.
  ProbeRecord probe(std::string_view src, std::string_view dst, std::string_view port, ProbeOutcome prober,
                    std::optional<Outcome> observed, std::string drop_reason = "") const {
    ProbeRecord r;
    auto pp = PortProto::parse(port);
    EXPECT_TRUE(pp) << port;
    r.flow = Flow{pod(src), pod(dst), pp.value_or(PortProto{})};
    r.src_port = 40000;
    r.prober = prober;
    if (observed) {
      ObservedFlow f;
      f.src_port = r.src_port;
      f.dst_port = r.flow.port.port;
      f.proto = r.flow.port.proto;
      f.src_pod = r.flow.src.pod;
      f.dst_pod = r.flow.dst.pod;
      f.outcome = *observed;
      f.drop_reason = std::move(drop_reason);
      f.client_seen = true;
      r.observed = f;
    }
    verify(*engine_, r);
    return r;
  }

  ClusterState cluster_;
  std::unique_ptr<PolicyEngine> engine_;
};

// ---- V1: expectation ----------------------------------------------------------------------------

TEST_F(Verifier, ExpectationAndExplanationComeFromTheEngine) {
  auto allowed = probe("prod/web", "prod/db", "5432/TCP", ProbeOutcome::kConnected, Outcome::kEstablished);
  EXPECT_TRUE(allowed.expected_allowed);
  ASSERT_EQ(allowed.explanation.ingress.allowed_by.size(), 1u);
  EXPECT_EQ(cluster_.policies[allowed.explanation.ingress.allowed_by[0].policy].ref(), "prod/db-in");

  auto denied = probe("other/x", "prod/db", "5432/TCP", ProbeOutcome::kTimeout, Outcome::kTimeout);
  EXPECT_FALSE(denied.expected_allowed);
  ASSERT_EQ(denied.explanation.ingress.isolating.size(), 1u);
  EXPECT_TRUE(denied.explanation.ingress.allowed_by.empty());
}

TEST_F(Verifier, VerifyOverwritesAStaleExpectationAndFindings) {
  auto r = probe("prod/web", "prod/db", "5432/TCP", ProbeOutcome::kConnected, Outcome::kEstablished);
  r.expected_allowed = false;
  r.findings = {FK::kSilentNonEnforcement, FK::kObserverDisagreement};
  verify(*engine_, r);
  EXPECT_TRUE(r.expected_allowed);
  EXPECT_EQ(r.findings, Findings{});
}

TEST_F(Verifier, PodToSelfIsExpectedAllowedAndJudgedLikeAnyAllowedFlow) {
  auto ok = probe("prod/db", "prod/db", "5432/TCP", ProbeOutcome::kConnected, Outcome::kEstablished);
  EXPECT_TRUE(ok.explanation.self);
  EXPECT_TRUE(ok.expected_allowed);
  EXPECT_EQ(ok.findings, Findings{});
  auto dropped = probe("prod/db", "prod/db", "5432/TCP", ProbeOutcome::kTimeout, Outcome::kTimeout);
  EXPECT_EQ(dropped.findings, Findings{FK::kUnexpectedDrop});
}

// ---- agreement ----------------------------------------------------------------------------------

TEST_F(Verifier, AllowedAndReachedAgree) {
  EXPECT_EQ(probe("prod/web", "prod/db", "5432/TCP", ProbeOutcome::kConnected, Outcome::kEstablished).findings, Findings{});
  EXPECT_EQ(probe("prod/web", "prod/db", "53/UDP", ProbeOutcome::kReceived, Outcome::kDelivered).findings, Findings{});
  // Allowed by policy, no listener: the RST proves the SYN got there.
  EXPECT_EQ(probe("prod/web", "prod/db", "5432/TCP", ProbeOutcome::kRefused, Outcome::kRefused).findings, Findings{});
}

TEST_F(Verifier, DeniedAndNotReachedAgree) {
  EXPECT_EQ(probe("other/x", "prod/db", "5432/TCP", ProbeOutcome::kTimeout, Outcome::kTimeout, "NETFILTER_DROP").findings,
            Findings{});
  EXPECT_EQ(probe("other/x", "prod/db", "5432/TCP", ProbeOutcome::kUnreachable, Outcome::kUnreachable).findings, Findings{});
  EXPECT_EQ(probe("other/x", "prod/db", "53/UDP", ProbeOutcome::kNotReceived, Outcome::kDropped, "NETFILTER_DROP").findings,
            Findings{});
  EXPECT_EQ(probe("other/x", "prod/db", "53/UDP", ProbeOutcome::kNotReceived, Outcome::kNotDelivered).findings, Findings{});
}

// ---- V4: silent non-enforcement ----------------------------------------------------------------

TEST_F(Verifier, DeniedButReachedIsSilentNonEnforcement) {
  EXPECT_EQ(probe("other/x", "prod/db", "5432/TCP", ProbeOutcome::kConnected, Outcome::kEstablished).findings,
            Findings{FK::kSilentNonEnforcement});
  // Refused: the SYN reached the destination, which answered with a RST.
  EXPECT_EQ(probe("other/x", "prod/db", "5432/TCP", ProbeOutcome::kRefused, Outcome::kRefused).findings,
            Findings{FK::kSilentNonEnforcement});
  EXPECT_EQ(probe("other/x", "prod/db", "53/UDP", ProbeOutcome::kReceived, Outcome::kDelivered).findings,
            Findings{FK::kSilentNonEnforcement});
  // A port the rule does not list, from the allowed peer.
  EXPECT_EQ(probe("prod/web", "prod/db", "80/TCP", ProbeOutcome::kConnected, Outcome::kEstablished).findings,
            Findings{FK::kSilentNonEnforcement});
}

// ---- V5: unexpected drop ------------------------------------------------------------------------

TEST_F(Verifier, AllowedButNotReachedIsUnexpectedDrop) {
  EXPECT_EQ(probe("prod/web", "prod/db", "5432/TCP", ProbeOutcome::kTimeout, Outcome::kTimeout, "NETFILTER_DROP").findings,
            Findings{FK::kUnexpectedDrop});
  EXPECT_EQ(probe("prod/web", "prod/db", "5432/TCP", ProbeOutcome::kUnreachable, Outcome::kUnreachable).findings,
            Findings{FK::kUnexpectedDrop});
  EXPECT_EQ(probe("prod/web", "prod/db", "53/UDP", ProbeOutcome::kNotReceived, Outcome::kDropped, "TC_INGRESS").findings,
            Findings{FK::kUnexpectedDrop});
  EXPECT_EQ(probe("prod/web", "prod/db", "53/UDP", ProbeOutcome::kNotReceived, Outcome::kNotDelivered).findings,
            Findings{FK::kUnexpectedDrop});
  // Not isolated at all: everything is allowed.
  EXPECT_EQ(probe("other/x", "prod/web", "80/TCP", ProbeOutcome::kTimeout, Outcome::kTimeout).findings,
            Findings{FK::kUnexpectedDrop});
}

// ---- V6: no observed flow -----------------------------------------------------------------------

TEST_F(Verifier, NoObservedFlowIsObserverDisagreement) {
  EXPECT_EQ(probe("prod/web", "prod/db", "5432/TCP", ProbeOutcome::kConnected, std::nullopt).findings,
            Findings{FK::kObserverDisagreement});
  EXPECT_EQ(probe("other/x", "prod/db", "5432/TCP", ProbeOutcome::kTimeout, std::nullopt).findings,
            Findings{FK::kObserverDisagreement});
}

TEST_F(Verifier, NoObservedFlowJudgesPolicyOnTheProberSoALeakIsNotHidden) {
  EXPECT_EQ(probe("other/x", "prod/db", "5432/TCP", ProbeOutcome::kConnected, std::nullopt).findings,
            (Findings{FK::kSilentNonEnforcement, FK::kObserverDisagreement}));
  EXPECT_EQ(probe("other/x", "prod/db", "53/UDP", ProbeOutcome::kReceived, std::nullopt).findings,
            (Findings{FK::kSilentNonEnforcement, FK::kObserverDisagreement}));
  EXPECT_EQ(probe("prod/web", "prod/db", "5432/TCP", ProbeOutcome::kTimeout, std::nullopt).findings,
            (Findings{FK::kUnexpectedDrop, FK::kObserverDisagreement}));
}

// ---- V3 + V7: observer and prober disagree, the network's verdict is the observer's -----------

TEST_F(Verifier, ObserverReachedProberNotOnAnAllowedFlowIsOnlyADisagreement) {
  EXPECT_EQ(probe("prod/web", "prod/db", "5432/TCP", ProbeOutcome::kTimeout, Outcome::kEstablished).findings,
            Findings{FK::kObserverDisagreement});
}

TEST_F(Verifier, ObserverReachedProberNotOnADeniedFlowIsSilentNonEnforcement) {
  EXPECT_EQ(probe("other/x", "prod/db", "5432/TCP", ProbeOutcome::kTimeout, Outcome::kEstablished).findings,
            (Findings{FK::kSilentNonEnforcement, FK::kObserverDisagreement}));
}

TEST_F(Verifier, ProberReachedObserverNotOnADeniedFlowIsOnlyADisagreement) {
  EXPECT_EQ(probe("other/x", "prod/db", "5432/TCP", ProbeOutcome::kConnected, Outcome::kTimeout).findings,
            Findings{FK::kObserverDisagreement});
  EXPECT_EQ(probe("other/x", "prod/db", "53/UDP", ProbeOutcome::kReceived, Outcome::kNotDelivered).findings,
            Findings{FK::kObserverDisagreement});
}

TEST_F(Verifier, ProberReachedObserverNotOnAnAllowedFlowIsUnexpectedDrop) {
  EXPECT_EQ(probe("prod/web", "prod/db", "53/UDP", ProbeOutcome::kReceived, Outcome::kDropped, "NETFILTER_DROP").findings,
            (Findings{FK::kUnexpectedDrop, FK::kObserverDisagreement}));
}

TEST_F(Verifier, DifferentOutcomesThatBothReachOrBothFailAgree) {
  // refused vs connected: both reached; unreachable vs timeout: neither did.
  EXPECT_EQ(probe("prod/web", "prod/db", "5432/TCP", ProbeOutcome::kConnected, Outcome::kRefused).findings, Findings{});
  EXPECT_EQ(probe("other/x", "prod/db", "5432/TCP", ProbeOutcome::kTimeout, Outcome::kUnreachable).findings, Findings{});
}

// ---- V2: reached, and names ---------------------------------------------------------------------

TEST(VerifierReached, ObserverOutcomes) {
  EXPECT_TRUE(reached(Outcome::kEstablished));
  EXPECT_TRUE(reached(Outcome::kRefused));
  EXPECT_TRUE(reached(Outcome::kDelivered));
  EXPECT_FALSE(reached(Outcome::kTimeout));
  EXPECT_FALSE(reached(Outcome::kUnreachable));
  EXPECT_FALSE(reached(Outcome::kDropped));
  EXPECT_FALSE(reached(Outcome::kNotDelivered));
}

TEST(VerifierReached, ProberOutcomes) {
  EXPECT_TRUE(reached(ProbeOutcome::kConnected));
  EXPECT_TRUE(reached(ProbeOutcome::kRefused));
  EXPECT_TRUE(reached(ProbeOutcome::kReceived));
  EXPECT_FALSE(reached(ProbeOutcome::kUnreachable));
  EXPECT_FALSE(reached(ProbeOutcome::kTimeout));
  EXPECT_FALSE(reached(ProbeOutcome::kNotReceived));
}

TEST(VerifierNames, ToString) {
  EXPECT_STREQ(to_string(ProbeOutcome::kConnected), "connected");
  EXPECT_STREQ(to_string(ProbeOutcome::kRefused), "refused");
  EXPECT_STREQ(to_string(ProbeOutcome::kUnreachable), "unreachable");
  EXPECT_STREQ(to_string(ProbeOutcome::kTimeout), "timeout");
  EXPECT_STREQ(to_string(ProbeOutcome::kReceived), "received");
  EXPECT_STREQ(to_string(ProbeOutcome::kNotReceived), "not_received");
  EXPECT_STREQ(to_string(FindingKind::kSilentNonEnforcement), "silent-non-enforcement");
  EXPECT_STREQ(to_string(FindingKind::kUnexpectedDrop), "unexpected-drop");
  EXPECT_STREQ(to_string(FindingKind::kObserverDisagreement), "observer-disagreement");
}

// ---- summarize ----------------------------------------------------------------------------------

TEST_F(Verifier, SummarizeCountsEachKindAndKeepsDataplaneAndTimings) {
  LabReport report;
  report.summary.dataplane = "ingress-only";
  report.summary.setup = std::chrono::milliseconds{1200};
  report.summary.probing = std::chrono::milliseconds{900};
  report.summary.teardown = std::chrono::milliseconds{300};
  report.summary.agree = 99;  // stale: recomputed
  report.probes = {
      probe("prod/web", "prod/db", "5432/TCP", ProbeOutcome::kConnected, Outcome::kEstablished),  // agree
      probe("other/x", "prod/db", "5432/TCP", ProbeOutcome::kTimeout, Outcome::kTimeout),         // agree
      probe("other/x", "prod/db", "5432/TCP", ProbeOutcome::kConnected, Outcome::kEstablished),   // silent
      probe("other/x", "prod/db", "53/UDP", ProbeOutcome::kReceived, std::nullopt),               // silent + observer
      probe("prod/web", "prod/db", "53/UDP", ProbeOutcome::kNotReceived, Outcome::kDropped),      // drop
      probe("prod/web", "prod/db", "5432/TCP", ProbeOutcome::kTimeout, Outcome::kEstablished),    // observer
  };
  summarize(report);
  const LabSummary& s = report.summary;
  EXPECT_EQ(s.dataplane, "ingress-only");
  EXPECT_EQ(s.setup.count(), 1200);
  EXPECT_EQ(s.probing.count(), 900);
  EXPECT_EQ(s.teardown.count(), 300);
  EXPECT_EQ(s.probes, 6u);
  EXPECT_EQ(s.agree, 2u);
  EXPECT_EQ(s.silent_non_enforcement, 2u);
  EXPECT_EQ(s.unexpected_drop, 1u);
  EXPECT_EQ(s.observer_disagreement, 2u);
}

TEST(VerifierSummary, EmptyReportCountsNothing) {
  LabReport report;
  report.summary.probes = 3;
  report.summary.silent_non_enforcement = 1;
  summarize(report);
  EXPECT_EQ(report.summary.probes, 0u);
  EXPECT_EQ(report.summary.agree, 0u);
  EXPECT_EQ(report.summary.silent_non_enforcement, 0u);
}

}  // namespace
}  // namespace npv
