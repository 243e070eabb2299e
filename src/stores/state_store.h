#pragma once
// One interface for every place state can live (local file, S3, Orchestra HTTP, ...).
#include <functional>
#include <memory>
#include <string>

#include "state/state.h"
#include "state/state_change.h"

namespace orc {

struct Config;

/// A place that holds one state document.
class StateStore {
 public:
  virtual ~StateStore() = default;
  /// Human-readable location for messages (never contains a secret).
  virtual std::string describe() const = 0;
  /// Reads the stored state, unfiltered. A confirmed-absent object may yield an empty
  /// state (object stores) or an error (local file: bootstrap hint). Any other failure
  /// throws orc::Error; it never silently returns empty.
  virtual State load() = 0;
  /// Re-reads the stored state, applies `change` to what was read and writes the result
  /// under the store's precondition (local: directory lock; S3/Azure: If-Match; GCS:
  /// ifGenerationMatch; Orchestra API: re-read just before the PATCH), re-reading and
  /// applying `change` again on a conflict. `change` must therefore be a pure function of
  /// the state it is given (merge these entries, remove those keys, add to a total).
  /// Throws orc::Error when it cannot; the stored state is then unchanged.
  virtual void update(const std::function<void(State&)>& change) = 0;
  /// update() with `change` (StateChange::apply): the save path of every run.
  void apply(const StateChange& change) {
    update([&change](State& stored) { change.apply(stored); });
  }
};

/// Chooses the backend exactly as the compatibility contract says: API key -> HTTP,
/// else ORCHESTRA_STATE_FILE, else pyproject `state_file`; URI scheme picks the store.
/// Throws orc::Error when none is configured.
std::unique_ptr<StateStore> open_state_store(const Config& config);

}  // namespace orc
