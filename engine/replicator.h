// Replicator: the engine assembled. One streamer task applies the change
// stream from the start; N snapshot worker tasks copy the queued tables
// concurrently; both write through their own WriteBatch into one store.
//
// Restart = construct a new Replicator over the same store: finished tables
// are skipped, partial tables resume from their stored key, and the stream
// resumes after the slot's acknowledged position. The Replicator holds no
// state that matters across a crash; losing it loses nothing durable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/bucket_storage.h"
#include "engine/replicator_options.h"
#include "engine/source.h"
#include "engine/task.h"

namespace walsim {

// The tasks it assembles (streamer.h, snapshotter.h); they know nothing of
// the Replicator.
class Streamer;
class Snapshotter;

class Replicator {
 public:
  // `storage` and `source` must outlive the Replicator.
  Replicator(BucketStorage& storage, SourceConnector& source,
             ReplicatorOptions options);
  ~Replicator();

  // The streamer first, then each snapshot worker. Owned by the Replicator.
  // Steps may run in any order; each step does one source call or one
  // storage transaction.
  std::vector<Task*> tasks();

  // The first error no retry can fix (a table walsim refuses, a store that
  // breaks its own rules); ok while running normally.
  const Status& fatal_error() const;
  const ReplicatorProgress& progress() const;

 private:
  ReplicatorOptions options_;
  ReplicatorProgress progress_;
  Status fatal_error_;
  std::unique_ptr<Snapshotter> snapshotter_;
  std::unique_ptr<Streamer> streamer_;
};

}  // namespace walsim
