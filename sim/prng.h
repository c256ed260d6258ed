// Prng: the simulator's only source of randomness.
//
// Why our own: std::uniform_int_distribution and friends are implemented
// differently by each standard library, so a seed would replay differently
// on another toolchain. xoshiro256** seeded through splitmix64, and range
// reduction written here, make one seed mean one run everywhere.
//
// Every subsystem (source, workload, scheduler, faults, clients) gets its
// own Prng from derive(root_seed, "name"), so adding a draw in one
// subsystem does not shift the choices of another.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/assert.h"

namespace walsim::sim {

// One splitmix64 step: advances `state` and returns a well-mixed value.
inline uint64_t splitmix64(uint64_t& state) {
  state += 0x9E3779B97F4A7C15ull;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The seed of subsystem `name` under `seed`: FNV-1a of the name, mixed with
// the seed through splitmix64 so nearby seeds give unrelated streams.
inline uint64_t derive(uint64_t seed, std::string_view name) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (unsigned char c : name) {
    hash ^= c;
    hash *= 0x100000001B3ull;
  }
  uint64_t state = seed ^ hash;
  splitmix64(state);
  return splitmix64(state);
}

class Prng {
 public:
  explicit Prng(uint64_t seed) {
    uint64_t state = seed;
    for (uint64_t& word : s_) word = splitmix64(state);
  }

  // xoshiro256** (Blackman and Vigna).
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, bound). Lemire's multiply-shift with rejection of the
  // biased low products, so every value is exactly equally likely.
  uint64_t below(uint64_t bound) {
    WALSIM_ASSERT(bound > 0);
    __uint128_t product = static_cast<__uint128_t>(next()) * bound;
    uint64_t low = static_cast<uint64_t>(product);
    if (low < bound) {
      const uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        product = static_cast<__uint128_t>(next()) * bound;
        low = static_cast<uint64_t>(product);
      }
    }
    return static_cast<uint64_t>(product >> 64);
  }

  // Uniform in [low, high], both inclusive.
  int64_t range(int64_t low, int64_t high) {
    WALSIM_ASSERT(low <= high);
    return low + static_cast<int64_t>(below(static_cast<uint64_t>(high - low) + 1));
  }

  // True with probability percent/100.
  bool percent(uint32_t percent) {
    WALSIM_ASSERT(percent <= 100);
    return below(100) < percent;
  }

  // True with probability ppm/1,000,000 (parts per million): fault sites
  // fire rarely, and per-mille is too coarse for a per-step crash.
  bool ppm(uint32_t ppm) {
    WALSIM_ASSERT(ppm <= 1000000);
    return below(1000000) < ppm;
  }

  bool coin() { return (next() >> 63) != 0; }

  // An index drawn with probability weights[i] / sum(weights). At least one
  // weight must be positive; zero weights are never drawn.
  size_t weighted(const std::vector<uint32_t>& weights) {
    uint64_t total = 0;
    for (uint32_t weight : weights) total += weight;
    WALSIM_ASSERT(total > 0);
    uint64_t pick = below(total);
    for (size_t i = 0; i < weights.size(); i++) {
      if (pick < weights[i]) return i;
      pick -= weights[i];
    }
    WALSIM_ASSERT(false, "unreachable: pick < total");
    return 0;
  }

  template <typename T>
  const T& pick(const std::vector<T>& items) {
    WALSIM_ASSERT(!items.empty());
    return items[below(items.size())];
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t s_[4];
};

}  // namespace walsim::sim
