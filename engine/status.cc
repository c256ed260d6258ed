#include "engine/status.h"

namespace walsim {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kFailedPrecondition: return "failed precondition";
    case ErrorCode::kBusy: return "busy";
    case ErrorCode::kIoError: return "i/o error";
    case ErrorCode::kStorageFull: return "storage full";
    case ErrorCode::kStorageFailed: return "storage failed";
    case ErrorCode::kDisconnected: return "disconnected";
    case ErrorCode::kCorrupt: return "corrupt";
    case ErrorCode::kUnsupported: return "unsupported";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(error_code_name(code_)) + ": " + message_;
}

}  // namespace walsim
