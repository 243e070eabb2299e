#include "dbt/run_results.h"

#include <unordered_set>

#include <fmt/format.h>
#include <simdjson.h>

#include "core/error.h"
#include "dbt/run_results_writer.h"

namespace orc {

RunResults parse_run_results(std::string_view json, const std::string& origin) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root))
    throw Error(fmt::format("cannot parse {}: {}", origin, simdjson::error_message(err)));
  RunResults out;
  auto str = [](simdjson::dom::element e, const char* key) {
    std::string_view v;
    if (e[key].get_string().get(v)) return std::string();
    return std::string(v);
  };
  simdjson::dom::element meta;
  if (!root["metadata"].get(meta)) {
    out.invocation_id = str(meta, "invocation_id");
    out.generated_at = str(meta, "generated_at");
    out.dbt_version = str(meta, "dbt_version");
  }
  simdjson::dom::array results;
  if (root["results"].get_array().get(results))
    throw Error(fmt::format("{} is not a dbt run_results.json (no \"results\" array)", origin));
  simdjson::dom::element args;
  if (!root["args"].get(args)) {
    out.command = str(args, "which");
    int64_t threads = 0;
    if (!args["threads"].get_int64().get(threads) && threads > 0 && threads < 1000000)
      out.threads = static_cast<int>(threads);
  }
  std::unordered_set<std::string_view> thread_ids;
  for (simdjson::dom::element r : results) {
    std::string_view thread;
    if (!r["thread_id"].get_string().get(thread) && !thread.empty() && thread != kOrcThreadId)
      thread_ids.insert(thread);
    NodeResult nr;
    nr.unique_id = str(r, "unique_id");
    nr.status = str(r, "status");
    double seconds = 0;
    if (!r["execution_time"].get_double().get(seconds)) nr.execution_time = seconds;
    simdjson::dom::array timing;
    if (!r["timing"].get_array().get(timing)) {
      for (simdjson::dom::element t : timing)
        if (str(t, "name") == "execute") nr.completed_at = str(t, "completed_at");
    }
    if (!nr.unique_id.empty()) out.results.push_back(std::move(nr));
  }
  if (!out.threads && !thread_ids.empty()) out.threads = static_cast<int>(thread_ids.size());
  return out;
}

std::optional<int> build_threads(const std::optional<RunResults>& results) {
  if (!results) return std::nullopt;
  const std::string& c = results->command;
  if (c != "build" && c != "run" && c != "test" && c != "seed" && c != "snapshot")
    return std::nullopt;
  return results->threads;
}

std::optional<RunResults> read_run_results(const std::filesystem::path& path) {
  simdjson::padded_string text;
  if (simdjson::padded_string::load(path.string()).get(text)) return std::nullopt;
  try {
    return parse_run_results(std::string_view(text.data(), text.size()), path.string());
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::string synthetic_run_results(const std::vector<std::string>& unique_ids,
                                  const std::string& dbt_version,
                                  const std::string& generated_at,
                                  const std::string& invocation_id) {
  std::vector<WrittenResult> results;
  results.reserve(unique_ids.size());
  for (const auto& id : unique_ids) results.push_back({id, "success", std::nullopt, "", {}});
  return run_results_document({dbt_version, generated_at, invocation_id, "", "", ""}, results);
}

std::vector<std::string> not_run(const std::vector<std::string>& decided_to_build,
                                 const std::vector<NodeResult>& results) {
  std::unordered_set<std::string_view> ran;
  for (const auto& r : results)
    if (r.status != "skipped") ran.insert(r.unique_id);
  std::vector<std::string> out;
  for (const auto& id : decided_to_build)
    if (!ran.count(id)) out.push_back(id);
  return out;
}

}  // namespace orc
