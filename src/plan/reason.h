#pragma once
// Why a node is built or reused, as data: a code, the subject it names (a node, source, macro,
// config key, var...) and optional detail (old -> new). The human text is derived here only.
#include <cstdint>
#include <string>

namespace orc {

/// Every reason a decision can give. Names (reason_code_name) are part of orc_decisions.json.
enum class ReasonCode : uint8_t {
  // build
  FullRefresh,
  EmptyRun,
  Snapshot,
  SeedAlways,
  PackageModelWithoutParents,
  AlwaysBuilt,
  NoStateEntry,
  FingerprintUnrecorded,
  RelationChanged,
  AdapterChanged,
  CodeChanged,
  MacroChanged,
  ConfigChanged,
  InputsChanged,
  VarChanged,
  EnvVarChanged,
  VarNameDynamic,
  RelationMissing,
  RelationKindChanged,
  RelationUnverified,
  SourceFreshnessUnknown,
  SourceNotRecorded,
  SourceNewData,
  SourceRelationBuilt,
  SourceMarkerChanged,
  ParentBuilt,
  ParentNoEntry,
  ParentNotRecorded,
  ParentRebuilt,
  TestsSource,
  Volatile,
  UnitTestNeedsModel,
  // build, under --reuse-from (why a node was not cloned from the other target)
  CloneUnchecked,
  TargetHasNoEntry,
  FingerprintDiffersFromTarget,
  ReadsTarget,
  ParentNotCloned,
  TargetParentVersionDiffers,
  NewDataSinceTargetBuild,
  TargetRelationMissing,
  TargetRelationUnverified,
  ParentCloned,
  ParentCloneUnchecked,
  CloneFailed,
  SeedLoadedLikeTarget,
  HooksOnViewClone,
  // clone
  ClonedFromTarget,
  // reuse
  NoNewData,
  SeedUnchanged,
  BuildAfterWindow,
  BuildAfterWaitingForAll,
  TestParentsReused,
  CloneStillCurrent,
};

/// A decision's reason: code, subject (may be empty) and detail (may be empty).
struct Reason {
  ReasonCode code = ReasonCode::NoStateEntry;
  std::string subject;
  std::string detail;
};

/// The stable snake_case name of a code (e.g. "macro_changed").
const char* reason_code_name(ReasonCode code);

/// The one-line human text of a reason (e.g. "macro macro.shop.money changed").
std::string reason_text(const Reason& reason);

struct Volatility;
/// The `volatile` reason of a finding: subject its file, detail what was read where (e.g.
/// "current_timestamp in WHERE") or "config volatile: true".
Reason volatile_reason(const Volatility& finding);

}  // namespace orc
