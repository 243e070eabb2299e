#include "plan/reason.h"

#include <fmt/format.h>

#include "plan/volatility.h"

namespace orc {
namespace {

/// Where a clock read sits, in words ("WHERE", "JOIN ... ON", "the select list", ...).
const char* place_text(ClockPlace place) {
  switch (place) {
    case ClockPlace::SelectList: return "the select list";
    case ClockPlace::Outside: return "an expression outside any clause";
    case ClockPlace::Computed: return "a column computed from other columns";
    case ClockPlace::SubqueryInSelect: return "a subquery in the select list";
    case ClockPlace::From: return "FROM";
    case ClockPlace::JoinOn: return "JOIN ... ON";
    case ClockPlace::Where: return "WHERE";
    case ClockPlace::Having: return "HAVING";
    case ClockPlace::Qualify: return "QUALIFY";
    case ClockPlace::GroupBy: return "GROUP BY";
    case ClockPlace::DistinctOn: return "DISTINCT ON";
    case ClockPlace::Window: return "a window (OVER)";
    case ClockPlace::OrderBy: return "ORDER BY";
    case ClockPlace::Limit: return "LIMIT";
    case ClockPlace::Values: return "VALUES";
    case ClockPlace::Statement: return "a statement that is not a query";
    case ClockPlace::Incremental: return "the incremental predicate (is_incremental())";
    case ClockPlace::JinjaStatement: return "a Jinja statement";
    case ClockPlace::Config: return "config()";
    case ClockPlace::UnknownCall: return "a call orc cannot place";
    case ClockPlace::Python: return "a Python model";
    case ClockPlace::Unparsed: return "code orc cannot follow";
  }
  return "an unknown place";
}

}  // namespace

const char* reason_code_name(ReasonCode code) {
  switch (code) {
    case ReasonCode::FullRefresh: return "full_refresh";
    case ReasonCode::EmptyRun: return "empty_run";
    case ReasonCode::Snapshot: return "snapshot";
    case ReasonCode::SeedAlways: return "seed_always";
    case ReasonCode::PackageModelWithoutParents: return "package_model_without_parents";
    case ReasonCode::AlwaysBuilt: return "always_built";
    case ReasonCode::NoStateEntry: return "no_state_entry";
    case ReasonCode::FingerprintUnrecorded: return "fingerprint_unrecorded";
    case ReasonCode::RelationChanged: return "relation_changed";
    case ReasonCode::AdapterChanged: return "adapter_changed";
    case ReasonCode::CodeChanged: return "code_changed";
    case ReasonCode::MacroChanged: return "macro_changed";
    case ReasonCode::ConfigChanged: return "config_changed";
    case ReasonCode::InputsChanged: return "inputs_changed";
    case ReasonCode::VarChanged: return "var_changed";
    case ReasonCode::EnvVarChanged: return "env_var_changed";
    case ReasonCode::VarNameDynamic: return "var_name_dynamic";
    case ReasonCode::RelationMissing: return "relation_missing";
    case ReasonCode::RelationKindChanged: return "relation_kind_changed";
    case ReasonCode::RelationUnverified: return "relation_unverified";
    case ReasonCode::SourceFreshnessUnknown: return "source_freshness_unknown";
    case ReasonCode::SourceNotRecorded: return "source_not_recorded";
    case ReasonCode::SourceNewData: return "source_new_data";
    case ReasonCode::SourceRelationBuilt: return "source_relation_built";
    case ReasonCode::SourceMarkerChanged: return "source_marker_changed";
    case ReasonCode::ParentBuilt: return "parent_built";
    case ReasonCode::ParentNoEntry: return "parent_no_entry";
    case ReasonCode::ParentNotRecorded: return "parent_not_recorded";
    case ReasonCode::ParentRebuilt: return "parent_rebuilt";
    case ReasonCode::TestsSource: return "tests_source";
    case ReasonCode::Volatile: return "volatile";
    case ReasonCode::UnitTestNeedsModel: return "unit_test_needs_model";
    case ReasonCode::NoNewData: return "no_new_data";
    case ReasonCode::SeedUnchanged: return "seed_unchanged";
    case ReasonCode::BuildAfterWindow: return "build_after_window";
    case ReasonCode::BuildAfterWaitingForAll: return "build_after_waiting_for_all";
    case ReasonCode::TestParentsReused: return "test_parents_reused";
    case ReasonCode::CloneUnchecked: return "clone_unchecked";
    case ReasonCode::TargetHasNoEntry: return "target_has_no_entry";
    case ReasonCode::FingerprintDiffersFromTarget: return "fingerprint_differs_from_target";
    case ReasonCode::ReadsTarget: return "reads_target";
    case ReasonCode::ParentNotCloned: return "parent_not_cloned";
    case ReasonCode::TargetParentVersionDiffers: return "target_parent_version_differs";
    case ReasonCode::NewDataSinceTargetBuild: return "new_data_since_target_build";
    case ReasonCode::TargetRelationMissing: return "target_relation_missing";
    case ReasonCode::TargetRelationUnverified: return "target_relation_unverified";
    case ReasonCode::ParentCloned: return "parent_cloned";
    case ReasonCode::ParentCloneUnchecked: return "parent_clone_unchecked";
    case ReasonCode::CloneFailed: return "clone_failed";
    case ReasonCode::SeedLoadedLikeTarget: return "seed_loaded_like_target";
    case ReasonCode::HooksOnViewClone: return "hooks_on_view_clone";
    case ReasonCode::ClonedFromTarget: return "cloned_from_target";
    case ReasonCode::CloneStillCurrent: return "clone_still_current";
  }
  return "unknown";
}

std::string reason_text(const Reason& r) {
  const std::string& s = r.subject;
  std::string detail = r.detail.empty() ? "" : fmt::format(" ({})", r.detail);
  switch (r.code) {
    case ReasonCode::FullRefresh: return "--full-refresh: reuse is off";
    case ReasonCode::EmptyRun:
      return "--empty/--sample: every selected node is built, with placeholder data";
    case ReasonCode::Snapshot: return "snapshot: always built";
    case ReasonCode::SeedAlways: return "seed: always built (seed_state_orchestration is off)";
    case ReasonCode::PackageModelWithoutParents:
      return fmt::format("model of package {} without parents: always built", s);
    case ReasonCode::AlwaysBuilt: return fmt::format("{}: always built", s);
    case ReasonCode::NoStateEntry: return "no state entry";
    case ReasonCode::FingerprintUnrecorded:
      return "state entry has no fingerprint (written by dbt-orchestra or an older orc)";
    case ReasonCode::RelationChanged: return fmt::format("relation changed{}", detail);
    case ReasonCode::AdapterChanged: return fmt::format("adapter changed{}", detail);
    case ReasonCode::CodeChanged: return fmt::format("code of {} changed", s);
    case ReasonCode::MacroChanged: return fmt::format("macro {} changed{}", s, detail);
    case ReasonCode::ConfigChanged: return fmt::format("config {} changed{}", s, detail);
    case ReasonCode::InputsChanged: return "the relations it reads changed";
    case ReasonCode::VarChanged: return fmt::format("var {} changed{}", s, detail);
    case ReasonCode::EnvVarChanged: return fmt::format("env var {} changed{}", s, detail);
    case ReasonCode::VarNameDynamic:
      return fmt::format("reads a var or env var whose name is not a literal ({})", s);
    case ReasonCode::RelationMissing: return fmt::format("relation {} is missing", s);
    case ReasonCode::RelationKindChanged:
      return fmt::format("relation {} has another kind{}", s, detail);
    case ReasonCode::RelationUnverified:
      return fmt::format("could not check that relation {} exists", s);
    case ReasonCode::SourceFreshnessUnknown:
      return r.detail.empty()
                 ? fmt::format("freshness of {} is unknown (assume new data)", s)
                 : fmt::format("freshness of {} is unknown: {} (assume new data)", s, r.detail);
    case ReasonCode::SourceNotRecorded:
      return fmt::format("no freshness of {} recorded at the last build", s);
    case ReasonCode::SourceNewData: return fmt::format("new data in {} ({})", s, r.detail);
    case ReasonCode::SourceRelationBuilt:
      return fmt::format("source {} reads the relation {} builds in this run", s, r.detail);
    case ReasonCode::SourceMarkerChanged:
      return fmt::format("{} changed without a newer max_loaded_at: its change marker moved "
                         "({})", s, r.detail);
    case ReasonCode::ParentBuilt: return fmt::format("parent {} is built in this run", s);
    case ReasonCode::ParentNoEntry: return fmt::format("parent {} has no state entry", s);
    case ReasonCode::ParentNotRecorded:
      return fmt::format("parent {} was not an input at the last build", s);
    case ReasonCode::ParentRebuilt:
      return fmt::format("parent {} was rebuilt since the last build{}", s, detail);
    case ReasonCode::TestsSource: return fmt::format("tests source {}", s);
    case ReasonCode::UnitTestNeedsModel:
      return fmt::format("unit test {} must run, and dbt runs a unit test only with its model",
                         s);
    case ReasonCode::Volatile:
      if (s.empty()) return "reads the clock or randomness, so every run has new input";
      return fmt::format("reads the clock or randomness ({}, {}), so every run has new input",
                         r.detail, s);
    case ReasonCode::NoNewData: return "no new upstream data since the last build";
    case ReasonCode::SeedUnchanged: return "seed file unchanged since the last build";
    case ReasonCode::BuildAfterWindow:
      return fmt::format("build_after {}: new data waits{}", s, detail);
    case ReasonCode::BuildAfterWaitingForAll:
      return fmt::format("build_after updates_on all{}: {} has no new data yet", detail, s);
    case ReasonCode::TestParentsReused:
      return "all parents reused and unchanged since the last run";
    // --reuse-from: subject the other target (or the parent, source or relation named)
    case ReasonCode::CloneUnchecked:
      return fmt::format("its relation is a clone of target {}'s, checked only with "
                         "--reuse-from {}", s, s);
    case ReasonCode::TargetHasNoEntry:
      return fmt::format("target {} has no state entry of it to clone{}", s, detail);
    case ReasonCode::FingerprintDiffersFromTarget:
      return fmt::format("not cloned: it differs from target {}'s build{}", s, detail);
    case ReasonCode::ReadsTarget:
      return fmt::format("not cloned: its code or a macro it calls reads target.* ({}), so it "
                         "may render differently per target", s);
    case ReasonCode::ParentNotCloned:
      return fmt::format("not cloned: parent {} is not a clone of the other target's{}", s,
                         detail);
    case ReasonCode::TargetParentVersionDiffers:
      return fmt::format("not cloned: the other target built it from another version of "
                         "parent {}{}", s, detail);
    case ReasonCode::NewDataSinceTargetBuild:
      return fmt::format("not cloned: new data in {} since the other target's build{}", s,
                         detail);
    case ReasonCode::TargetRelationMissing:
      return fmt::format("not cloned: the other target's relation {} is missing", s);
    case ReasonCode::TargetRelationUnverified:
      return fmt::format("not cloned: could not check that the other target's relation {} "
                         "exists", s);
    case ReasonCode::ParentCloned: return fmt::format("parent {} is cloned in this run", s);
    case ReasonCode::ParentCloneUnchecked:
      return fmt::format("parent {} is a clone of another target's relation that changed or "
                         "was not checked in this run{}", s, detail);
    case ReasonCode::CloneFailed:
      return fmt::format("dbt clone did not clone it from target {}, so it is built", s);
    case ReasonCode::HooksOnViewClone:
      return fmt::format("not cloned: it has hooks ({}), which dbt clone would run on a view "
                         "(this adapter clones tables as views)", s);
    case ReasonCode::SeedLoadedLikeTarget:
      return fmt::format("loaded from the same file as target {}'s seed (this adapter clones "
                         "tables as views, and dbt cannot seed over a view)", s);
    case ReasonCode::ClonedFromTarget:
      return fmt::format("cloned from target {}: same fingerprint, no new data since its "
                         "build{}", s, detail);
    case ReasonCode::CloneStillCurrent:
      return fmt::format("clone of target {}'s relation, unchanged there since it was cloned",
                         s);
  }
  return "unknown reason";
}

Reason volatile_reason(const Volatility& v) {
  std::string detail;
  if (v.config) detail = "config volatile: true";
  else if (v.read.expression.empty())
    detail = fmt::format("a read in {}", place_text(v.read.place));
  else
    detail = fmt::format("{} in {}", v.read.expression, place_text(v.read.place));
  if (!v.macro.empty()) detail += fmt::format(" (macro {})", v.macro);
  if (!v.view.empty()) detail += fmt::format(" (read live through view {})", v.view);
  return Reason{ReasonCode::Volatile, v.file, std::move(detail)};
}

}  // namespace orc
