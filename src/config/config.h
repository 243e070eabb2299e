#pragma once
// orc's settings: [tool.orchestra_dbt] in the nearest pyproject.toml, overridden by env.
#include <filesystem>
#include <optional>
#include <string>

#include "core/environment.h"

namespace orc {

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

  /// Where state lives when no API key is set: a local path (absolute) or a URI.
  std::optional<std::string> state_location;
  /// Which setting gave `state_location` ("ORCHESTRA_STATE_FILE" or "<pyproject>: state_file").
  std::string state_location_origin;
  /// ORCHESTRA_API_KEY (environment only; never printed).
  std::optional<std::string> api_key;

  /// The pyproject.toml that was read, if any.
  std::optional<std::filesystem::path> pyproject;
  /// The environment the configuration was read from (backends read credentials from it).
  Environment env;
};

/// Finds the first pyproject.toml from `cwd` upwards, reads [tool.orchestra_dbt], applies env
/// overrides and validates. Throws orc::Error naming the file, key and accepted values.
Config load_config(const std::filesystem::path& cwd, const Environment& env);

/// The first pyproject.toml found walking up from `start`, if any.
std::optional<std::filesystem::path> find_pyproject(const std::filesystem::path& start);

}  // namespace orc
