#pragma once
// orc's settings: [tool.orchestra_dbt] in the nearest pyproject.toml that has the section
// (from the dbt project directory, then from the working directory), overridden by env.
#include <filesystem>
#include <optional>
#include <string>

#include "core/environment.h"
#include "plan/volatility_mode.h"

namespace orc {

struct SessionSettings;

/// Effective configuration (env > pyproject > default), validated.
struct Config {
  bool use_stateful = false;
  std::string orchestra_env = "app";  ///< app | stage | dev, lower-cased.
  bool local_run = true;
  bool debug = false;
  std::optional<std::string> integration_account_id;
  bool seed_state_orchestration = false;
  /// Reuse a node only when its relation exists in the warehouse with the kind it was built as
  /// (dbt-orchestra 1.5's key; on by default in orc).
  bool verify_relations_exist = true;
  /// Sources without loaded_at_field / loaded_at_query never get an inferred freshness: their
  /// data always counts as new (dbt-orchestra 1.5's key).
  bool require_explicit_source_freshness = false;
  /// Accepted for dbt-orchestra 1.5 compatibility; orc always scopes freshness to the
  /// selection, whatever the value.
  bool scope_source_freshness_to_selection = false;
  /// Which clock and randomness reads make a node volatile (built on every run): `filters`
  /// (default), `any` or `never`.
  VolatilityMode volatility = VolatilityMode::Filters;
  /// After a run, run_results.json holds a result for every selected node: dbt's for what it
  /// ran, orc's (status `reused`, or `no-op` before dbt 1.12) for what orc reused. Off: only
  /// what dbt ran (an empty results list when dbt was not started).
  bool reused_in_run_results = true;
  /// The dbt target whose builds a run may clone (`reuse_from`, ORCHESTRA_REUSE_FROM; the
  /// command line's --reuse-from wins): docs/design.md, "Reusing another target's builds".
  std::optional<std::string> reuse_from;

  /// Where state lives when no API key is set: a local path (absolute) or a URI.
  std::optional<std::string> state_location;
  /// Which setting gave `state_location` ("ORCHESTRA_STATE_FILE" or "<pyproject>: state_file").
  std::string state_location_origin;
  /// ORCHESTRA_API_KEY (environment only; never printed).
  std::optional<std::string> api_key;

  /// The pyproject.toml that was read, if any (`debug` may come from another one: the one
  /// found from the working directory).
  std::optional<std::filesystem::path> pyproject;
  /// The environment the configuration was read from (backends read credentials from it).
  Environment env;
};

/// Reads [tool.orchestra_dbt] from the nearest pyproject.toml that has it, walking up from
/// `project_dir` (the dbt project directory the user named with --project-dir or
/// DBT_PROJECT_DIR) when given, else (or when none is found there) from `cwd`; `debug` is
/// always read from the one found from `cwd`. Applies env overrides and validates. Throws
/// orc::Error naming the file, key and accepted values.
Config load_config(const std::filesystem::path& cwd, const Environment& env,
                   const std::optional<std::filesystem::path>& project_dir = std::nullopt);

/// The settings of a run's Session (plan/session.h) that come from the configuration: the key
/// policy (integration_account_id, local_run), seed_state_orchestration and volatility. The
/// dbt arguments' part (--full-refresh, --empty) is the caller's.
SessionSettings session_settings(const Config& config);

/// The nearest pyproject.toml from `start` upwards that has a [tool.orchestra_dbt] section,
/// if any. A pyproject.toml that is not valid TOML is an error naming it.
std::optional<std::filesystem::path> find_pyproject(const std::filesystem::path& start);

}  // namespace orc
