#include "dbt/run_results_writer.h"

#include <cctype>
#include <unordered_set>

#include <fmt/format.h>
#include <simdjson.h>

#include "core/error.h"
#include "core/json_writer.h"
#include "dbt/run_results.h"

namespace orc {

namespace {

namespace od = simdjson::ondemand;

/// The leading number of `text` from `pos` (advanced past it and one '.'); nullopt if none.
std::optional<int> version_part(std::string_view text, size_t& pos) {
  size_t start = pos;
  int value = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) &&
         pos - start < 6)
    value = value * 10 + (text[pos++] - '0');
  if (pos == start) return std::nullopt;
  if (pos < text.size() && text[pos] == '.') ++pos;
  return value;
}

void append_result(std::string& out, const WrittenResult& r) {
  out += "{\"status\": ";
  append_json_string(out, r.status);
  out += ", \"timing\": [], \"thread_id\": ";
  append_json_string(out, kOrcThreadId);
  out += ", \"execution_time\": 0.0, \"adapter_response\": {}, \"message\": ";
  if (r.message) append_json_string(out, *r.message);
  else out += "null";
  out += ", \"failures\": ";
  out += r.failures ? std::to_string(*r.failures) : std::string("null");
  out += ", \"unique_id\": ";
  append_json_string(out, r.unique_id);
  out += ", \"compiled\": null, \"compiled_code\": null, \"relation_name\": ";
  if (r.relation_name.empty()) out += "null";
  else append_json_string(out, r.relation_name);
  out += ", \"batch_results\": null}";
}

/// The raw text of the top-level "results" array of `padded` (from '[' to its ']', possibly
/// with whitespace after it); throws orc::Error when there is none.
std::string_view results_array_text(const simdjson::padded_string& padded,
                                    const std::string& origin) {
  od::parser parser;
  od::document doc;
  od::object root;
  if (!parser.iterate(padded).get(doc) && !doc.get_object().get(root)) {
    for (auto field : root) {
      std::string_view key;
      if (field.unescaped_key().get(key)) break;
      if (key != "results") continue;
      od::array array;
      std::string_view raw;
      if (!field.value().get_array().get(array) && !array.raw_json().get(raw)) return raw;
      break;
    }
  }
  throw Error(fmt::format("{} is not a dbt run_results.json (no \"results\" array)", origin));
}

}  // namespace

std::string reused_status(std::string_view dbt_version) {
  size_t pos = 0;
  auto major = version_part(dbt_version, pos);
  auto minor = version_part(dbt_version, pos);
  const bool knows_reused = major && minor && (*major > 1 || (*major == 1 && *minor >= 12));
  return knows_reused ? "reused" : "no-op";
}

std::string run_results_document(const RunResultsHeader& h,
                                 const std::vector<WrittenResult>& results) {
  std::string out;
  out.reserve(512 + results.size() * 300);
  out += "{\"metadata\": {\"dbt_schema_version\": "
         "\"https://schemas.getdbt.com/dbt/run-results/v6.json\", \"dbt_version\": ";
  append_json_string(out, h.dbt_version);
  out += ", \"generated_at\": ";
  append_json_string(out, h.generated_at);
  out += ", \"invocation_id\": ";
  append_json_string(out, h.invocation_id);
  if (!h.invocation_started_at.empty()) {
    out += ", \"invocation_started_at\": ";
    append_json_string(out, h.invocation_started_at);
  }
  out += ", \"env\": {}}, \"results\": [";
  bool first = true;
  for (const auto& r : results) {
    out += first ? "\n" : ",\n";
    first = false;
    append_result(out, r);
  }
  out += "], \"elapsed_time\": 0.0, \"args\": {";
  if (!h.command.empty()) {
    out += "\"which\": ";
    append_json_string(out, h.command);
    if (!h.invocation_command.empty()) {
      out += ", \"invocation_command\": ";
      append_json_string(out, h.invocation_command);
    }
  }
  out += "}}\n";
  return out;
}

std::string with_added_results(std::string_view dbt_json, const std::vector<WrittenResult>& added,
                               const std::string& origin) {
  RunResults existing = parse_run_results(dbt_json, origin);
  std::unordered_set<std::string> have;
  for (const auto& r : existing.results) have.insert(r.unique_id);

  simdjson::padded_string padded(dbt_json);
  std::string_view array = results_array_text(padded, origin);
  const size_t open = static_cast<size_t>(array.data() - padded.data());
  const size_t close = open + array.find_last_of(']');
  bool empty = true;
  for (size_t i = open + 1; i < close && empty; ++i)
    empty = std::isspace(static_cast<unsigned char>(dbt_json[i])) != 0;

  std::string inserted;
  for (const auto& r : added) {
    if (!have.insert(r.unique_id).second) continue;
    if (!empty) inserted += ", ";
    empty = false;
    append_result(inserted, r);
  }
  std::string out;
  out.reserve(dbt_json.size() + inserted.size());
  out.append(dbt_json.substr(0, close));
  out += inserted;
  out.append(dbt_json.substr(close));
  return out;
}

}  // namespace orc
