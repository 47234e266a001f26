// The one integer parser: std::from_chars over the whole text, nothing thrown.
//
// parse_int<T>(text) is the value when all of `text` is an integer that fits in T, else nullopt.
// No leading blanks and no '+' are accepted ('-' only for signed T). parse_int_checked tells a
// value that does not fit in T (OutOfRange, e.g. 2^63 for long long) from text that is not a
// number at all (Invalid), for callers that report the two differently.
#pragma once
#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace virtumancer {

enum class Radix {
    Decimal,      // 42, -7
    Hex,          // 2a, 2A (no prefix)
    DecimalOrHex, // 42, or 0x2a / 0X2A (libvirt writes PCI addresses in hex)
    CStyle,       // strtoull base 0: 0x2a hex, 052 octal, else decimal (libvirt's own rule)
};

enum class IntStatus { Ok, Invalid, OutOfRange };

template <class T> struct ParsedInt {
    IntStatus status = IntStatus::Invalid;
    T value{};
    explicit operator bool() const { return status == IntStatus::Ok; }
};

template <class T = long long>
ParsedInt<T> parse_int_checked(std::string_view text, Radix radix = Radix::Decimal) {
    static_assert(std::is_integral_v<T>);
    ParsedInt<T> r;
    int base = radix == Radix::Hex ? 16 : 10;
    std::string_view s = text;
    if ((radix == Radix::DecimalOrHex || radix == Radix::CStyle) && s.size() > 2 && s[0] == '0' &&
        (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s.remove_prefix(2);
    } else if (radix == Radix::CStyle && s.size() > 1 && s[0] == '0') {
        base = 8;
        s.remove_prefix(1);
    }
    // from_chars takes a '-' for signed types; never after a prefix (0x-1 is not a number).
    if (s.empty() || (base != 10 && s[0] == '-')) return r;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), r.value, base);
    if (end != s.data() + s.size()) return r; // trailing text (or nothing parsed): Invalid
    if (ec == std::errc::result_out_of_range) {
        r.status = IntStatus::OutOfRange;
        r.value = T{};
    } else if (ec == std::errc()) {
        r.status = IntStatus::Ok;
    }
    return r;
}

template <class T = long long>
std::optional<T> parse_int(std::string_view text, Radix radix = Radix::Decimal) {
    auto r = parse_int_checked<T>(text, radix);
    if (!r) return std::nullopt;
    return r.value;
}

} // namespace virtumancer
