#pragma once
// A stateful run, step by step (docs/design.md, "The run"): load state → resolve the
// selection and probe the warehouse → decide → run dbt on the BUILD set → record what
// succeeded. It talks to dbt only through DbtRequests and to state only through StateStore, so
// every path can be exercised with fakes.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "dbt/dbt_args.h"
#include "dbt/dbt_requests.h"
#include "stores/state_store.h"

namespace orc {

/// What the user asked for.
struct RunRequest {
  std::string subcommand;          ///< build | run | test
  std::vector<std::string> args;   ///< the user's dbt arguments, as given
  DbtArgs dbt_args;                ///< the same, parsed (parse_dbt_args)
  std::filesystem::path cwd;       ///< where orc was started
  /// `orc plan`: decide and report (orc_decisions.json, the table), but build nothing and
  /// write no state.
  bool plan_only = false;
  /// With plan_only: print orc_decisions.json to stdout instead of the table.
  bool plan_json = false;
  /// With plan_only: print neither (the caller reads orc_decisions.json).
  bool plan_quiet = false;
  /// --reuse-from / reuse_from: the target whose builds may be cloned (docs/design.md,
  /// "Reusing another target's builds").
  std::optional<std::string> reuse_from;
};

/// Runs the request. Returns the exit code: dbt's when dbt ran (or failed resolving the
/// selection), 0 when nothing needed building, 128+signal when interrupted before dbt ran.
/// Throws orc::Error for orc's own failures (unreadable state or manifest, bad ORC_NOW).
int run_stateful(const RunRequest& request, const Config& config, DbtRequests& dbt,
                 StateStore& store);

}  // namespace orc
