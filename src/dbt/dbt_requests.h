#pragma once
// dbt as a stateful run asks things of it, in orc's own terms (docs/design.md, "The run"):
// resolve this selection, answer these warehouse questions, clone these relations in one
// batch, build this command. One implementation speaks dbt command lines through a
// DbtInvoker (`dbt ls`, one `dbt show --inline` query split on failure, one `dbt show
// --inline` clone batch, the build); the workflow's unit tests answer the same requests from
// tables, without reading orc's SQL.
#include <string>
#include <vector>

#include "dbt/clone_batch.h"
#include "dbt/dbt_args.h"
#include "dbt/dbt_invoker.h"
#include "dbt/warehouse_probe.h"
#include "plan/graph.h"

namespace orc {

/// What resolving a selection gave.
struct SelectionAnswer {
  std::vector<std::string> unique_ids;  ///< the nodes dbt selects, as dbt lists them
  int exit_code = 0;  ///< non-zero: dbt failed (its output has been shown to the user)
};

/// The requests a stateful run makes of dbt.
class DbtRequests {
 public:
  virtual ~DbtRequests() = default;
  /// The nodes `dbt <subcommand> <args>` selects; target/manifest.json is written fresh.
  virtual SelectionAnswer resolve(const std::string& subcommand, const DbtArgs& args) = 0;
  /// Answers `request` about `graph` into `result` (ProbeResult: what could not be read is
  /// left out). With `write_manifest` the same dbt invocation writes a fresh
  /// target/manifest.json. Returns false when nothing was asked (no dbt invocation).
  virtual bool ask(const Graph& graph, const ProbeRequest& request, const DbtArgs& args,
                   ProbeResult& result, bool write_manifest) = 0;
  /// Makes every relation of `jobs` in one dbt invocation (clone_batch.h): all of them, or
  /// (Declined, Failed) none that the caller can count on.
  virtual CloneBatchAnswer clone(const std::vector<CloneJob>& jobs, const DbtArgs& args) = 0;
  /// Runs the build `dbt <command>` with the user's terminal; dbt's exit code.
  virtual int build(const std::vector<std::string>& command) = 0;
  /// Every dbt process started so far, with the invocations made inside each.
  virtual std::vector<DbtProcessRecord> processes() const = 0;
};

/// The requests spoken to real dbt through `invoker` (which must outlive this object).
class DbtCommands : public DbtRequests {
 public:
  explicit DbtCommands(DbtInvoker& invoker) : invoker_(invoker) {}
  SelectionAnswer resolve(const std::string& subcommand, const DbtArgs& args) override;
  bool ask(const Graph& graph, const ProbeRequest& request, const DbtArgs& args,
           ProbeResult& result, bool write_manifest) override;
  CloneBatchAnswer clone(const std::vector<CloneJob>& jobs, const DbtArgs& args) override;
  int build(const std::vector<std::string>& command) override;
  std::vector<DbtProcessRecord> processes() const override;

 private:
  DbtInvoker& invoker_;
};

}  // namespace orc
