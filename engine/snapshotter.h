// Snapshotter: a queue of tables to copy and the workers that copy them.
//
// Each worker is a Task. A copy first describes its table in the catalog
// and registers what it says (the snapshotter is the one writer of a
// table's stored relation; a table the catalog no longer has is forgotten).
// It then reads the table in key-ordered chunks from
// its stored resume key up to the table's largest key as its first chunk
// found it (rows past it are written later, and the stream brings them),
// writes each chunk through a snapshot batch (one
// storage transaction that also records the new resume key), then reads the
// source's current LSN and marks the table done at it: the stream must pass
// that LSN before the copy is consistent. When the queue is empty and no
// worker is copying, a worker marks all snapshots done.
//
// Shared state (queue, start-up progress) lives here, in memory; what must
// survive a crash (which tables are done, resume keys) lives in storage, and
// a new Snapshotter rebuilds its queue from it.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/bucket_storage.h"
#include "engine/replicator_options.h"
#include "engine/source.h"
#include "engine/task.h"
#include "engine/write_batch.h"

namespace walsim {

// kUnsupported for a table whose updates and deletes carry no key.
Status check_replicable(const Relation& relation);

class Snapshotter {
 public:
  Snapshotter(BucketStorage& storage, SourceConnector& source, const ReplicatorOptions& options,
              ReplicatorProgress& progress, Status& fatal_error);
  ~Snapshotter();

  // Queues a table for a (new) copy unless it is queued already.
  void enqueue(const std::string& table);
  // Issue 10 (DDL). The one writer of a table's stored relation is the
  // snapshotter: start-up registers what the catalog says, and so does
  // every copy as it starts. The stream only compares: a change decoded
  // with another relation than the registered one (an older incarnation
  // of a re-created table, replayed; or a newer one, or a new shape, not
  // registered yet) is not applied, and the table is queued to be
  // described again (`recheck`), which registers the catalog's relation
  // and copies the table again if it changed.
  const Relation* registered_relation(const std::string& table) const;
  void recheck(const std::string& table);
  std::vector<Task*> tasks();
  // Start-up is over: every rules table was described and registered, so
  // the store knows which tables (re-created, changed while walsim was
  // stopped) need a copy, and its snapshot_done says so.
  bool started() const { return startup_ == Startup::kDone; }

 private:
  class Worker;
  friend class Worker;

  // Start-up runs once, advanced by whichever worker steps first: describe
  // the rules' tables, register them, queue every table not done.
  StepResult step_startup();
  StepResult startup_retry_or_fail(const Status& status);
  StepResult fail(const Status& status);
  bool copying() const;
  bool copying_other_than(const Worker* self) const;
  bool copied_by_other_than(const std::string& table, int64_t generation,
                            const Worker* self) const;

  enum class Startup { kDescribe, kRegister, kQueue, kDone };

  BucketStorage& storage_;
  SourceConnector& source_;
  const ReplicatorOptions& options_;
  ReplicatorProgress& progress_;
  Status& fatal_error_;

  Startup startup_ = Startup::kDescribe;
  std::vector<Relation> described_;
  size_t registered_count_ = 0;
  // The stored relation of each registered table (issue 10, DDL), as the
  // snapshotter last registered it; read from the store at start-up.
  std::map<std::string, Relation> registered_;
  std::set<std::string> rechecks_;  // tables to describe even if done
  // Tables a copy found out of the publication, described since: their
  // next turns read the membership only, until it is back.
  std::set<std::string> out_of_publication_;
  std::deque<std::string> queue_;
  bool all_done_marked_ = false;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace walsim
