// SlotPlan: what to do with the replication slot when `walsim replicate`
// starts (or finds its slot gone while running), given what the store
// remembers and what the server says. A pure decision, so every case is
// unit-tested without a server.
//
// The store records the slot it follows (walsim_meta 'slot_name'). Its
// stream position lives only in the slot, so the two must stay paired:
//   store slot  server slot        action
//   none        missing            create
//   none        present            drop and re-create: its position is one
//                                  this store never saw
//   S           S, usable          resume
//   S           missing / lost     new replication state: reset the store,
//                                  (drop and) create, full snapshot
//   S           --slot T           refuse: the store belongs to S
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/status.h"

namespace walsim::live {

// The slot as the server describes it (pg_replication_slots).
struct SlotState {
  bool exists = false;
  // wal_status 'lost': the server removed WAL the slot still needed, so it
  // can never stream again.
  bool lost = false;
  std::string wal_status;
  std::optional<int64_t> active_pid;
};

enum class SlotAction {
  kResume,    // stream from the slot's confirmed position
  kCreate,    // create the missing slot
  kRecreate,  // drop the slot, then create it anew
};

struct SlotPlan {
  SlotAction action = SlotAction::kResume;
  // Start a new replication state: every table's rows are removed and
  // copied again, because changes between the old slot and the new one are
  // lost.
  bool reset_store = false;
  std::string notice;  // what the user should be told; empty for a resume
};

// `store_slot`: the slot the store records (nullopt: none); `store_has_tables`:
// the store holds replicated tables; `slot`: the slot asked for.
Result<SlotPlan> plan_slot(const std::optional<std::string>& store_slot, bool store_has_tables,
                           const std::string& slot, const SlotState& state);

}  // namespace walsim::live
