// Stark ECDSA: verify with x-only public keys, deterministic signing (see stark.h).
//
// Verify computes A = u1*G from a fixed table and B = u2*Q, then checks whether r (or r + n)
// is the x coordinate of A + B or A - B without knowing the sign of Q's y: for points on the
// curve, x(A+B) and x(A-B) are the two roots of
//   (xA - xB)^2 z^2 - [2(xA + xB)(xA xB + a) + 4b] z + [(xA xB - a)^2 - 4b(xA + xB)] = 0.
// Q is multiplied on an isomorphic curve where its point has known coordinates
// (isomorphic-mul.h), so no square root is ever needed, only a Legendre check: by wNAF for a
// key seen for the first time, by a window table for a cached key.
#include <cassert>

#include "isomorphic-mul.h"
#include "sha256.h"
#include "stark.h"

namespace stark {

extern curve::FixedBaseTable GENERATOR_TABLE;

static U256 FOUR_B;                    // Montgomery form
static U256 P_MINUS_1_HALF;
static const uint64_t MAX_TOP = 0x0800000000000000ULL;  // 2^251 in the top limb

static inline bool below_2_251(const U256& a) { return a.w[3] < MAX_TOP; }

static bool is_square(const U256& v_mont) {
  if (u256_is_zero(v_mont)) return true;
  U256 t;
  Fp::pow(t, v_mont, P_MINUS_1_HALF);
  return Fp::is_one(t);
}

void ecdsa_init() {
  Fp::dbl(FOUR_B, curve::BETA);
  Fp::dbl(FOUR_B, FOUR_B);
  const U256 one = {{1, 0, 0, 0}};
  U256 pm1;
  u256_sub(pm1, Fp::modulus(), one);
  for (int i = 0; i < 4; i++) P_MINUS_1_HALF.w[i] = (pm1.w[i] >> 1) | (i < 3 ? pm1.w[i + 1] << 63 : 0);
}

// c = x^3 + x + beta for x (Montgomery form); false when no curve point has that x.
static bool curve_rhs_square(const U256& x_mont, U256& c) {
  curve::rhs(c, x_mont);
  // c == 0 would be a point of order 2, which a curve of prime order does not have
  return !u256_is_zero(c) && is_square(c);
}

// True when c (Montgomery) is the x coordinate of A + B or A - B; a = a1/a2, b = b1/b2 are the
// x coordinates of two finite points on the curve, A is given in Jacobian form for the
// A == +-B case.
static bool x_matches_sum_or_difference(const U256& c, const Jacobian& A, const U256& a1, const U256& a2,
                                        const U256& b1, const U256& b2) {
  U256 t, u, D;
  Fp::mul(t, a1, b2);
  Fp::mul(u, b1, a2);
  Fp::sub(D, t, u);
  if (u256_is_zero(D)) {
    // A == +-B: one of A +- B is infinity (never a match), the other is 2A.
    Jacobian A2;
    curve::dbl(A2, A);
    if (curve::is_infinity(A2)) return false;
    U256 zz;
    Fp::sqr(zz, A2.Z);
    Fp::mul(zz, zz, c);
    return u256_eq(zz, A2.X);
  }
  U256 s1, pp, ab, qa, qb, qc, v;
  Fp::add(s1, t, u);     // (xA + xB) a2 b2
  Fp::mul(pp, a2, b2);   // a2 b2
  Fp::mul(ab, a1, b1);   // xA xB a2 b2
  Fp::sqr(qa, D);
  // qb = 2 s1 (ab + pp) + 4b pp^2
  Fp::add(t, ab, pp);
  Fp::mul(qb, s1, t);
  Fp::dbl(qb, qb);
  Fp::sqr(t, pp);
  Fp::mul(t, t, FOUR_B);
  Fp::add(qb, qb, t);
  // qc = (ab - pp)^2 - 4b s1 pp
  Fp::sub(t, ab, pp);
  Fp::sqr(qc, t);
  Fp::mul(t, s1, pp);
  Fp::mul(t, t, FOUR_B);
  Fp::sub(qc, qc, t);
  // qa c^2 - qb c + qc
  Fp::mul(v, qa, c);
  Fp::sub(v, v, qb);
  Fp::mul(v, v, c);
  Fp::add(v, v, qc);
  return u256_is_zero(v);
}

bool ecdsa_verify(KeyCache* cache, const U256& msg, const U256& r, const U256& s, const U256& pub_x) {
  if (u256_is_zero(r) || !below_2_251(r) || u256_is_zero(s) || !below_2_251(s) || !below_2_251(msg))
    return false;
  U256 w, w_plain;
  Fn::to_mont(w, s);
  Fn::inv(w, w);
  Fn::from_mont(w_plain, w);
  if (!below_2_251(w_plain)) return false;
  U256 u1, u2;
  Fn::mul(u1, msg, w);  // plain * Montgomery = plain product
  Fn::mul(u2, r, w);

  U256 x;
  Fp::to_mont(x, pub_x);
  bool not_on_curve = false;
  const KeyTable* cached = cache ? cache->lookup(pub_x, not_on_curve) : nullptr;
  if (not_on_curve) return false;
  U256 b1, b2;  // x(u2 Q) = b1 / b2
  if (cached) {
    Jacobian B;
    curve::set_infinity(B);
    cached->table.mul_add(B, u2);
    b1 = B.X;
    Fp::sqr(b2, B.Z);
    Fp::mul(b2, b2, cached->c);
  } else {
    U256 c;
    if (!curve_rhs_square(x, c)) return false;
    curve::isomorphic_mul_x(x, c, u2, b1, b2);
  }
  if (u256_is_zero(b2)) return false;  // u2 * Q == infinity cannot happen for u2 in [1, n)

  Jacobian A;
  curve::set_infinity(A);
  GENERATOR_TABLE.mul_add(A, u1);

  // Candidates for x(R): r, and r + n when that is still below P.
  U256 cands[2];
  int ncand = 0;
  Fp::to_mont(cands[ncand++], r);
  U256 rn;
  u256_add(rn, r, Fn::modulus());
  if (u256_lt(rn, Fp::modulus())) Fp::to_mont(cands[ncand++], rn);

  for (int i = 0; i < ncand; i++) {
    const U256& c = cands[i];
    if (curve::is_infinity(A)) {
      // R = +-B: x(R) = xB.
      U256 t;
      Fp::mul(t, c, b2);
      if (u256_eq(t, b1)) return true;
      continue;
    }
    U256 a2;
    Fp::sqr(a2, A.Z);
    if (x_matches_sum_or_difference(c, A, A.X, a2, b1, b2)) return true;
  }
  return false;
}

const KeyTable* KeyCache::lookup(const U256& x, bool& not_on_curve) {
  not_on_curve = false;
  if (capacity_ == 0) return nullptr;
  lookups_++;
  auto it = map_.find(x);
  if (it != map_.end()) {
    hits++;
    it->second->last_used = lookups_;
    lru_.splice(lru_.begin(), lru_, it->second);
    return &it->second->table;
  }
  misses++;
  auto seen = seen_once_.find(x);
  if (seen == seen_once_.end()) {
    if (seen_once_.size() >= 4 * capacity_) seen_once_.clear();  // bounded
    seen_once_.emplace(x, true);
    return nullptr;
  }
  seen_once_.erase(seen);
  if (map_.size() >= capacity_ && lookups_ - lru_.back().last_used < 4 * capacity_) {
    refused++;
    return nullptr;  // the caller checks the curve on its own path
  }
  U256 xm, c, a;
  Fp::to_mont(xm, x);
  if (!curve_rhs_square(xm, c)) {
    not_on_curve = true;
    return nullptr;
  }
  builds++;
  lru_.emplace_front();
  Entry& entry = lru_.front();
  entry.key = x;
  entry.last_used = lookups_;
  entry.table.c = c;
  Affine q;
  curve::isomorphic_point(xm, c, q, a);
  entry.table.table.build(q, 5, 252, &a);
  map_[x] = lru_.begin();
  while (map_.size() > capacity_) {
    map_.erase(lru_.back().key);
    lru_.pop_back();
  }
  return &entry.table;
}

void KeyCache::set_capacity(size_t capacity) {
  capacity_ = capacity;
  while (map_.size() > capacity_) {
    map_.erase(lru_.back().key);
    lru_.pop_back();
  }
  if (capacity_ == 0) seen_once_.clear();
}

// ---- signing ----

// scure's bits2int for the 32-byte DRBG output: drop leading zero bytes, then keep the top
// 252 bits of what is left (a shift right by 4 only when the first byte is nonzero).
static U256 bits2int(const uint8_t t[32]) {
  U256 v;
  u256_from_be(v, t);
  if (t[0] != 0) {
    for (int i = 0; i < 4; i++) v.w[i] = (v.w[i] >> 4) | (i < 3 ? v.w[i + 1] << 60 : 0);
  }
  return v;
}

static bool k_times_g_x(const U256& k, U256& x_plain) {
  Jacobian R;
  curve::set_infinity(R);
  GENERATOR_TABLE.mul_add(R, k);
  if (curve::is_infinity(R)) return false;
  U256 zi;
  Fp::inv(zi, R.Z);
  Fp::sqr(zi, zi);
  Fp::mul(x_plain, R.X, zi);
  Fp::from_mont(x_plain, x_plain);
  return true;
}

bool public_key(const U256& priv, U256& x_out) {
  if (u256_is_zero(priv) || !u256_lt(priv, Fn::modulus())) return false;
  return k_times_g_x(priv, x_out);
}

SignStatus ecdsa_sign(const U256& msg, const U256& priv, U256& r_out, U256& s_out) {
  if (!below_2_251(msg)) return SIGN_BAD_MESSAGE;
  if (u256_is_zero(priv) || !u256_lt(priv, Fn::modulus())) return SIGN_BAD_PRIVATE_KEY;
  // RFC 6979 3.2 with HMAC-SHA256; seed = int2octets(d) || int2octets(msg mod n), msg < n.
  uint8_t seed[64], K[32], V[32], T[32];
  u256_to_be(seed, priv);
  u256_to_be(seed + 32, msg);
  const uint8_t b0 = 0x00, b1 = 0x01;
  memset(K, 0, 32);
  memset(V, 1, 32);
  sha256::hmac32(K, K, V, 32, &b0, 1, seed, 64);
  sha256::hmac32(V, K, V, 32);
  sha256::hmac32(K, K, V, 32, &b1, 1, seed, 64);
  sha256::hmac32(V, K, V, 32);
  U256 d_m;
  Fn::to_mont(d_m, priv);
  for (int attempt = 0; attempt < 1000; attempt++) {
    sha256::hmac32(V, K, V, 32);
    memcpy(T, V, 32);
    const U256 k = bits2int(T);
    if (!u256_is_zero(k) && u256_lt(k, Fn::modulus())) {
      U256 x;
      if (k_times_g_x(k, x)) {
        U256 r = x;
        Fn::reduce_once(r);
        if (!u256_is_zero(r)) {
          U256 k_inv, rd, sum, s;
          Fn::to_mont(k_inv, k);
          Fn::inv(k_inv, k_inv);
          Fn::mul(rd, r, d_m);      // plain r * d
          Fn::add(sum, rd, msg);    // m + r d
          Fn::mul(s, sum, k_inv);   // plain (m + r d) / k
          if (!u256_is_zero(s)) {
            // scure's checkSignature: r < 2^251 and inv(s) < 2^251, otherwise it throws.
            U256 w;
            Fn::to_mont(w, s);
            Fn::inv(w, w);
            Fn::from_mont(w, w);
            if (!below_2_251(r) || !below_2_251(w)) return SIGN_OUT_OF_RANGE;
            r_out = r;
            s_out = s;
            return SIGN_OK;
          }
        }
      }
    }
    // Reseed without data: K = HMAC(K, V || 0x00), V = HMAC(K, V).
    sha256::hmac32(K, K, V, 32, &b0, 1);
    sha256::hmac32(V, K, V, 32);
  }
  return SIGN_OUT_OF_RANGE;  // 1000 rejected nonces: as unreachable as a hash collision
}

}  // namespace stark
