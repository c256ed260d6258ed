#include "live/slot_plan.h"

namespace walsim::live {

namespace {

constexpr const char* kNewState =
    ": starting a new replication state with a new slot and a full snapshot";

std::string quoted(const std::string& name) { return "'" + name + "'"; }

SlotPlan plan_unrecorded(bool store_has_tables, const std::string& slot, const SlotState& state) {
  SlotPlan plan;
  plan.reset_store = store_has_tables;
  if (!state.exists) {
    plan.action = SlotAction::kCreate;
    if (store_has_tables) {
      plan.notice = "the store records no replication slot" + std::string(kNewState);
    }
    return plan;
  }
  plan.action = SlotAction::kRecreate;
  plan.notice = "replication slot " + quoted(slot) +
                " exists but this store never followed it: dropping and re-creating it";
  return plan;
}

// A plan that resets the store must say so, and a resume never resets: the
// store's rows follow the slot they came from.
SlotPlan checked(SlotPlan plan) {
  WALSIM_ASSERT(!plan.reset_store || !plan.notice.empty(), "a new replication state is told");
  WALSIM_ASSERT(plan.action != SlotAction::kResume || !plan.reset_store,
                "a resumed slot keeps the store");
  return plan;
}

}  // namespace

Result<SlotPlan> plan_slot(const std::optional<std::string>& store_slot, bool store_has_tables,
                           const std::string& slot, const SlotState& state) {
  if (!store_slot) return checked(plan_unrecorded(store_has_tables, slot, state));
  if (*store_slot != slot) {
    return Status(ErrorCode::kFailedPrecondition,
                  "this store follows replication slot " + quoted(*store_slot) + ", not " +
                      quoted(slot) + ": pass --slot " + *store_slot + ", or use a new store");
  }
  SlotPlan plan;
  if (!state.exists) {
    plan.action = SlotAction::kCreate;
    plan.reset_store = true;
    plan.notice = "replication slot " + quoted(slot) +
                  " no longer exists (dropped, or removed by the server)" + kNewState;
  } else if (state.lost) {
    plan.action = SlotAction::kRecreate;
    plan.reset_store = true;
    plan.notice = "replication slot " + quoted(slot) +
                  " was invalidated (wal_status 'lost': the server removed WAL it still "
                  "needed)" + kNewState;
  }
  return checked(plan);
}

}  // namespace walsim::live
