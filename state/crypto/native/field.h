// Montgomery arithmetic over two 252-bit prime moduli, 4 x 64-bit little-endian limbs:
//   Fp: P = 2^251 + 17*2^192 + 1   (the Stark field: coordinates, Pedersen, Poseidon)
//   Fn: N = order of the Stark curve (ECDSA scalars)
// Elements are kept fully reduced (< modulus). Both moduli are < 2^252, so sums of two
// elements never overflow 256 bits. Not constant-time: all callers here work on public data,
// except signing (see ecdsa.cc).
#pragma once
#include <cstdint>
#include <cstring>

typedef unsigned __int128 u128;

struct U256 {
  uint64_t w[4];  // little-endian limbs
};

static inline bool u256_is_zero(const U256& a) { return (a.w[0] | a.w[1] | a.w[2] | a.w[3]) == 0; }
static inline bool u256_eq(const U256& a, const U256& b) {
  return ((a.w[0] ^ b.w[0]) | (a.w[1] ^ b.w[1]) | (a.w[2] ^ b.w[2]) | (a.w[3] ^ b.w[3])) == 0;
}
// a < b as unsigned 256-bit integers.
static inline bool u256_lt(const U256& a, const U256& b) {
  for (int i = 3; i >= 0; i--) {
    if (a.w[i] != b.w[i]) return a.w[i] < b.w[i];
  }
  return false;
}
// r = a - b, returns the borrow.
static inline uint64_t u256_sub(U256& r, const U256& a, const U256& b) {
  uint64_t borrow = 0;
  for (int i = 0; i < 4; i++) {
    u128 d = (u128)a.w[i] - b.w[i] - borrow;
    r.w[i] = (uint64_t)d;
    borrow = (uint64_t)(d >> 64) & 1;
  }
  return borrow;
}
static inline uint64_t u256_add(U256& r, const U256& a, const U256& b) {
  uint64_t carry = 0;
  for (int i = 0; i < 4; i++) {
    u128 s = (u128)a.w[i] + b.w[i] + carry;
    r.w[i] = (uint64_t)s;
    carry = (uint64_t)(s >> 64);
  }
  return carry;
}
static inline int u256_bit(const U256& a, int i) { return (int)((a.w[i >> 6] >> (i & 63)) & 1); }
// Bits [i, i+len) as an integer (len <= 16, may straddle limbs, bits past 255 read as 0).
static inline unsigned u256_bits(const U256& a, int i, int len) {
  unsigned v = 0;
  for (int k = len - 1; k >= 0; k--) {
    int b = i + k;
    v = (v << 1) | (b < 256 ? (unsigned)u256_bit(a, b) : 0u);
  }
  return v;
}
static inline void u256_from_be(U256& r, const uint8_t* be32) {
  for (int i = 0; i < 4; i++) {
    uint64_t v = 0;
    for (int k = 0; k < 8; k++) v = (v << 8) | be32[(3 - i) * 8 + k];
    r.w[i] = v;
  }
}
static inline void u256_to_be(uint8_t* be32, const U256& a) {
  for (int i = 0; i < 4; i++) {
    uint64_t v = a.w[i];
    for (int k = 7; k >= 0; k--) {
      be32[(3 - i) * 8 + k] = (uint8_t)v;
      v >>= 8;
    }
  }
}
// Parses 64 hex digits (big-endian); used only for the constants data.
static inline U256 u256_from_hex(const char* hex) {
  U256 r = {{0, 0, 0, 0}};
  for (int i = 0; i < 64; i++) {
    char c = hex[i];
    unsigned d = (c >= '0' && c <= '9') ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
    int limb = (63 - i) / 16, shift = ((63 - i) % 16) * 4;
    r.w[limb] |= (uint64_t)d << shift;
  }
  return r;
}

// Carry/borrow steps; the x86 intrinsics compile to adc/sbb chains.
#if defined(__x86_64__)
#include <x86intrin.h>
static inline unsigned char add_carry(unsigned char c, uint64_t a, uint64_t b, uint64_t& out) {
  unsigned long long o;
  c = _addcarry_u64(c, a, b, &o);
  out = o;
  return c;
}
static inline unsigned char sub_borrow(unsigned char c, uint64_t a, uint64_t b, uint64_t& out) {
  unsigned long long o;
  c = _subborrow_u64(c, a, b, &o);
  out = o;
  return c;
}
#else
static inline unsigned char add_carry(unsigned char c, uint64_t a, uint64_t b, uint64_t& out) {
  u128 s = (u128)a + b + c;
  out = (uint64_t)s;
  return (unsigned char)(s >> 64);
}
static inline unsigned char sub_borrow(unsigned char c, uint64_t a, uint64_t b, uint64_t& out) {
  u128 d = (u128)a - b - c;
  out = (uint64_t)d;
  return (unsigned char)((d >> 64) & 1);
}
#endif

// -m^-1 mod 2^64 by Newton iteration.
static constexpr uint64_t mont_n0(uint64_t m0) {
  uint64_t inv = 1;
  for (int i = 0; i < 7; i++) inv *= 2 - m0 * inv;
  return (uint64_t)0 - inv;
}

// One Montgomery field. M supplies `static constexpr uint64_t MOD[4]`.
template <class M>
struct MontField {
  static constexpr uint64_t N0 = mont_n0(M::MOD[0]);
  static U256 R1;  // R mod m (Montgomery one)
  static U256 R2;  // R^2 mod m

  static inline U256 modulus() { return U256{{M::MOD[0], M::MOD[1], M::MOD[2], M::MOD[3]}}; }

  // The Stark prime P = 2^251 + 17*2^192 + 1 has limbs (1, 0, 0, P3): Montgomery reduction
  // needs no general multiplication by the modulus (see mul_special).
  static constexpr bool SPARSE = M::MOD[0] == 1 && M::MOD[1] == 0 && M::MOD[2] == 0;

  // r -= m when r >= m (r < 2m). Written as selects so the compiler emits cmov, not branches.
  static inline void reduce_once(U256& r) {
    uint64_t t0, t1, t2, t3;
    unsigned char b = 0;
    b = sub_borrow(b, r.w[0], M::MOD[0], t0);
    b = sub_borrow(b, r.w[1], M::MOD[1], t1);
    b = sub_borrow(b, r.w[2], M::MOD[2], t2);
    b = sub_borrow(b, r.w[3], M::MOD[3], t3);
    r.w[0] = b ? r.w[0] : t0;
    r.w[1] = b ? r.w[1] : t1;
    r.w[2] = b ? r.w[2] : t2;
    r.w[3] = b ? r.w[3] : t3;
  }
  static inline void add(U256& r, const U256& a, const U256& b) {
    unsigned char c = 0;
    c = add_carry(c, a.w[0], b.w[0], r.w[0]);
    c = add_carry(c, a.w[1], b.w[1], r.w[1]);
    c = add_carry(c, a.w[2], b.w[2], r.w[2]);
    add_carry(c, a.w[3], b.w[3], r.w[3]);
    reduce_once(r);
  }
  static inline void sub(U256& r, const U256& a, const U256& b) {
    unsigned char c = 0;
    c = sub_borrow(c, a.w[0], b.w[0], r.w[0]);
    c = sub_borrow(c, a.w[1], b.w[1], r.w[1]);
    c = sub_borrow(c, a.w[2], b.w[2], r.w[2]);
    c = sub_borrow(c, a.w[3], b.w[3], r.w[3]);
    const uint64_t mask = (uint64_t)0 - c;  // all ones on borrow: add the modulus back
    unsigned char d = 0;
    d = add_carry(d, r.w[0], M::MOD[0] & mask, r.w[0]);
    d = add_carry(d, r.w[1], M::MOD[1] & mask, r.w[1]);
    d = add_carry(d, r.w[2], M::MOD[2] & mask, r.w[2]);
    add_carry(d, r.w[3], M::MOD[3] & mask, r.w[3]);
  }
  static inline void neg(U256& r, const U256& a) {
    if (u256_is_zero(a)) r = a;
    else u256_sub(r, modulus(), a);
  }
  static inline void dbl(U256& r, const U256& a) { add(r, a, a); }

  static inline void mul(U256& r, const U256& a, const U256& b) {
    if constexpr (SPARSE) {
      uint64_t t[8];
      product(t, a, b);
      reduce_wide(r, t);
    } else {
      mul_cios(r, a, b);
    }
  }
  static inline void sqr(U256& r, const U256& a) {
    if constexpr (SPARSE) {
      uint64_t t[8];
      square(t, a);
      reduce_wide(r, t);
    } else {
      mul_cios(r, a, a);
    }
  }

  // t = a * b, 512 bits (row by row: low halves in one carry chain, high halves in another).
  static inline void product(uint64_t t[8], const U256& a, const U256& b) {
    for (int k = 0; k < 8; k++) t[k] = 0;
    for (int i = 0; i < 4; i++) {
      uint64_t lo[4], hi[4];
      for (int j = 0; j < 4; j++) {
        const u128 p = (u128)a.w[i] * b.w[j];
        lo[j] = (uint64_t)p;
        hi[j] = (uint64_t)(p >> 64);
      }
      unsigned char c = 0;
      c = add_carry(c, t[i], lo[0], t[i]);
      c = add_carry(c, t[i + 1], lo[1], t[i + 1]);
      c = add_carry(c, t[i + 2], lo[2], t[i + 2]);
      c = add_carry(c, t[i + 3], lo[3], t[i + 3]);
      t[i + 4] = c;
      c = 0;
      c = add_carry(c, t[i + 1], hi[0], t[i + 1]);
      c = add_carry(c, t[i + 2], hi[1], t[i + 2]);
      c = add_carry(c, t[i + 3], hi[2], t[i + 3]);
      add_carry(c, t[i + 4], hi[3], t[i + 4]);
    }
  }
  // t = a^2, 512 bits: the six cross products once, doubled, plus the four squares.
  static inline void square(uint64_t t[8], const U256& a) {
    uint64_t x[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    // cross products a_i a_j (i < j) into x[1..6]
    const u128 p01 = (u128)a.w[0] * a.w[1], p02 = (u128)a.w[0] * a.w[2], p03 = (u128)a.w[0] * a.w[3];
    const u128 p12 = (u128)a.w[1] * a.w[2], p13 = (u128)a.w[1] * a.w[3], p23 = (u128)a.w[2] * a.w[3];
    unsigned char c = 0;
    x[1] = (uint64_t)p01;
    c = add_carry(0, (uint64_t)(p01 >> 64), (uint64_t)p02, x[2]);
    c = add_carry(c, (uint64_t)(p02 >> 64), (uint64_t)p03, x[3]);
    c = add_carry(c, (uint64_t)(p03 >> 64), (uint64_t)p13, x[4]);
    c = add_carry(c, (uint64_t)(p13 >> 64), (uint64_t)p23, x[5]);
    add_carry(c, (uint64_t)(p23 >> 64), 0, x[6]);
    c = add_carry(0, x[3], (uint64_t)p12, x[3]);
    c = add_carry(c, x[4], (uint64_t)(p12 >> 64), x[4]);
    c = add_carry(c, x[5], 0, x[5]);
    add_carry(c, x[6], 0, x[6]);
    // double
    x[7] = x[6] >> 63;
    for (int i = 6; i > 1; i--) x[i] = (x[i] << 1) | (x[i - 1] >> 63);
    x[1] <<= 1;
    // add the squares
    c = 0;
    for (int i = 0; i < 4; i++) {
      const u128 sq = (u128)a.w[i] * a.w[i];
      c = add_carry(c, x[2 * i], (uint64_t)sq, t[2 * i]);
      c = add_carry(c, x[2 * i + 1], (uint64_t)(sq >> 64), t[2 * i + 1]);
    }
  }
  // r = t / 2^256 mod P for t < P^2 (SPARSE moduli only). With P = 1 + P3 * 2^192,
  // -P^-1 = P3 * 2^192 - 1 (mod 2^256), so m = k * 2^192 - t_low with k = t0 * P3, and
  // (t + m P) / 2^256 = t_high + wrap + (k + m * P3) / 2^64, where k + m * P3 = 0 mod 2^64.
  static inline void reduce_wide(U256& r, const uint64_t t[8]) {
    reduce_wide_lazy(r, t);
    reduce_once(r);
  }
  // reduce_wide without the final subtraction: t / 2^256 mod P as a value below
  // t / 2^256 + P (so below 2P when t < P^2, below 1.5P when t < 16 P^2).
  static inline void reduce_wide_lazy(U256& r, const uint64_t t[8]) {
    const uint64_t P3 = M::MOD[3];
    const uint64_t k = t[0] * P3;
    uint64_t m0, m1, m2, m3;
    unsigned char w = 0;
    w = sub_borrow(w, 0, t[0], m0);
    w = sub_borrow(w, 0, t[1], m1);
    w = sub_borrow(w, 0, t[2], m2);
    w = sub_borrow(w, k, t[3], m3);
    // q = floor(m * P3 / 2^64), four limbs
    const u128 x0 = (u128)m0 * P3, x1 = (u128)m1 * P3, x2 = (u128)m2 * P3, x3 = (u128)m3 * P3;
    uint64_t q0, q1, q2, q3;
    unsigned char c = 0;
    c = add_carry(c, (uint64_t)x1, (uint64_t)(x0 >> 64), q0);
    c = add_carry(c, (uint64_t)x2, (uint64_t)(x1 >> 64), q1);
    c = add_carry(c, (uint64_t)x3, (uint64_t)(x2 >> 64), q2);
    add_carry(c, 0, (uint64_t)(x3 >> 64), q3);
    // carry in: wrap + (k != 0), since k + low limb of m * P3 is 0 or 2^64
    const uint64_t cin = (uint64_t)w + (k != 0);
    c = add_carry(0, t[4], cin, r.w[0]);
    c = add_carry(c, t[5], 0, r.w[1]);
    c = add_carry(c, t[6], 0, r.w[2]);
    add_carry(c, t[7], 0, r.w[3]);
    c = add_carry(0, r.w[0], q0, r.w[0]);
    c = add_carry(c, r.w[1], q1, r.w[1]);
    c = add_carry(c, r.w[2], q2, r.w[2]);
    add_carry(c, r.w[3], q3, r.w[3]);
  }

  // CIOS Montgomery multiplication: r = a*b/R mod m. With m < 2^252 the running value stays
  // below 2m and the top limb t[4] is 0 at the end.
  static inline void mul_cios(U256& r, const U256& a, const U256& b) {
    uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
    for (int i = 0; i < 4; i++) {
      const uint64_t bi = b.w[i];
      u128 c = (u128)a.w[0] * bi + t0;
      t0 = (uint64_t)c;
      c = (u128)a.w[1] * bi + t1 + (uint64_t)(c >> 64);
      t1 = (uint64_t)c;
      c = (u128)a.w[2] * bi + t2 + (uint64_t)(c >> 64);
      t2 = (uint64_t)c;
      c = (u128)a.w[3] * bi + t3 + (uint64_t)(c >> 64);
      t3 = (uint64_t)c;
      t4 += (uint64_t)(c >> 64);
      const uint64_t m = t0 * N0;
      c = (u128)m * M::MOD[0] + t0;
      c = (u128)m * M::MOD[1] + t1 + (uint64_t)(c >> 64);
      t0 = (uint64_t)c;
      c = (u128)m * M::MOD[2] + t2 + (uint64_t)(c >> 64);
      t1 = (uint64_t)c;
      c = (u128)m * M::MOD[3] + t3 + (uint64_t)(c >> 64);
      t2 = (uint64_t)c;
      c = (u128)t4 + (uint64_t)(c >> 64);
      t3 = (uint64_t)c;
      t4 = (uint64_t)(c >> 64);
    }
    r.w[0] = t0;
    r.w[1] = t1;
    r.w[2] = t2;
    r.w[3] = t3;
    reduce_once(r);
  }

  static inline void to_mont(U256& r, const U256& a) { mul(r, a, R2); }
  static inline void from_mont(U256& r, const U256& a) {
    static const U256 one = {{1, 0, 0, 0}};
    mul(r, a, one);
  }
  static inline bool is_one(const U256& a) { return u256_eq(a, R1); }

  // r = a^e (a in Montgomery form, e a plain integer), 4-bit fixed window.
  static void pow(U256& r, const U256& a, const U256& e) {
    U256 tbl[16];
    tbl[0] = R1;
    tbl[1] = a;
    for (int i = 2; i < 16; i++) mul(tbl[i], tbl[i - 1], a);
    U256 acc = R1;
    for (int i = 63; i >= 0; i--) {
      sqr(acc, acc);
      sqr(acc, acc);
      sqr(acc, acc);
      sqr(acc, acc);
      unsigned d = u256_bits(e, i * 4, 4);
      if (d) mul(acc, acc, tbl[d]);
    }
    r = acc;
  }
  // Inverse by Fermat (a != 0; inv(0) returns 0).
  static void inv(U256& r, const U256& a) {
    U256 e = modulus();
    U256 two = {{2, 0, 0, 0}};
    u256_sub(e, e, two);
    pow(r, a, e);
  }
  // Montgomery's trick: out[i] = 1/in[i] for n nonzero values; scratch holds n values.
  static void inv_batch(U256* out, const U256* in, U256* scratch, int n) {
    if (n == 0) return;
    scratch[0] = in[0];
    for (int i = 1; i < n; i++) mul(scratch[i], scratch[i - 1], in[i]);
    U256 acc;
    inv(acc, scratch[n - 1]);
    for (int i = n - 1; i > 0; i--) {
      U256 t;
      mul(t, acc, scratch[i - 1]);
      mul(acc, acc, in[i]);
      out[i] = t;
    }
    out[0] = acc;
  }

  // Computes R mod m and R^2 mod m by doubling; call once before use.
  static void init() {
    U256 x = {{1, 0, 0, 0}};
    for (int i = 0; i < 512; i++) {
      add(x, x, x);
      if (i == 255) R1 = x;
    }
    R2 = x;
  }
};
template <class M> U256 MontField<M>::R1;
template <class M> U256 MontField<M>::R2;

struct StarkPrimeModulus {
  static constexpr uint64_t MOD[4] = {1, 0, 0, 0x0800000000000011ULL};
};
struct StarkOrderModulus {
  static constexpr uint64_t MOD[4] = {0x1e66a241adc64d2fULL, 0xb781126dcae7b232ULL, 0xffffffffffffffffULL,
                                      0x0800000000000010ULL};
};

typedef MontField<StarkPrimeModulus> Fp;
typedef MontField<StarkOrderModulus> Fn;
