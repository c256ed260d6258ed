// Status and Result<T>: how engine code reports failure without exceptions.
//
// Why not exceptions: a simulated fault (a busy database, a dropped stream)
// is an ordinary outcome that every caller must look at and decide on, and a
// Status that names the problem makes that decision visible at the call site.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "engine/assert.h"

namespace walsim {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,     // bad input from a user: rules file, store path, flag
  kNotFound,            // a table, slot or publication does not exist
  kFailedPrecondition,  // the call is not allowed in the current state
  kBusy,                // storage is busy: retry later
  kIoError,             // storage or source failed: retry or surface
  kStorageFull,         // the store's disk is full: retry once space returns
  kStorageFailed,       // storage refused a statement (a constraint, a read-only
                        // file, SQL it does not take): no retry mends it
  kDisconnected,        // the change stream is gone: open a new one
  kCorrupt,             // stored or received data breaks its format
  kUnsupported,         // a source feature walsim refuses (e.g. no identity)
};

const char* error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "busy: database is locked" — code name first so logs can be grepped.
  std::string to_string() const;

  // Busy, I/O and disk-full failures are transient by contract: the caller
  // may retry the same call. Everything else needs a different action.
  bool is_retryable() const {
    return code_ == ErrorCode::kBusy || code_ == ErrorCode::kIoError ||
           code_ == ErrorCode::kStorageFull;
  }
  // The one answer to "may this go away by itself?": retryable, or a
  // dropped connection that a reconnect mends. What a runner restarts on;
  // anything else needs a person or a different call.
  bool is_transient() const { return is_retryable() || code_ == ErrorCode::kDisconnected; }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(Status status) : state_(std::move(status)) {
    WALSIM_ASSERT(!std::get<Status>(state_).is_ok(), "Result needs a value or an error");
  }

  bool is_ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(state_);
  }
  T& value() & {
    WALSIM_ASSERT(is_ok(), "value() of a failed Result");
    return std::get<T>(state_);
  }
  const T& value() const& {
    WALSIM_ASSERT(is_ok(), "value() of a failed Result");
    return std::get<T>(state_);
  }
  T&& value() && {
    WALSIM_ASSERT(is_ok(), "value() of a failed Result");
    return std::get<T>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> state_;
};

// The Status of a Status or of a Result<T>, for the macros below.
inline const Status& status_of(const Status& status) { return status; }
template <typename T>
const Status& status_of(const Result<T>& result) {
  return result.status();
}

}  // namespace walsim

// Propagates a failure from an expression returning Status or Result<T>
// (a Result's value is dropped: use WALSIM_ASSIGN_OR_RETURN to keep it).
// The Status is copied out while the expression's temporaries still live:
// `expr` may be `f().status()`, a reference into a temporary Result.
#define WALSIM_RETURN_IF_ERROR(expr)                                   \
  do {                                                                 \
    ::walsim::Status walsim_status_ = ::walsim::status_of((expr));     \
    if (!walsim_status_.is_ok()) return walsim_status_;                \
  } while (0)

// Evaluates `expr` (a Result<T>); on failure returns its Status from the
// enclosing function, else moves the value into `lhs`:
//   WALSIM_ASSIGN_OR_RETURN(Statement* stmt, db.prepare("..."));
//   WALSIM_ASSIGN_OR_RETURN(auto state, storage.replication_state());
#define WALSIM_ASSIGN_OR_RETURN(lhs, expr) \
  WALSIM_ASSIGN_OR_RETURN_IMPL_(WALSIM_CONCAT_(walsim_result_, __LINE__), lhs, expr)
#define WALSIM_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                                  \
  if (!result.is_ok()) return result.status();           \
  lhs = std::move(result).value()
#define WALSIM_CONCAT_(a, b) WALSIM_CONCAT_INNER_(a, b)
#define WALSIM_CONCAT_INNER_(a, b) a##b
