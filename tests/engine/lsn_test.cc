#include "engine/lsn.h"

#include <gtest/gtest.h>

namespace walsim {
namespace {

TEST(LsnTest, PrintsAsPostgresDoes) {
  EXPECT_EQ(Lsn::from_parts(0x16, 0xB374D848).to_string(), "16/B374D848");
  EXPECT_EQ(Lsn::zero().to_string(), "0/0");
  EXPECT_EQ(Lsn(0xFFFFFFFFFFFFFFFFull).to_string(), "FFFFFFFF/FFFFFFFF");
  EXPECT_EQ(Lsn::from_parts(1, 0x10).to_string(), "1/10");
}

TEST(LsnTest, ParsesWhatItPrints) {
  for (uint64_t value : {0ull, 1ull, 0x16B374D848ull, 0x100000000ull,
                         0xFFFFFFFFFFFFFFFFull, 0xABCDEF0123456789ull}) {
    Lsn lsn(value);
    auto parsed = Lsn::parse(lsn.to_string());
    ASSERT_TRUE(parsed.has_value()) << lsn.to_string();
    EXPECT_EQ(parsed->value(), value);
  }
}

TEST(LsnTest, AcceptsLowerCaseAndLeadingZeros) {
  EXPECT_EQ(Lsn::parse("16/b374d848")->value(), 0x16B374D848ull);
  EXPECT_EQ(Lsn::parse("00000001/00000002")->value(), 0x100000002ull);
}

TEST(LsnTest, RejectsMalformedText) {
  for (const char* text : {"", "/", "1/", "/1", "1", "1/2/3", "G/1", "1/-1",
                           " 1/1", "1/1 ", "123456789/0", "0x1/0", "+1/1"}) {
    EXPECT_FALSE(Lsn::parse(text).has_value()) << text;
  }
}

TEST(LsnTest, OrdersByPosition) {
  EXPECT_LT(*Lsn::parse("0/FFFFFFFF"), *Lsn::parse("1/0"));
  EXPECT_EQ(*Lsn::parse("3/1"), Lsn::from_parts(3, 1));
}

}  // namespace
}  // namespace walsim
