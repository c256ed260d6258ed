#include "live/slot_plan.h"

#include <gtest/gtest.h>

namespace walsim::live {
namespace {

SlotState missing() { return SlotState{}; }

SlotState usable() {
  SlotState state;
  state.exists = true;
  state.wal_status = "reserved";
  return state;
}

SlotState lost() {
  SlotState state = usable();
  state.wal_status = "lost";
  state.lost = true;
  return state;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(SlotPlanTest, NewStoreCreatesTheSlot) {
  Result<SlotPlan> plan = plan_slot(std::nullopt, false, "walsim", missing());
  ASSERT_TRUE(plan.is_ok());
  EXPECT_EQ(plan->action, SlotAction::kCreate);
  EXPECT_FALSE(plan->reset_store);
  EXPECT_EQ(plan->notice, "");
}

TEST(SlotPlanTest, NewStoreNeverResumesAnExistingSlot) {
  // The slot's position belongs to some other replication.
  Result<SlotPlan> plan = plan_slot(std::nullopt, false, "walsim", usable());
  ASSERT_TRUE(plan.is_ok());
  EXPECT_EQ(plan->action, SlotAction::kRecreate);
  EXPECT_FALSE(plan->reset_store);
  EXPECT_TRUE(contains(plan->notice, "exists but this store never followed it")) << plan->notice;
}

TEST(SlotPlanTest, StoreWithDataButNoSlotRecordStartsOver) {
  Result<SlotPlan> plan = plan_slot(std::nullopt, true, "walsim", missing());
  ASSERT_TRUE(plan.is_ok());
  EXPECT_EQ(plan->action, SlotAction::kCreate);
  EXPECT_TRUE(plan->reset_store);
  EXPECT_TRUE(contains(plan->notice, "full snapshot")) << plan->notice;
}

TEST(SlotPlanTest, RecordedUsableSlotResumes) {
  for (const char* wal_status : {"reserved", "extended", "unreserved"}) {
    SlotState state = usable();
    state.wal_status = wal_status;
    Result<SlotPlan> plan = plan_slot(std::string("walsim"), true, "walsim", state);
    ASSERT_TRUE(plan.is_ok());
    EXPECT_EQ(plan->action, SlotAction::kResume) << wal_status;
    EXPECT_FALSE(plan->reset_store);
    EXPECT_EQ(plan->notice, "");
  }
}

TEST(SlotPlanTest, MissingSlotStartsNewReplicationState) {
  Result<SlotPlan> plan = plan_slot(std::string("walsim"), true, "walsim", missing());
  ASSERT_TRUE(plan.is_ok());
  EXPECT_EQ(plan->action, SlotAction::kCreate);
  EXPECT_TRUE(plan->reset_store);
  EXPECT_EQ(plan->notice,
            "replication slot 'walsim' no longer exists (dropped, or removed by the server): "
            "starting a new replication state with a new slot and a full snapshot");
}

TEST(SlotPlanTest, LostSlotIsDroppedAndStartsNewReplicationState) {
  Result<SlotPlan> plan = plan_slot(std::string("walsim"), true, "walsim", lost());
  ASSERT_TRUE(plan.is_ok());
  EXPECT_EQ(plan->action, SlotAction::kRecreate);
  EXPECT_TRUE(plan->reset_store);
  EXPECT_TRUE(contains(plan->notice, "was invalidated (wal_status 'lost'")) << plan->notice;
}

TEST(SlotPlanTest, AnotherSlotThanTheStoreFollowsIsRefused) {
  Result<SlotPlan> plan = plan_slot(std::string("first"), true, "second", usable());
  ASSERT_FALSE(plan.is_ok());
  EXPECT_EQ(plan.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(plan.status().message(),
            "this store follows replication slot 'first', not 'second': pass --slot first, "
            "or use a new store");
}

}  // namespace
}  // namespace walsim::live
