// libFuzzer target: manifest.json -> Graph (src/dbt/manifest_reader.cc), then every node's
// fingerprint (src/plan/fingerprint.cc, lineage.cc), as `orc dbt build` does with a manifest
// it did not write. The only acceptable failure is orc::Error (a one-line message, exit 1).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "dbt/manifest_reader.h"
#include "plan/fingerprint.h"
#include "plan/lineage.h"

/// libFuzzer entry point: parses `data` as a manifest and fingerprints what it holds.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    orc::Graph graph = orc::parse_manifest(text, "fuzz/manifest.json");
    orc::Lineage lineage(graph);
    orc::FingerprintContext context;
    context.scopes.problem.clear();  // vars resolved from (empty) project var blocks
    context.env = [](const std::string& name) -> std::optional<std::string> {
      if (name.empty() || name.size() % 2) return std::nullopt;
      return name;
    };
    orc::Fingerprinter fingerprinter(graph, lineage, context);
    for (orc::NodeId id = 0; id < graph.nodes.size() && id < 256; ++id) {
      fingerprinter.reads(id);
      fingerprinter.is_volatile(id, orc::VolatilityMode::Filters);
      orc::Fingerprint now = fingerprinter.of(id, nullptr);
      orc::compare_fingerprints(orc::Fingerprint{}, now, graph.nodes[id].unique_id);
    }
  } catch (const orc::Error&) {
  }
  return 0;
}
