// The state document: reading the reference's shape, writing what it can read.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "core/file_io.h"
#include "core/temp_dir.h"
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

TEST(StateCodec, ChangeMarkersRoundTripInTheirOwnField) {
  StateEntry e;
  e.checksum = "abc";
  e.last_updated = "2024-05-01T10:00:00Z";
  e.sources["source.p.raw.t"] = "2024-05-01T09:00:00Z";
  e.source_markers["source.p.raw.t"] = "n:5|dml:17";
  State s;
  s.entries["model.p.a"] = e;
  std::string out = serialize_state(s);
  EXPECT_NE(out.find(R"("orc_source_markers": {"source.p.raw.t":"n:5|dml:17"})"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(R"("sources": {"source.p.raw.t":"2024-05-01T09:00:00Z"})"),
            std::string::npos)
      << "`sources` (read by the reference) keeps the timestamp only: " << out;
  State again = parse_state(out, "y");
  EXPECT_EQ(again.entries.at("model.p.a").source_markers, e.source_markers);
  EXPECT_TRUE(again.entries.at("model.p.a").extra_fields.empty());
  EXPECT_EQ(serialize_state(again), out);

  e.source_markers.clear();  // nothing recorded: no field at all
  s.entries["model.p.a"] = e;
  EXPECT_EQ(serialize_state(s).find("orc_source_markers"), std::string::npos);
  EXPECT_THROW(parse_state(R"({"state": {"m": {"orc_source_markers": {"s": 5}}}})", "x"), Error)
      << "a marker is a string";
}

TEST(StateCodec, AnEntryLeftAsReadIsWrittenAsItsTextAndAChangedOneAnew) {
  // Another writer's layout (field order, spacing, a null), as the reference leaves it.
  const char* text = R"({"state": {
    "model.p.a": {"sources": {},   "last_updated": "2024-05-01T10:00:00Z", "checksum": null},
    "model.p.b": {"checksum": "b1", "last_updated": "2024-05-01T10:00:00Z", "sources": {}}
  }})";
  State s = parse_state(text, "x");
  s.entries.at("model.p.b").parents["model.p.a"] = "2024-05-01T10:00:00Z";  // changed in place
  s.entries.at("model.p.b").has_parents = true;
  const std::string out = serialize_state(s);
  EXPECT_NE(out.find(R"("model.p.a": {"sources": {},   "last_updated": "2024-05-01T10:00:00Z", )"
                     R"("checksum": null})"),
            std::string::npos)
      << "the entry left alone keeps its text: " << out;
  EXPECT_NE(out.find(R"("model.p.b": {"checksum": "b1", "last_updated": "2024-05-01T10:00:00Z", )"
                     R"("sources": {}, "parents": {"model.p.a":"2024-05-01T10:00:00Z"})"),
            std::string::npos)
      << "the entry changed in place is serialized with its change: " << out;
  State again = parse_state(out, "y");
  EXPECT_EQ(again.entries.at("model.p.a").checksum, "");
  EXPECT_EQ(again.entries.at("model.p.b").parents.size(), 1u);
  // orc's own layout round-trips byte for byte, copied or serialized.
  EXPECT_EQ(serialize_state(parse_state(serialize_state(again), "z")), serialize_state(again));
}

TEST(StateCodec, AnEntryCopiedToAnotherStateOutlivesTheTextItWasReadFrom) {
  State target;
  {
    std::string text = R"({"state": {"model.p.a": {"checksum": "a1", "last_updated": "t",
                          "sources": {}}}})";
    State read = parse_state(text, "x");
    target.entries.emplace("model.p.a", read.entries.at("model.p.a"));
    text.assign(text.size(), ' ');  // the caller's buffer is reused; the entry's text is not
  }
  EXPECT_EQ(serialize_state(target),
            "{\"state\": {\n  \"model.p.a\": {\"checksum\": \"a1\", \"last_updated\": \"t\",\n"
            "                          \"sources\": {}}\n}}\n");
}

TEST(StateCodec, ReadStateFileReadsWhatParseStateReads) {
  TempDir dir("orc-state-file");
  // Padded to a whole number of 4 KiB pages: the parser reads past the end into the padding.
  std::string text = R"({"state": {"model.p.a": {"checksum": "abc",
      "last_updated": "2024-05-01T10:00:00Z", "sources": {"s": "2024-05-01T09:00:00Z"}}},
      "pad": ")";
  text += std::string(4096 - (text.size() + 2) % 4096, 'x') + "\"}";
  ASSERT_EQ(text.size() % 4096, 0u);
  const auto path = dir.path() / "state.json";
  write_file_atomic(path, text);
  State mapped = read_state_file(path);
  EXPECT_EQ(mapped.entries.at("model.p.a").sources.at("s"), "2024-05-01T09:00:00Z");
  EXPECT_EQ(serialize_state(mapped), serialize_state(parse_state(text, "x")));

  write_file_atomic(path, "");
  try {
    read_state_file(path);
    FAIL() << "an empty file is not a state";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  try {
    read_state_file(dir.path() / "missing.json");
    FAIL() << "a missing file is an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.json"), std::string::npos) << e.what();
  }
}

TEST(StateCodec, MapsInAnyOrderKeepEveryKeyAndTheLastDuplicate) {
  State s = parse_state(
      R"({"state": {"m": {"sources": {"c": "3", "a": "1", "b": "2", "a": "4"}}}})", "x");
  const auto& sources = s.entries.at("m").sources;
  ASSERT_EQ(sources.size(), 3u);
  EXPECT_EQ(sources.at("a"), "4") << "the last duplicate wins, as in Python's json";
  EXPECT_EQ(sources.at("b"), "2");
  EXPECT_EQ(sources.at("c"), "3");
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
  EXPECT_NE(message("[1,2]").find("at the top level: expected an object, found an array"),
            std::string::npos);
  EXPECT_NE(message("{\"state\": ").find("not valid JSON, or truncated"), std::string::npos);
  EXPECT_NE(message("{}").find("no \"state\" key"), std::string::npos);
  EXPECT_NE(message("{\"state\": []}").find("at state: expected an object, found an array"),
            std::string::npos);
  EXPECT_NE(message("{\"state\": {\"m\": 3}}")
                .find("at state.\"m\": expected an object, found a number"),
            std::string::npos);
  EXPECT_NE(message("{\"state\": {\"m\": {\"sources\": 3}}}")
                .find("at state.\"m\".sources: expected an object, found a number"),
            std::string::npos);
}

TEST(StateCodec, ANumberWhereAStringBelongsNamesThePath) {
  auto message = [](const std::string& text) {
    try {
      parse_state(text, "/tmp/st.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(R"({"state": {"m": {"checksum": 5}}})")
                .find("/tmp/st.json is not a valid orc/dbt-orchestra state: at "
                      "state.\"m\".checksum: expected a string, found a number"),
            std::string::npos);
  EXPECT_NE(message(R"({"state": {"m": {"sources": {"s": [1]}}}})")
                .find("at state.\"m\".sources.\"s\": expected a string, found an array"),
            std::string::npos);
  EXPECT_NE(message(R"({"state": {"m": {"fingerprint": {"code": true}}}})")
                .find("at state.\"m\".fingerprint.code: expected a string, found a boolean"),
            std::string::npos);
  // Null stays "absent", as the reference writes it.
  EXPECT_EQ(message(R"({"state": {"m": {"checksum": null, "sources": {"s": null}}}})"),
            "no error");
}

TEST(StateCodec, DeepNestingIsAnErrorNotACrash) {
  std::string deep =
      "{\"state\": {}, \"x\": " + std::string(2 << 20, '[') + std::string(2 << 20, ']') + "}";
  try {
    parse_state(deep, "/tmp/deep.json");
    FAIL() << "parsed";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("/tmp/deep.json"), std::string::npos) << m;
    EXPECT_NE(m.find("nested too deeply"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
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

// --- fingerprints and per-relation entries ---

namespace {

Fingerprint sample_fingerprint() {
  Fingerprint fp;
  fp.code = "0123456789abcdef";
  fp.relation = "\"db\".\"main\".\"orders\"";
  fp.adapter = "duckdb";
  fp.kind = "table";
  fp.inputs = "fedcba9876543210";
  fp.config = {{"materialized", "aa"}, {"unique_key", "bb"}};
  fp.macros = {{"macro.shop.money", "cc"}};
  fp.vars = {{"weight", "dd"}, {"(package-scoped vars)", "ee"}};
  fp.env_vars = {{"REGION", "ff"}};
  return fp;
}

StateEntry entry_as(const std::string& relation, const std::string& when) {
  StateEntry e;
  e.checksum = "sum";
  e.last_updated = when;
  Fingerprint fp = sample_fingerprint();
  fp.relation = relation;
  e.fingerprint = fp;
  return e;
}

}  // namespace

TEST(StateCodec, FingerprintRoundTrips) {
  State s;
  StateEntry e;
  e.checksum = "abc";
  e.last_updated = "2024-05-01T10:00:00Z";
  e.has_parents = true;
  e.fingerprint = sample_fingerprint();
  s.entries["model.shop.orders"] = e;
  std::string out = serialize_state(s);
  EXPECT_NE(out.find("\"fingerprint\": {"), std::string::npos) << out;
  State again = parse_state(out, "x");
  const StateEntry& back = again.entries.at("model.shop.orders");
  ASSERT_TRUE(back.fingerprint);
  EXPECT_EQ(*back.fingerprint, sample_fingerprint());
  EXPECT_TRUE(back.extra_fields.empty()) << "the fingerprint is not an unknown field";
  EXPECT_EQ(serialize_state(again), out);
}

TEST(StateCodec, EmptyFingerprintComponentsRoundTrip) {
  State s;
  s.entries["t"].fingerprint = Fingerprint{};
  State again = parse_state(serialize_state(s), "x");
  ASSERT_TRUE(again.entries.at("t").fingerprint);
  EXPECT_EQ(*again.entries.at("t").fingerprint, Fingerprint{});
}

TEST(StateCodec, EntriesWithoutFingerprintStayWithout) {
  State s = parse_state(R"({"state": {
      "model.p.a": {"checksum": "abc", "last_updated": "2024-05-01T10:00:00Z", "sources": {}}}})",
                        "reference");
  EXPECT_FALSE(s.entries.at("model.p.a").fingerprint);
  std::string out = serialize_state(s);
  EXPECT_EQ(out.find("fingerprint"), std::string::npos) << out;
  EXPECT_FALSE(parse_state(out, "y").entries.at("model.p.a").fingerprint);
}

TEST(StateCodec, NullFingerprintIsNoFingerprint) {
  State s = parse_state(R"({"state": {
      "model.p.b": {"checksum": "abc", "last_updated": "2024-05-01T10:00:00Z", "sources": {},
                    "fingerprint": null}}})",
                        "x");
  EXPECT_FALSE(s.entries.at("model.p.b").fingerprint);
  // Once a fingerprint is recorded (entries_for_results keeps extra_fields), the document must
  // still hold one "fingerprint" key per entry.
  s.entries.at("model.p.b").fingerprint = sample_fingerprint();
  std::string out = serialize_state(s);
  size_t first = out.find("\"fingerprint\"");
  // Fixed: parse_state kept `"fingerprint":null` verbatim in extra_fields, so serialize_state
  // writes the key twice (`"fingerprint": {...}, "fingerprint":null`): a JSON reader that
  // keeps the last duplicate (Python's json) sees no fingerprint.
  EXPECT_EQ(out.find("\"fingerprint\"", first + 1), std::string::npos) << out;
}

TEST(StateCodec, FingerprintOfTheWrongShapeIsAClearError) {
  try {
    parse_state(R"({"state": {"m": {"fingerprint": 3}}})", "st.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at state.\"m\".fingerprint: expected an object"),
              std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_state(R"({"state": {"m": {"fingerprint": {"macros": 3}}}})", "x"), Error);
}

TEST(StateEntries, RelationKeyJoinsKeyAndRelation) {
  EXPECT_EQ(relation_key("model.p.m", "\"db\".\"s\".\"m\""), "model.p.m@\"db\".\"s\".\"m\"");
}

TEST(StateEntries, FindEntryPicksTheEntryForTheRelation) {
  const std::string a = "\"db\".\"dev\".\"m\"", b = "\"db\".\"prod\".\"m\"";
  State s;
  s.entries["model.p.m"] = entry_as(b, "2024-05-02T00:00:00Z");
  s.entries[relation_key("model.p.m", a)] = entry_as(a, "2024-05-01T00:00:00Z");

  const StateEntry* e = find_entry(s, "model.p.m", b);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e, &s.entries.at("model.p.m")) << "primary built as that relation";

  e = find_entry(s, "model.p.m", a);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e, &s.entries.at(relation_key("model.p.m", a))) << "per-relation entry";

  e = find_entry(s, "model.p.m", "\"db\".\"other\".\"m\"");
  EXPECT_EQ(e, &s.entries.at("model.p.m")) << "no entry for it: the primary explains a rebuild";
  EXPECT_EQ(find_entry(s, "model.p.m", ""), &s.entries.at("model.p.m"));

  EXPECT_EQ(find_entry(s, "model.p.other", a), nullptr);
}

TEST(StateEntries, FindEntryTakesAPrimaryWithoutFingerprint) {
  const std::string a = "\"db\".\"dev\".\"m\"";
  State s;
  s.entries["model.p.m"].checksum = "reference";  // written by the reference: no relation
  s.entries[relation_key("model.p.m", a)] = entry_as(a, "2024-05-01T00:00:00Z");
  EXPECT_EQ(find_entry(s, "model.p.m", a), &s.entries.at("model.p.m"));
}

TEST(StateEntries, FindEntryWithOnlyAPerRelationEntry) {
  const std::string a = "\"db\".\"dev\".\"m\"";
  State s;
  s.entries[relation_key("model.p.m", a)] = entry_as(a, "2024-05-01T00:00:00Z");
  EXPECT_EQ(find_entry(s, "model.p.m", a), &s.entries.at(relation_key("model.p.m", a)));
  EXPECT_EQ(find_entry(s, "model.p.m", "\"db\".\"prod\".\"m\""), nullptr);
}

TEST(StateMerge, PerRelationEntriesMergeLikeAnyOther) {
  const std::string a = "\"db\".\"dev\".\"m\"";
  State base, updates;
  base.entries[relation_key("m", a)] = entry_as(a, "2024-05-01T00:00:00Z");
  updates.entries[relation_key("m", a)] = entry_as(a, "2024-05-02T00:00:00Z");
  updates.entries[relation_key("m", a)].fingerprint->code = "new";
  EXPECT_EQ(merge_state(base, updates), 1u);
  EXPECT_EQ(base.entries.at(relation_key("m", a)).fingerprint->code, "new");
}
