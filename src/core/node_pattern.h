#pragma once
// Which nodes (or state keys) a user's pattern names: `orc state forget`, `orc state show`,
// `orc explain`, `orc dag --filter`.
#include <string>
#include <string_view>

namespace orc {

/// True when `pattern` names `id` (a unique_id or a state key; a `@relation` suffix of a
/// per-relation key is ignored): the pattern equals or glob-matches (`*`, `?`, `[...]`) the
/// whole id or one of its dot-separated tails, so `stg_orders`, `orc_tutorial.stg_*`,
/// `model.orc_tutorial.stg_orders` and `model.*` all name model.orc_tutorial.stg_orders. An
/// account-scoped key (`42."db"."main"."stg_orders"`) is also matched without its quotes, so
/// `stg_orders` and `main.stg_*` name it too.
bool matches_node_pattern(const std::string& pattern, std::string_view id);

/// The id without a per-relation key's `@relation` suffix.
std::string_view strip_relation_suffix(std::string_view key);

}  // namespace orc
