// WALSIM_ASSERT stays on in every build mode and reports where it failed.
#include "engine/assert.h"

#include <gtest/gtest.h>

#include "engine/status.h"

namespace walsim {
namespace {

void print_seed(std::FILE* out) { std::fprintf(out, "  context: seed=42\n"); }

TEST(AssertTest, PassingAssertionDoesNothing) {
  int evaluated = 0;
  WALSIM_ASSERT(++evaluated == 1);
  EXPECT_EQ(evaluated, 1);  // the condition runs exactly once
}

TEST(AssertDeathTest, FailingAssertionAbortsWithConditionAndReason) {
  EXPECT_DEATH(WALSIM_ASSERT(1 + 1 == 3, "arithmetic"),
               "assertion failed: 1 \\+ 1 == 3.*why: arithmetic");
}

TEST(AssertDeathTest, FailingAssertionPrintsTheRegisteredContext) {
  set_assertion_context(print_seed);
  EXPECT_DEATH(WALSIM_ASSERT(false), "context: seed=42");
  set_assertion_context(nullptr);
}

// NDEBUG (set by -c opt) must not remove the check: this test runs in the
// opt build too (`bazel test -c opt //tests/engine:assert_test`).
TEST(AssertDeathTest, ResultValueOfAFailureAborts) {
  Result<int> failed(Status(ErrorCode::kNotFound, "gone"));
  EXPECT_DEATH((void)failed.value(), "value\\(\\) of a failed Result");
}

Status fails() { return Status(ErrorCode::kBusy, "locked"); }
Result<int> forty_two() { return 42; }
Result<int> not_found() { return Status(ErrorCode::kNotFound, "no row"); }

Result<int> add_one(bool fail) {
  WALSIM_ASSIGN_OR_RETURN(int value, fail ? not_found() : forty_two());
  return value + 1;
}

TEST(StatusMacrosTest, AssignOrReturnMovesTheValueOrReturnsTheError) {
  EXPECT_EQ(*add_one(false), 43);
  Result<int> failed = add_one(true);
  ASSERT_FALSE(failed.is_ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(failed.status().message(), "no row");
}

// WALSIM_RETURN_IF_ERROR takes a Status, a Result, or a reference into a
// temporary Result (`f().status()`): the error must come back whole.
Status propagate_status() {
  WALSIM_RETURN_IF_ERROR(fails());
  return Status::ok();
}
Status propagate_result() {
  WALSIM_RETURN_IF_ERROR(not_found());
  return Status::ok();
}
Status propagate_temporary_status() {
  WALSIM_RETURN_IF_ERROR(not_found().status());
  return Status::ok();
}
Status propagate_success() {
  WALSIM_RETURN_IF_ERROR(forty_two());
  WALSIM_RETURN_IF_ERROR(forty_two().status());
  return Status(ErrorCode::kFailedPrecondition, "reached the end");
}

TEST(StatusMacrosTest, ReturnIfErrorReturnsTheWholeError) {
  EXPECT_EQ(propagate_status().to_string(), "busy: locked");
  EXPECT_EQ(propagate_result().to_string(), "not found: no row");
  EXPECT_EQ(propagate_temporary_status().to_string(), "not found: no row");
  EXPECT_EQ(propagate_success().to_string(), "failed precondition: reached the end");
}

TEST(StatusTest, TransientMeansRetryableOrDisconnected) {
  EXPECT_TRUE(fails().is_transient());
  EXPECT_TRUE(Status(ErrorCode::kIoError, "eio").is_transient());
  EXPECT_TRUE(Status(ErrorCode::kDisconnected, "gone").is_transient());
  EXPECT_FALSE(Status(ErrorCode::kDisconnected, "gone").is_retryable());
  EXPECT_FALSE(Status(ErrorCode::kCorrupt, "bad").is_transient());
  EXPECT_FALSE(Status(ErrorCode::kInvalidArgument, "bad").is_transient());
}

}  // namespace
}  // namespace walsim
