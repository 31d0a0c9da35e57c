// Starknet hash and signature primitives over plain 256-bit integers (not Montgomery form).
// Inputs are assumed already range-checked by the caller (addon.cc checks felts < P).
#pragma once
#include <list>
#include <unordered_map>

#include "curve.h"

namespace stark {

// Builds the constant tables once per process (thread-safe).
void init();

// True when a < P.
bool is_felt(const U256& a);

U256 pedersen(const U256& a, const U256& b);
// out[i] = pedersen(a[i], b[i]); one field inversion for the whole batch.
void pedersen_batch(U256* out, const U256* a, const U256* b, int n);

U256 poseidon(const U256& a, const U256& b);
// out[i] = poseidon(a[i], b[i]); permutations run four at a time, interleaved.
void poseidon_batch(U256* out, const U256* a, const U256* b, int n);
U256 poseidon_many(const U256* values, int n);

// Per-public-key window tables, LRU-bounded. A key gets a table the second time it is seen,
// unless the cache is full and its least recently used table was still used within the last
// 4 x capacity lookups: then the newcomer is refused rather than evicting a table in use, so
// a working set larger than the cache keeps part of it cached instead of rebuilding tables
// that are evicted before their next use.
// Tables live on the key's isomorphic curve (isomorphic-mul.h), so building one needs no
// square root; it costs about four first-time-key verifications and makes each later
// verification with that key about twice as fast. One cache per JS environment (main thread
// or worker): not shared across threads.
struct KeyTable {
  curve::FixedBaseTable table;  // multiples of Q' = (c x, c^2) on E'
  U256 c;                       // x^3 + x + beta (Montgomery): x(k Q) = x(k Q') / c
};
class KeyCache {
 public:
  explicit KeyCache(size_t capacity) : capacity_(capacity) {}
  // The table for x, or nullptr when the key should take the uncached path. May build a
  // table; `not_on_curve` is set when x is not the x coordinate of a curve point.
  const KeyTable* lookup(const U256& x, bool& not_on_curve);
  void set_capacity(size_t capacity);
  size_t size() const { return map_.size(); }
  size_t capacity() const { return capacity_; }
  uint64_t hits = 0, misses = 0, builds = 0, refused = 0;

 private:
  struct Hash {
    size_t operator()(const U256& k) const { return (size_t)(k.w[0] ^ (k.w[1] * 0x9e3779b97f4a7c15ULL)); }
  };
  struct Eq {
    bool operator()(const U256& a, const U256& b) const { return u256_eq(a, b); }
  };
  struct Entry {
    U256 key;
    KeyTable table;
    uint64_t last_used = 0;  // lookups counter at the last hit
  };
  size_t capacity_;
  uint64_t lookups_ = 0;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<U256, std::list<Entry>::iterator, Hash, Eq> map_;
  std::unordered_map<U256, bool, Hash, Eq> seen_once_;
};

// Stark ECDSA verify with an x-only public key: true when (r, s) is valid for either point
// with that x (as Cairo's check_ecdsa_signature). Returns false (never throws) for r or s
// outside [1, 2^251), msg >= 2^251, inv(s) >= 2^251, or x not on the curve.
bool ecdsa_verify(KeyCache* cache, const U256& msg, const U256& r, const U256& s, const U256& pub_x);

enum SignStatus { SIGN_OK = 0, SIGN_BAD_PRIVATE_KEY, SIGN_BAD_MESSAGE, SIGN_OUT_OF_RANGE };
// Deterministic Stark ECDSA (RFC 6979 with HMAC-SHA256, k derivation exactly as
// @scure/starknet). Not constant-time: table lookups depend on k.
SignStatus ecdsa_sign(const U256& msg, const U256& priv, U256& r_out, U256& s_out);

// Public key (x coordinate) of a private key in [1, n).
bool public_key(const U256& priv, U256& x_out);

}  // namespace stark
