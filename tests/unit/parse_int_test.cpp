// The one integer parser (include/virtumancer/parse_int.hpp).
#include <gtest/gtest.h>

#include <climits>

#include "virtumancer/parse_int.hpp"

using namespace virtumancer;

TEST(ParseInt, WholeTextOrNothing) {
    EXPECT_EQ(parse_int("42"), 42);
    EXPECT_EQ(parse_int("-7"), -7);
    EXPECT_EQ(parse_int("0"), 0);
    EXPECT_FALSE(parse_int(""));
    EXPECT_FALSE(parse_int("-"));
    EXPECT_FALSE(parse_int("12abc"));
    EXPECT_FALSE(parse_int("abc"));
    EXPECT_FALSE(parse_int(" 1"));
    EXPECT_FALSE(parse_int("1 "));
    EXPECT_FALSE(parse_int("0x10")); // decimal only unless asked
    EXPECT_FALSE(parse_int<unsigned long long>("-1"));
}

TEST(ParseInt, OutOfRangeIsToldApart) {
    auto big = parse_int_checked("9223372036854775808"); // 2^63
    EXPECT_EQ(big.status, IntStatus::OutOfRange);
    EXPECT_FALSE(big);
    EXPECT_FALSE(parse_int("9223372036854775808"));
    EXPECT_EQ(parse_int("9223372036854775807"), LLONG_MAX);
    EXPECT_EQ(parse_int("-9223372036854775808"), LLONG_MIN);
    EXPECT_EQ(parse_int_checked("-9223372036854775809").status, IntStatus::OutOfRange);
    EXPECT_EQ(parse_int<unsigned long long>("18446744073709551615"), ULLONG_MAX);
    EXPECT_EQ(parse_int_checked<unsigned long long>("18446744073709551616").status,
              IntStatus::OutOfRange);
    EXPECT_EQ(parse_int_checked<int>("2147483648").status, IntStatus::OutOfRange);
    EXPECT_EQ(parse_int_checked("1x").status, IntStatus::Invalid);
    EXPECT_EQ(parse_int_checked("").status, IntStatus::Invalid);
}

TEST(ParseInt, Radixes) {
    EXPECT_EQ(parse_int("0x1f", Radix::DecimalOrHex), 31);
    EXPECT_EQ(parse_int("0X1F", Radix::DecimalOrHex), 31);
    EXPECT_EQ(parse_int("010", Radix::DecimalOrHex), 10);
    EXPECT_FALSE(parse_int("0x", Radix::DecimalOrHex));
    EXPECT_FALSE(parse_int("0x-1", Radix::DecimalOrHex));
    EXPECT_FALSE(parse_int("0xg", Radix::DecimalOrHex));
    EXPECT_EQ(parse_int("-5", Radix::DecimalOrHex), -5);
    EXPECT_EQ(parse_int("2a", Radix::Hex), 42);
    EXPECT_EQ(parse_int<int>("FE", Radix::Hex), 254);
    // strtoull base 0, as libvirt reads device addresses: 0x hex, leading 0 octal.
    EXPECT_EQ(parse_int<unsigned long long>("0x08", Radix::CStyle), 8u);
    EXPECT_EQ(parse_int<unsigned long long>("010", Radix::CStyle), 8u);
    EXPECT_EQ(parse_int<unsigned long long>("0", Radix::CStyle), 0u);
    EXPECT_FALSE(parse_int<unsigned long long>("08", Radix::CStyle));
}
