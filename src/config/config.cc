#include "config/config.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <sstream>
#include <system_error>
#include <toml++/toml.h>

#include "core/error.h"

namespace orc {
namespace fs = std::filesystem;

namespace {

constexpr const char* kSection = "[tool.orchestra_dbt]";
constexpr const char* kEnvChoices = "app, stage or dev (case-insensitive)";

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

/// Reads [tool.orchestra_dbt] from `file` into `config` (pyproject layer of the precedence).
/// Returns the raw `state_file` value, if set.
std::optional<std::string> read_pyproject(const fs::path& file, Config& config) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    if (where.line == 0)
      throw Error(fmt::format("{}: cannot read the file: {}", file.string(), e.description()));
    throw Error(fmt::format("{}:{}:{}: invalid TOML: {}", file.string(), where.line,
                            where.column, e.description()));
  }
  const toml::node* tool = root.get("tool");
  if (!tool) return std::nullopt;
  const toml::table* tool_table = tool->as_table();
  if (!tool_table) return std::nullopt;  // `tool` is not ours to validate
  const toml::node* section = tool_table->get("orchestra_dbt");
  if (!section) return std::nullopt;
  const toml::table* t = section->as_table();
  if (!t)
    throw Error(fmt::format("{}: {} must be a table of settings, not {}", file.string(), kSection,
                            show(*section)));

  if (auto v = toml_bool(*t, file, "use_stateful")) config.use_stateful = *v;
  if (auto v = toml_bool(*t, file, "local_run")) config.local_run = *v;
  if (auto v = toml_bool(*t, file, "debug")) config.debug = *v;
  if (auto v = toml_bool(*t, file, "seed_state_orchestration")) config.seed_state_orchestration = *v;
  if (auto v = toml_bool(*t, file, "verify_relations_exist")) config.verify_relations_exist = *v;
  if (auto v = toml_string(*t, file, "orchestra_env", std::string("one of ") + kEnvChoices)) {
    std::string lowered = lower(*v);
    if (!is_valid_env(lowered))
      throw bad_value(file, "orchestra_env", *t->get("orchestra_env"),
                      std::string("one of ") + kEnvChoices);
    config.orchestra_env = lowered;
  }
  if (auto v = toml_string(*t, file, "integration_account_id", "a string (in quotes)"))
    config.integration_account_id = *v;
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
    if (fs::is_regular_file(candidate, ec)) return candidate;
    if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
    dir = dir.parent_path();
  }
}

Config load_config(const fs::path& cwd, const Environment& env) {
  Config config;
  config.env = env;
  std::optional<std::string> state_file;
  config.pyproject = find_pyproject(cwd);
  if (config.pyproject) state_file = read_pyproject(*config.pyproject, config);

  // Environment overrides (an empty variable counts as unset).
  if (auto v = env.get_nonempty("ORCHESTRA_USE_STATEFUL")) config.use_stateful = env_bool(*v);
  if (auto v = env.get_nonempty("ORCHESTRA_LOCAL_RUN")) config.local_run = env_bool(*v);
  if (auto v = env.get_nonempty("ORCHESTRA_DBT_DEBUG")) config.debug = env_bool(*v);
  if (auto v = env.get_nonempty("ORCHESTRA_SEED_STATE_ORCHESTRATION"))
    config.seed_state_orchestration = env_bool(*v);
  if (auto v = env.get_nonempty("ORCHESTRA_VERIFY_RELATIONS_EXIST"))
    config.verify_relations_exist = env_bool(*v);
  if (auto v = env.get_nonempty("ORCHESTRA_INTEGRATION_ACCOUNT_ID"))
    config.integration_account_id = *v;
  if (auto v = env.get_nonempty("ORCHESTRA_ENV")) {
    std::string lowered = lower(*v);
    if (!is_valid_env(lowered))
      throw Error(fmt::format("environment variable ORCHESTRA_ENV=\"{}\" is not valid: expected "
                              "one of {}",
                              *v, kEnvChoices));
    config.orchestra_env = lowered;
  }

  if (auto v = env.get_nonempty("ORCHESTRA_STATE_FILE")) {
    config.state_location = resolve_location(*v, cwd);
    config.state_location_origin = "ORCHESTRA_STATE_FILE";
  } else if (state_file) {
    config.state_location = resolve_location(*state_file, config.pyproject->parent_path());
    config.state_location_origin = fmt::format("{}: state_file", config.pyproject->string());
  }
  config.api_key = env.get_nonempty("ORCHESTRA_API_KEY");
  return config;
}

}  // namespace orc
