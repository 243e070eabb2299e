#pragma once
// Whether a node must be built on every run because its result depends on the clock or on
// randomness, and why (DESIGN.md section 2, rule 9). Pure: reads only the graph.
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "plan/clock_reads.h"
#include "plan/graph.h"
#include "plan/lineage.h"
#include "plan/volatility_mode.h"

namespace orc {

/// Why a node is volatile: the config that says so, or the read found and where it is.
struct Volatility {
  bool config = false;  ///< its own (or an inlined ephemeral's) `volatile: true`
  std::string file;     ///< the file holding the read or the config (node, ephemeral, macro)
  ClockRead read;       ///< the read (empty expression when `config`)
  std::string macro;    ///< the macro (unique_id) whose body holds the read, if one does
  std::string view;     ///< the view (unique_id) it reads live whose code holds it, if any
};

/// Judges nodes one at a time, memoising what each node's code and each macro reads; linear in
/// the code it scans, and only code that reads the clock at all is classified.
class VolatilityJudge {
 public:
  VolatilityJudge(const Graph& graph, Lineage& lineage);

  /// Whether a node's code, an ephemeral ancestor's or a macro it calls reads the clock
  /// anywhere, comments included (the plain scan: what `any` judges by, and what lets every
  /// other node skip the classification).
  using ReadsAnywhere = std::function<bool(NodeId)>;

  /// Why node `id` must be built on every run under `mode`, or nullopt. Its `volatile` config
  /// decides when set; an inlined ephemeral's `volatile: true` counts as its own.
  std::optional<Volatility> judge(NodeId id, VolatilityMode mode,
                                  const ReadsAnywhere& reads_anywhere);

 private:
  /// What a macro's body (with the macros it calls) reads.
  struct MacroClock {
    bool reads = false;                 ///< reads the clock anywhere, callees included
    std::optional<Volatility> finding;  ///< a read at a volatile place in it or its callees
  };
  /// What a node's code (with its ephemeral ancestors and the macros they call) reads.
  struct CodeClock {
    std::optional<Volatility> finding;  ///< the first read at a volatile place
    std::optional<Volatility> first;    ///< the first read anywhere
  };

  const MacroClock& macro_clock(uint32_t macro);
  /// True when `macro` or a macro it reaches reads the clock anywhere (used inside a cycle).
  bool closure_reads(uint32_t macro) const;
  const CodeClock& code_clock(NodeId id);
  /// The reads of one node's own code (not its ephemerals'), into `out`.
  void scan_unit(NodeId unit, CodeClock& out);
  /// The project and package macros `deps` names (dbt's and the adapters' left out).
  std::vector<uint32_t> callees(const std::vector<std::string>& deps) const;
  /// Under `filters`: the first view node `id` reads live whose own code reads the clock at a
  /// volatile place (a view is evaluated when read, so its reader holds the result).
  std::optional<Volatility> through_views(NodeId id, const ReadsAnywhere& reads_anywhere);

  const Graph& g_;
  Lineage& lineage_;
  std::vector<uint8_t> macro_state_;  ///< 0 not judged, 1 being judged (a cycle), 2 judged
  std::vector<MacroClock> macros_;
  /// Per node classified (only those whose plain scan finds a read; references stay valid).
  std::unordered_map<NodeId, CodeClock> codes_;
};

}  // namespace orc
