// Lsn: a Postgres log sequence number, a 64-bit position in the WAL.
//
// Printed and parsed as Postgres does: the high and low 32 bits in upper-case
// hex without leading zeros, joined by '/', e.g. "16/B374D848". Lsn zero
// ("0/0") is the smallest position; snapshot batches commit at it, which is
// why such commits are always blocked.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace walsim {

class Lsn {
 public:
  constexpr Lsn() = default;
  constexpr explicit Lsn(uint64_t value) : value_(value) {}

  static constexpr Lsn zero() { return Lsn(0); }
  static constexpr Lsn from_parts(uint32_t high, uint32_t low) {
    return Lsn((uint64_t{high} << 32) | low);
  }

  // Accepts exactly "X/Y", X and Y 1-8 hex digits (either case).
  // Anything else — empty parts, signs, spaces, >8 digits — is nullopt.
  static std::optional<Lsn> parse(std::string_view text);

  constexpr uint64_t value() const { return value_; }
  std::string to_string() const;

  constexpr auto operator<=>(const Lsn&) const = default;

 private:
  uint64_t value_ = 0;
};

}  // namespace walsim
