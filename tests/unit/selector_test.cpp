// Label selector semantics from k8s.io/apimachinery/pkg/labels (Requirement.Matches).
#include <gtest/gtest.h>

#include "npv/selector.hpp"

namespace npv {
namespace {

Labels web{{"app", "web"}, {"tier", "frontend"}};
Labels bare{};

TEST(LabelSelector, EmptySelectorMatchesEverything) {
  LabelSelector s;
  EXPECT_TRUE(s.selects_everything());
  EXPECT_TRUE(s.matches(web));
  EXPECT_TRUE(s.matches(bare));
  EXPECT_EQ(s.to_string(), "{}");
}

TEST(LabelSelector, InNeedsTheKeyWithOneOfTheValues) {
  LabelSelector s({{"app", SelectorOp::kIn, {"web", "api"}}});
  EXPECT_TRUE(s.matches(web));
  EXPECT_FALSE(s.matches({{"app", "db"}}));
  EXPECT_FALSE(s.matches(bare));
}

TEST(LabelSelector, NotInMatchesWhenTheKeyIsAbsent) {
  LabelSelector s({{"app", SelectorOp::kNotIn, {"db"}}});
  EXPECT_TRUE(s.matches(web));
  EXPECT_TRUE(s.matches(bare));  // Kubernetes: NotIn is true for a missing key
  EXPECT_FALSE(s.matches({{"app", "db"}}));
}

TEST(LabelSelector, ExistsAndDoesNotExistLookOnlyAtTheKey) {
  LabelSelector exists({{"tier", SelectorOp::kExists, {}}});
  LabelSelector absent({{"tier", SelectorOp::kDoesNotExist, {}}});
  EXPECT_TRUE(exists.matches(web));
  EXPECT_FALSE(exists.matches(bare));
  EXPECT_FALSE(absent.matches(web));
  EXPECT_TRUE(absent.matches(bare));
  EXPECT_TRUE(exists.matches({{"tier", ""}}));  // an empty value still exists
}

TEST(LabelSelector, RequirementsAreAnded) {
  LabelSelector s({{"app", SelectorOp::kIn, {"web"}}, {"tier", SelectorOp::kNotIn, {"frontend"}}});
  EXPECT_FALSE(s.matches(web));
  EXPECT_TRUE(s.matches({{"app", "web"}, {"tier", "edge"}}));
  EXPECT_TRUE(s.matches({{"app", "web"}}));
}

TEST(LabelSelector, CanonicalTextIgnoresOrderAndDuplicates) {
  LabelSelector a({{"b", SelectorOp::kIn, {"2"}}, {"a", SelectorOp::kNotIn, {"y", "x", "y"}}});
  LabelSelector b({{"a", SelectorOp::kNotIn, {"x", "y"}}, {"b", SelectorOp::kIn, {"2"}}});
  EXPECT_EQ(a.to_string(), b.to_string());
  EXPECT_EQ(a.to_string(), "a notin (x,y),b=2");
  LabelSelector c({{"k", SelectorOp::kExists, {}}, {"z", SelectorOp::kDoesNotExist, {}}});
  EXPECT_EQ(c.to_string(), "k,!z");
}

}  // namespace
}  // namespace npv
