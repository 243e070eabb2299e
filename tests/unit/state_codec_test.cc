// The state document: reading the reference's shape, writing what it can read.
#include <gtest/gtest.h>

#include "core/error.h"
#include "state/state.h"

using namespace orc;

TEST(StateCodec, ReadsReferenceShapeWithEveryTimestampStyle) {
  const char* text = R"({"state": {
    "model.p.a": {"checksum": "abc", "last_updated": "2024-05-01T10:00:00Z",
                  "sources": {"source.p.raw.t": "2024-05-01T09:00:00+00:00"}},
    "model.p.b": {"checksum": "def", "last_updated": "2024-05-01T10:00:00.123456",
                  "sources": {}},
    "model.p.c": {"checksum": "ghi", "last_updated": "2024-05-01T12:00:00+02:00",
                  "sources": {}, "custom": [1, 2]}}})";
  State s = parse_state(text, "state.json");
  ASSERT_EQ(s.entries.size(), 3u);
  EXPECT_EQ(s.entries["model.p.a"].sources["source.p.raw.t"], "2024-05-01T09:00:00+00:00");
  EXPECT_FALSE(s.entries["model.p.a"].has_parents);
  EXPECT_EQ(s.entries["model.p.c"].extra_fields, "\"custom\":[1,2]");
}

TEST(StateCodec, RoundTripKeepsShapeValuesAndUnknownFields) {
  const char* text = R"({"state": {"model.p.a": {"checksum": "abc",
      "last_updated": "2024-05-01T10:00:00", "sources": {"s": "2024-05-01T09:00:00Z"},
      "parents": {"model.p.x": "2024-05-01T08:00:00Z"}, "extra": {"k": "v"}}},
      "version": 2})";
  State s = parse_state(text, "x");
  std::string out = serialize_state(s);
  State again = parse_state(out, "y");
  const StateEntry& e = again.entries.at("model.p.a");
  EXPECT_EQ(e.last_updated, "2024-05-01T10:00:00") << "timestamps are kept as written";
  EXPECT_EQ(e.parents.at("model.p.x"), "2024-05-01T08:00:00Z");
  EXPECT_TRUE(e.has_parents);
  EXPECT_EQ(e.extra_fields, "\"extra\":{\"k\":\"v\"}");
  EXPECT_NE(out.find("\"version\":2"), std::string::npos);
  EXPECT_EQ(serialize_state(again), out);
}

TEST(StateCodec, EmptyState) {
  State s = parse_state(R"({"state":{}})", "x");
  EXPECT_TRUE(s.entries.empty());
  EXPECT_EQ(serialize_state(s), "{\"state\": {}}\n");
}

TEST(StateCodec, RejectsWrongShapesWithClearMessages) {
  auto message = [](const char* text) {
    try {
      parse_state(text, "/tmp/st.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("[1,2]").find("/tmp/st.json"), std::string::npos);
  EXPECT_NE(message("[1,2]").find("top level is not a JSON object"), std::string::npos);
  EXPECT_NE(message("{\"state\": ").find("not valid JSON"), std::string::npos);
  EXPECT_NE(message("{}").find("no \"state\" key"), std::string::npos);
  EXPECT_NE(message("{\"state\": []}").find("\"state\" is not an object"), std::string::npos);
  EXPECT_NE(message("{\"state\": {\"m\": 3}}").find("entry \"m\" is not an object"),
            std::string::npos);
  EXPECT_NE(message("{\"state\": {\"m\": {\"sources\": 3}}}").find("field \"sources\""),
            std::string::npos);
}

TEST(StateMerge, NewerLastUpdatedWinsPerEntry) {
  State base = parse_state(R"({"state": {
      "a": {"checksum": "old", "last_updated": "2024-05-01T10:00:00Z", "sources": {}},
      "b": {"checksum": "newer-in-base", "last_updated": "2024-05-01T12:00:00Z", "sources": {}}}})",
                           "base");
  State updates = parse_state(R"({"state": {
      "a": {"checksum": "new", "last_updated": "2024-05-01T11:00:00+00:00", "sources": {}},
      "b": {"checksum": "older", "last_updated": "2024-05-01T13:00:00+02:00", "sources": {}},
      "c": {"checksum": "added", "last_updated": "2024-05-01T09:00:00", "sources": {}}}})",
                              "updates");
  EXPECT_EQ(merge_state(base, updates), 2u);
  EXPECT_EQ(base.entries["a"].checksum, "new");
  EXPECT_EQ(base.entries["b"].checksum, "newer-in-base");
  EXPECT_EQ(base.entries["c"].checksum, "added");
}

TEST(StateMerge, AccountFilterKeepsOnlyPrefixedKeys) {
  State s = parse_state(R"({"state": {"acct.x": {"checksum": "1", "last_updated": "", "sources": {}},
      "other.y": {"checksum": "2", "last_updated": "", "sources": {}},
      "acctx.z": {"checksum": "3", "last_updated": "", "sources": {}}}})",
                        "x");
  State f = filter_for_account(s, "acct");
  ASSERT_EQ(f.entries.size(), 1u);
  EXPECT_TRUE(f.entries.count("acct.x"));
}
