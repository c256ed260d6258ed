#include "engine/change.h"

namespace walsim {

namespace {

struct Describer {
  std::string operator()(const BeginMessage& m) const {
    return "begin final_lsn=" + m.final_lsn.to_string() + " xid=" + std::to_string(m.xid);
  }
  std::string operator()(const CommitMessage& m) const {
    return "commit lsn=" + m.commit_lsn.to_string() + " end=" + m.end_lsn.to_string();
  }
  std::string operator()(const RelationMessage& m) const {
    return "relation " + m.relation.name + " relid=" + std::to_string(m.relation.relid);
  }
  std::string operator()(const InsertMessage& m) const {
    return "insert relid=" + std::to_string(m.relid);
  }
  std::string operator()(const UpdateMessage& m) const {
    return std::string("update relid=") + std::to_string(m.relid) +
           (m.old_key ? " with old key" : "");
  }
  std::string operator()(const DeleteMessage& m) const {
    return "delete relid=" + std::to_string(m.relid);
  }
  std::string operator()(const TruncateMessage& m) const {
    return "truncate " + std::to_string(m.relids.size()) + " relation(s)";
  }
  std::string operator()(const KeepaliveMessage& m) const {
    return "keepalive lsn=" + m.lsn.to_string();
  }
};

}  // namespace

std::string describe(const ChangeMessage& message) {
  return std::visit(Describer{}, message);
}

}  // namespace walsim
