// RapidCheck generators for the model domain, shared by the model tests.
// They draw with operator*, so call them inside a generator context (a
// property, a command's constructor, or rc::gen::exec).
#pragma once

#include <rapidcheck.h>

#include "tests/engine/storage_model_domain.h"

namespace walsim::model {

inline Table any_table() { return *rc::gen::element(Table::kTodos, Table::kLists); }

inline int any_key(int max_key = kMaxKey) { return *rc::gen::inRange(1, max_key + 1); }

inline SourceRow any_row(int max_key = kMaxKey) {
  return {any_key(max_key), *rc::gen::element('a', 'b', '\0'), *rc::gen::element('x', 'y')};
}

}  // namespace walsim::model
