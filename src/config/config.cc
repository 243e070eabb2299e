#include "config/config.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <sstream>
#include <system_error>
#include <toml++/toml.h>

#include "core/error.h"
#include "plan/session.h"

namespace orc {
namespace fs = std::filesystem;

namespace {

constexpr const char* kSection = "[tool.orchestra_dbt]";
constexpr const char* kEnvChoices = "app, stage or dev (case-insensitive)";
constexpr const char* kVolatilityChoices = "filters, any or never (case-insensitive)";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// A TOML value as the user wrote it, for error messages (strings in double quotes).
std::string show(const toml::node& node) {
  if (auto s = node.as_string()) return fmt::format("\"{}\"", s->get());
  std::ostringstream os;
  os << toml::node_view<const toml::node>(&node);
  return os.str();
}

/// One bad setting in the pyproject: `<file>: [tool.orchestra_dbt] key = value is not valid:
/// expected ...`.
Error bad_value(const fs::path& file, const std::string& key, const toml::node& node,
                const std::string& expected) {
  return Error(fmt::format("{}: {} {} = {} is not valid: expected {}", file.string(), kSection,
                           key, show(node), expected));
}

std::optional<bool> toml_bool(const toml::table& t, const fs::path& file, const std::string& key) {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  if (auto b = n->as_boolean()) return b->get();
  throw bad_value(file, key, *n, "a boolean (true or false, without quotes)");
}

std::optional<std::string> toml_string(const toml::table& t, const fs::path& file,
                                       const std::string& key, const std::string& expected) {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  if (auto s = n->as_string()) return s->get();
  throw bad_value(file, key, *n, expected);
}

bool is_valid_env(const std::string& lowered) {
  return lowered == "app" || lowered == "stage" || lowered == "dev";
}

/// Env booleans as the reference reads them: "true" in any case is true, anything else false.
bool env_bool(const std::string& value) { return lower(value) == "true"; }

/// Object-store URIs are kept as written; everything else is a local path.
bool is_uri(const std::string& v) {
  for (const char* scheme : {"s3://", "gs://", "abfs://", "abfss://"})
    if (v.rfind(scheme, 0) == 0) return true;
  return false;
}

std::string resolve_location(const std::string& value, const fs::path& base) {
  if (is_uri(value)) return value;
  fs::path p(value);
  if (p.is_relative()) p = base / p;
  return fs::absolute(p).lexically_normal().string();
}

/// The parsed TOML of a pyproject.toml; invalid TOML is an error naming the file and place.
toml::table parse_pyproject(const fs::path& file) {
  try {
    return toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    if (where.line == 0)
      throw Error(fmt::format("{}: cannot read the file: {}", file.string(), e.description()));
    throw Error(fmt::format("{}:{}:{}: invalid TOML: {}", file.string(), where.line,
                            where.column, e.description()));
  }
}

/// The [tool.orchestra_dbt] node of a parsed pyproject, if present.
const toml::node* orchestra_section(const toml::table& root) {
  const toml::node* tool = root.get("tool");
  const toml::table* tool_table = tool ? tool->as_table() : nullptr;
  return tool_table ? tool_table->get("orchestra_dbt") : nullptr;  // a non-table `tool` is not ours
}

/// [tool.orchestra_dbt] of `file` as a table (it must be one).
const toml::table& section_table(const toml::table& root, const fs::path& file) {
  const toml::node* section = orchestra_section(root);
  const toml::table* t = section ? section->as_table() : nullptr;
  if (!t)
    throw Error(fmt::format("{}: {} must be a table of settings, not {}", file.string(), kSection,
                            section ? show(*section) : std::string("missing")));
  return *t;
}

/// Reads [tool.orchestra_dbt] from `file` into `config` (pyproject layer of the precedence).
/// Returns the raw `state_file` value, if set.
std::optional<std::string> read_pyproject(const fs::path& file, Config& config) {
  const toml::table root = parse_pyproject(file);
  const toml::table* t = &section_table(root, file);

  if (auto v = toml_bool(*t, file, "use_stateful")) config.use_stateful = *v;
  if (auto v = toml_bool(*t, file, "local_run")) config.local_run = *v;
  if (auto v = toml_bool(*t, file, "debug")) config.debug = *v;
  if (auto v = toml_bool(*t, file, "seed_state_orchestration")) config.seed_state_orchestration = *v;
  if (auto v = toml_bool(*t, file, "verify_relations_exist")) config.verify_relations_exist = *v;
  if (auto v = toml_bool(*t, file, "require_explicit_source_freshness"))
    config.require_explicit_source_freshness = *v;
  if (auto v = toml_bool(*t, file, "scope_source_freshness_to_selection"))
    config.scope_source_freshness_to_selection = *v;
  if (auto v = toml_bool(*t, file, "reused_in_run_results")) config.reused_in_run_results = *v;
  if (auto v = toml_string(*t, file, "orchestra_env", std::string("one of ") + kEnvChoices)) {
    std::string lowered = lower(*v);
    if (!is_valid_env(lowered))
      throw bad_value(file, "orchestra_env", *t->get("orchestra_env"),
                      std::string("one of ") + kEnvChoices);
    config.orchestra_env = lowered;
  }
  if (auto v = toml_string(*t, file, "volatility", std::string("one of ") + kVolatilityChoices)) {
    auto mode = parse_volatility_mode(*v);
    if (!mode)
      throw bad_value(file, "volatility", *t->get("volatility"),
                      std::string("one of ") + kVolatilityChoices);
    config.volatility = *mode;
  }
  if (auto v = toml_string(*t, file, "integration_account_id", "a string (in quotes)"))
    config.integration_account_id = *v;
  if (auto v = toml_string(*t, file, "reuse_from", "a dbt target name (in quotes)"))
    if (!v->empty()) config.reuse_from = *v;
  auto state_file = toml_string(*t, file, "state_file",
                                "a string: a local path or an s3://, gs://, abfs:// or abfss:// URI");
  if (!state_file || state_file->empty()) return std::nullopt;  // empty = not configured
  return state_file;
}

}  // namespace

std::optional<fs::path> find_pyproject(const fs::path& start) {
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec).lexically_normal();
  if (ec) return std::nullopt;
  while (true) {
    fs::path candidate = dir / "pyproject.toml";
    if (fs::is_regular_file(candidate, ec) && orchestra_section(parse_pyproject(candidate)))
      return candidate;
    if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
    dir = dir.parent_path();
  }
}

Config load_config(const fs::path& cwd, const Environment& env,
                   const std::optional<fs::path>& project_dir) {
  Config config;
  config.env = env;
  std::optional<std::string> state_file;
  const std::optional<fs::path> from_cwd = find_pyproject(cwd);
  if (project_dir) config.pyproject = find_pyproject(cwd / *project_dir);
  if (!config.pyproject) config.pyproject = from_cwd;
  if (config.pyproject) state_file = read_pyproject(*config.pyproject, config);
  // `debug` belongs to the working directory's pyproject (dbt-orchestra 1.5), not the project's.
  if (config.pyproject != from_cwd) {
    Config cwd_config;
    if (from_cwd) read_pyproject(*from_cwd, cwd_config);
    config.debug = cwd_config.debug;
  }

  // Environment overrides, read as dbt-orchestra 1.5 reads them: a boolean variable counts
  // whenever it is set ("true" in any case is true, anything else, the empty value included,
  // false); a string variable is stripped of surrounding whitespace and counts unless blank.
  const auto flag = [&env](const char* name, bool& setting) {
    if (auto v = env.get(name)) setting = env_bool(*v);
  };
  flag("ORCHESTRA_USE_STATEFUL", config.use_stateful);
  flag("ORCHESTRA_LOCAL_RUN", config.local_run);
  flag("ORCHESTRA_DBT_DEBUG", config.debug);
  flag("ORCHESTRA_SEED_STATE_ORCHESTRATION", config.seed_state_orchestration);
  flag("ORCHESTRA_VERIFY_RELATIONS_EXIST", config.verify_relations_exist);
  flag("ORCHESTRA_REQUIRE_EXPLICIT_SOURCE_FRESHNESS", config.require_explicit_source_freshness);
  flag("ORCHESTRA_SCOPE_SOURCE_FRESHNESS_TO_SELECTION",
       config.scope_source_freshness_to_selection);
  flag("ORCHESTRA_REUSED_IN_RUN_RESULTS", config.reused_in_run_results);
  if (auto v = env.get_stripped("ORCHESTRA_INTEGRATION_ACCOUNT_ID"))
    config.integration_account_id = *v;
  if (auto v = env.get_stripped("ORCHESTRA_REUSE_FROM")) config.reuse_from = *v;
  if (auto v = env.get_stripped("ORCHESTRA_ENV")) {
    std::string lowered = lower(*v);
    if (!is_valid_env(lowered))
      throw Error(fmt::format("environment variable ORCHESTRA_ENV=\"{}\" is not valid: expected "
                              "one of {}",
                              *v, kEnvChoices));
    config.orchestra_env = lowered;
  }

  if (auto v = env.get_nonempty("ORCHESTRA_VOLATILITY")) {
    auto mode = parse_volatility_mode(*v);
    if (!mode)
      throw Error(fmt::format("environment variable ORCHESTRA_VOLATILITY=\"{}\" is not valid: "
                              "expected one of {}",
                              *v, kVolatilityChoices));
    config.volatility = *mode;
  }

  if (auto v = env.get_stripped("ORCHESTRA_STATE_FILE")) {
    config.state_location = resolve_location(*v, cwd);
    config.state_location_origin = "ORCHESTRA_STATE_FILE";
  } else if (state_file) {
    config.state_location = resolve_location(*state_file, config.pyproject->parent_path());
    config.state_location_origin = fmt::format("{}: state_file", config.pyproject->string());
  }
  config.api_key = env.get_stripped("ORCHESTRA_API_KEY");
  return config;
}

SessionSettings session_settings(const Config& config) {
  SessionSettings s;
  s.integration_account_id = config.integration_account_id;
  s.local_run = config.local_run;
  s.decide.seed_state_orchestration = config.seed_state_orchestration;
  s.decide.volatility = config.volatility;
  return s;
}

}  // namespace orc
