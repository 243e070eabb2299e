#include <gtest/gtest.h>

#include "core/timestamp.h"

using orc::format_timestamp;
using orc::parse_timestamp;

TEST(Timestamp, ParsesOffsetsAndNaiveAsUtc) {
  auto z = parse_timestamp("2024-05-01T12:00:00Z");
  ASSERT_TRUE(z);
  EXPECT_EQ(parse_timestamp("2024-05-01T12:00:00+00:00"), z);
  EXPECT_EQ(parse_timestamp("2024-05-01T12:00:00"), z);
  EXPECT_EQ(parse_timestamp("2024-05-01 12:00:00"), z);
  EXPECT_EQ(parse_timestamp("2024-05-01T14:00:00+02:00"), z);
  EXPECT_EQ(parse_timestamp("2024-05-01T07:00:00-0500"), z);
  EXPECT_EQ(*parse_timestamp("2024-05-01T12:00:00.5Z") - *z, 500000);
  EXPECT_EQ(*parse_timestamp("2024-05-01T12:00:00.123456789Z") - *z, 123456);
}

TEST(Timestamp, RejectsGarbage) {
  EXPECT_FALSE(parse_timestamp(""));
  EXPECT_FALSE(parse_timestamp("yesterday"));
  EXPECT_FALSE(parse_timestamp("2024-13-01T00:00:00"));
  EXPECT_FALSE(parse_timestamp("2024-05-01T12:00:00Zjunk"));
}

TEST(Timestamp, FormatRoundTrips) {
  auto t = *parse_timestamp("2024-02-29T23:59:58.000001Z");
  EXPECT_EQ(format_timestamp(t), "2024-02-29T23:59:58.000001Z");
  EXPECT_EQ(format_timestamp(*parse_timestamp("1970-01-01T00:00:00Z")), "1970-01-01T00:00:00Z");
}
