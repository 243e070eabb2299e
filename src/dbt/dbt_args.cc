#include "dbt/dbt_args.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace orc {
namespace {

enum class Arity : uint8_t { None, One, Many };

struct OptionSpec {
  std::string_view name;       ///< spelling the user may type
  std::string_view canonical;  ///< long name used for decisions
  Arity arity;
  ArgRole role;
};

// dbt-core 1.10–1.12 options of build/run/test that take values or matter for rewriting.
// Boolean flags not listed here are RunOnly (or Project when listed).
constexpr std::array kOptions = {
    OptionSpec{"-s", "--select", Arity::Many, ArgRole::Selection},
    OptionSpec{"-m", "--select", Arity::Many, ArgRole::Selection},
    OptionSpec{"--select", "--select", Arity::Many, ArgRole::Selection},
    OptionSpec{"--models", "--select", Arity::Many, ArgRole::Selection},
    OptionSpec{"--model", "--select", Arity::Many, ArgRole::Selection},
    OptionSpec{"--exclude", "--exclude", Arity::Many, ArgRole::Selection},
    OptionSpec{"--selector", "--selector", Arity::One, ArgRole::Selection},
    OptionSpec{"--resource-type", "--resource-type", Arity::Many, ArgRole::Selection},
    OptionSpec{"--resource-types", "--resource-type", Arity::Many, ArgRole::Selection},
    OptionSpec{"--exclude-resource-type", "--exclude-resource-type", Arity::Many,
               ArgRole::Selection},
    OptionSpec{"--exclude-resource-types", "--exclude-resource-type", Arity::Many,
               ArgRole::Selection},
    OptionSpec{"--indirect-selection", "--indirect-selection", Arity::One, ArgRole::Selection},
    OptionSpec{"--state", "--state", Arity::One, ArgRole::State},
    OptionSpec{"--defer-state", "--defer-state", Arity::One, ArgRole::Defer},
    OptionSpec{"--defer", "--defer", Arity::None, ArgRole::Defer},
    OptionSpec{"--no-defer", "--no-defer", Arity::None, ArgRole::Defer},
    OptionSpec{"--favor-state", "--favor-state", Arity::None, ArgRole::Defer},
    OptionSpec{"--no-favor-state", "--no-favor-state", Arity::None, ArgRole::Defer},
    OptionSpec{"--project-dir", "--project-dir", Arity::One, ArgRole::Project},
    OptionSpec{"--profiles-dir", "--profiles-dir", Arity::One, ArgRole::Project},
    OptionSpec{"--profile", "--profile", Arity::One, ArgRole::Project},
    OptionSpec{"-t", "--target", Arity::One, ArgRole::Project},
    OptionSpec{"--target", "--target", Arity::One, ArgRole::Project},
    OptionSpec{"--vars", "--vars", Arity::One, ArgRole::Project},
    OptionSpec{"--target-path", "--target-path", Arity::One, ArgRole::Project},
    OptionSpec{"--log-path", "--log-path", Arity::One, ArgRole::Project},
    OptionSpec{"--partial-parse", "--partial-parse", Arity::None, ArgRole::Project},
    OptionSpec{"--no-partial-parse", "--no-partial-parse", Arity::None, ArgRole::Project},
    OptionSpec{"--static-parser", "--static-parser", Arity::None, ArgRole::Project},
    OptionSpec{"--no-static-parser", "--no-static-parser", Arity::None, ArgRole::Project},
    OptionSpec{"--use-experimental-parser", "--use-experimental-parser", Arity::None,
               ArgRole::Project},
    OptionSpec{"--no-use-experimental-parser", "--no-use-experimental-parser", Arity::None,
               ArgRole::Project},
    OptionSpec{"--threads", "--threads", Arity::One, ArgRole::RunOnly},
    OptionSpec{"--log-format", "--log-format", Arity::One, ArgRole::RunOnly},
    OptionSpec{"--log-format-file", "--log-format-file", Arity::One, ArgRole::RunOnly},
    OptionSpec{"--log-level", "--log-level", Arity::One, ArgRole::RunOnly},
    OptionSpec{"--log-level-file", "--log-level-file", Arity::One, ArgRole::RunOnly},
    OptionSpec{"--printer-width", "--printer-width", Arity::One, ArgRole::RunOnly},
    OptionSpec{"-r", "--record-timing-info", Arity::One, ArgRole::RunOnly},
    OptionSpec{"--record-timing-info", "--record-timing-info", Arity::One, ArgRole::RunOnly},
    OptionSpec{"--warn-error-options", "--warn-error-options", Arity::One, ArgRole::RunOnly},
    OptionSpec{"--event-time-start", "--event-time-start", Arity::One, ArgRole::RunOnly},
    OptionSpec{"--event-time-end", "--event-time-end", Arity::One, ArgRole::RunOnly},
    OptionSpec{"--sample", "--sample", Arity::One, ArgRole::RunOnly},
    OptionSpec{"--sample-window", "--sample-window", Arity::One, ArgRole::RunOnly},
    OptionSpec{"--deprecated-favor-state", "--deprecated-favor-state", Arity::One,
               ArgRole::RunOnly},
    OptionSpec{"-f", "--full-refresh", Arity::None, ArgRole::RunOnly},
    OptionSpec{"--full-refresh", "--full-refresh", Arity::None, ArgRole::RunOnly},
};

const OptionSpec* find_option(std::string_view name) {
  for (const auto& o : kOptions)
    if (o.name == name) return &o;
  return nullptr;
}

bool is_option(const std::string& token) { return token.size() > 1 && token[0] == '-'; }

void append(std::vector<std::string>& out, const std::vector<std::string>& more) {
  out.insert(out.end(), more.begin(), more.end());
}

}  // namespace

std::optional<int> parse_thread_count(std::string_view text) {
  if (text.empty() || text.size() > 6) return std::nullopt;
  int n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n <= 0) return std::nullopt;
  return n;
}

DbtArgs parse_dbt_args(const std::vector<std::string>& args) {
  DbtArgs out;
  for (size_t i = 0; i < args.size();) {
    const std::string& tok = args[i];
    ArgGroup g;
    g.tokens.push_back(tok);
    std::string name = tok;
    std::optional<std::string> inline_value;
    if (auto eq = tok.find('='); tok.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = tok.substr(0, eq);
      inline_value = tok.substr(eq + 1);
    }
    ++i;
    const OptionSpec* spec = is_option(tok) ? find_option(name) : nullptr;
    Arity arity = spec ? spec->arity : Arity::None;
    g.role = spec ? spec->role : ArgRole::RunOnly;
    g.name = spec ? std::string(spec->canonical) : name;
    if (inline_value) {
      g.values.push_back(*inline_value);
    } else if (arity == Arity::One) {
      if (i < args.size()) {
        g.tokens.push_back(args[i]);
        g.values.push_back(args[i++]);
      }
    } else if (arity == Arity::Many) {
      while (i < args.size() && !is_option(args[i])) {
        g.tokens.push_back(args[i]);
        g.values.push_back(args[i++]);
      }
    } else if (!spec && is_option(tok) && i < args.size() && !is_option(args[i])) {
      g.tokens.push_back(args[i]);  // unknown option: take its value along
      g.values.push_back(args[i++]);
    }
    const std::string* value = g.values.empty() ? nullptr : &g.values.front();
    if (g.name == "--full-refresh") out.full_refresh = true;
    else if (g.name == "--defer") out.defer = true;
    else if (g.name == "--no-defer") out.defer = false;
    else if (g.name == "--resource-type") out.has_resource_type = true;
    else if (g.name == "--empty" || g.name == "--sample") out.placeholder_data = true;
    else if (g.name == "--no-empty") out.placeholder_data = false;
    else if (value && g.name == "--project-dir") out.project_dir = *value;
    else if (value && g.name == "--target-path") out.target_path = *value;
    else if (value && g.name == "--profiles-dir") out.profiles_dir = *value;
    else if (value && g.name == "--target") out.target = *value;
    else if (value && g.name == "--state") out.state = *value;
    else if (value && g.name == "--defer-state") out.defer_state = *value;
    else if (value && g.name == "--threads") out.threads = parse_thread_count(*value);
    out.groups.push_back(std::move(g));
  }
  return out;
}

bool dbt_env_flag(const Environment& env, const std::string& name) {
  std::optional<std::string> v = env.get(name);
  if (!v) return false;
  const auto space = [](unsigned char ch) { return std::isspace(ch) != 0; };
  auto begin = std::find_if_not(v->begin(), v->end(), space);
  auto end = std::find_if_not(v->rbegin(), v->rend(), space).base();
  std::string t;
  for (auto it = begin; it < end; ++it)
    t += static_cast<char>(std::tolower(static_cast<unsigned char>(*it)));
  return t == "1" || t == "true" || t == "t" || t == "yes" || t == "y" || t == "on";
}

DbtArgs parse_dbt_args(const std::vector<std::string>& args, const Environment& env) {
  DbtArgs out = parse_dbt_args(args);
  if (dbt_env_flag(env, "DBT_FULL_REFRESH")) out.full_refresh = true;
  const bool empty_flag = std::any_of(out.groups.begin(), out.groups.end(), [](const ArgGroup& g) {
    return g.name == "--empty" || g.name == "--no-empty";
  });
  if (!empty_flag && dbt_env_flag(env, "DBT_EMPTY")) out.placeholder_data = true;  // flag wins
  return out;
}

std::vector<std::string> project_arguments(const DbtArgs& args) {
  std::vector<std::string> out;
  for (const auto& g : args.groups)
    if (g.role == ArgRole::Project) append(out, g.tokens);
  return out;
}

std::vector<std::string> show_inline_arguments(const std::string& query, bool write_json,
                                               const std::vector<std::string>& project_args) {
  std::vector<std::string> out = {"show", "--inline", query, "--output", "json", "--limit", "-1",
                                  "--quiet", write_json ? "--write-json" : "--no-write-json",
                                  "--log-format", "text", "--no-use-colors"};
  append(out, project_args);
  return out;
}

std::vector<std::string> ls_arguments(const std::string& subcommand, const DbtArgs& args) {
  std::vector<std::string> out = {"ls"};
  for (const auto& g : args.groups) {
    if (g.role == ArgRole::RunOnly) continue;
    if (g.name == "--select") {
      // In `dbt ls`, -m/--models is a separate option that cannot be combined with
      // --resource-type; for build/run/test it is --select, so hand ls --select.
      out.push_back("--select");
      append(out, g.values);
    } else {
      append(out, g.tokens);
    }
  }
  if (subcommand == "run") {
    append(out, {"--resource-type", "model"});
  } else if (subcommand == "test" && !args.has_resource_type) {
    append(out, {"--resource-type", "test", "--resource-type", "unit_test"});
  }
  append(out, {"--output", "json", "--output-keys", "unique_id", "--quiet", "--log-format",
               "text", "--no-use-colors"});
  return out;
}

std::vector<std::string> run_arguments(const std::string& subcommand, const DbtArgs& args,
                                       const std::string& private_state_dir,
                                       const Environment& env) {
  std::vector<std::string> out = {subcommand};
  for (const auto& g : args.groups)
    if (g.role == ArgRole::Project || g.role == ArgRole::Defer || g.role == ArgRole::RunOnly)
      append(out, g.tokens);
  // dbt also defers when DBT_DEFER is set in the environment.
  auto env_defer = env.get_nonempty("DBT_DEFER");
  const bool defer = args.defer || (env_defer && (*env_defer == "1" || *env_defer == "true" ||
                                                  *env_defer == "True"));
  if (defer && !args.defer_state && !env.get_nonempty("DBT_DEFER_STATE")) {
    // Our --state points at the private selection; deferral must keep the user's state.
    std::optional<std::string> user_state = args.state;
    if (!user_state) user_state = env.get_nonempty("DBT_STATE");
    if (user_state) append(out, {"--defer-state", *user_state});
  }
  append(out, {"--select", "result:success", "--state", private_state_dir,
               "--indirect-selection", "empty"});
  return out;
}

std::vector<std::string> clone_arguments(const DbtArgs& args, const std::string& private_state_dir) {
  std::vector<std::string> out = {"clone"};
  for (const auto& g : args.groups)
    if (g.role == ArgRole::Project || g.name == "--threads") append(out, g.tokens);
  append(out, {"--select", "result:success", "--state", private_state_dir, "--full-refresh"});
  return out;
}

}  // namespace orc
