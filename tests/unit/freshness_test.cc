// The freshness query orc hands to `dbt show`, and reading its output.
#include <gtest/gtest.h>

#include "core/error.h"
#include "dbt/freshness.h"

using namespace orc;

TEST(Freshness, QueryCoversEveryShape) {
  Graph g;
  Node a;
  a.unique_id = "source.p.shop.orders";
  a.kind = NodeKind::Source;
  a.source_name = "shop";
  a.name = "orders";
  a.loaded_at_field = "loaded_at";
  a.freshness_filter = "loaded_at > '2020-01-01'";
  Node b = a;
  b.unique_id = "source.p.shop.pay'ments";
  b.name = "payments";
  b.loaded_at_field.clear();
  b.loaded_at_query = "select max(loaded_at) from {{ this }}";
  NodeId ia = g.add(a), ib = g.add(b);
  std::string q = freshness_query(g, {ia, ib});
  EXPECT_NE(q.find("cast(max(loaded_at) as {{ dbt.type_string() }})"), std::string::npos) << q;
  EXPECT_NE(q.find("from {{ source('shop', 'orders') }} where loaded_at > '2020-01-01'"),
            std::string::npos)
      << q;
  EXPECT_NE(q.find("union all"), std::string::npos);
  EXPECT_NE(q.find("'source.p.shop.pay''ments'"), std::string::npos) << "quotes escaped";
  EXPECT_NE(q.find("(select max(loaded_at) from {{ source('shop', 'payments') }})"),
            std::string::npos)
      << "`this` bound to the source: " << q;
}

TEST(Freshness, ParsesShowOutputInEveryTimestampStyle) {
  const char* out = R"(12:00:00  some warning line
{
  "show": [
    {"orc_source_id": "source.p.a", "orc_max_loaded_at": "2026-11-23 00:37:55.451365+00"},
    {"orc_source_id": "source.p.b", "orc_max_loaded_at": "2026-11-23 00:37:55.452929"},
    {"orc_source_id": "source.p.c", "orc_max_loaded_at": null},
    {"orc_source_id": "source.p.d", "orc_max_loaded_at": "2026-11-23T02:37:55+02:00"}
  ]
}
)";
  FreshnessMap m = parse_freshness_output(out);
  EXPECT_EQ(m.at("source.p.a"), "2026-11-23T00:37:55.451365Z");
  EXPECT_EQ(m.at("source.p.b"), "2026-11-23T00:37:55.452929Z") << "naive = UTC";
  EXPECT_EQ(m.at("source.p.c"), std::nullopt) << "empty table: unknown";
  EXPECT_EQ(m.at("source.p.d"), "2026-11-23T00:37:55Z");
}

TEST(Freshness, NoShowOutputIsAnError) {
  EXPECT_THROW(parse_freshness_output("Runtime Error: relation does not exist"), Error);
}
