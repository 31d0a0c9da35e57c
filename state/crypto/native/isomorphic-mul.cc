// Variable-base scalar multiplication on the isomorphic curve E' (see isomorphic-mul.h):
// width-5 wNAF of k over the odd multiples Q', 3Q', ..., 15Q', in modified Jacobian
// coordinates (Cohen-Miyaji-Ono: W = a' Z^4 carried along, so each doubling costs 4M + 4S
// whatever a' = c^2 is).
#include "isomorphic-mul.h"

namespace curve {

namespace {

const int WNAF_BITS = 5;
const int TABLE_SIZE = 1 << (WNAF_BITS - 2);  // odd multiples 1, 3, ..., 15
const int MAX_DIGITS = 257;

struct ModifiedJacobian {
  Jacobian p;
  U256 W;  // a' Z^4
};

// r = 2p on y^2 = x^3 + a'x + b' given W = a' Z^4 (infinity, Z == 0, stays infinity).
inline void dbl_modified(ModifiedJacobian& r, const ModifiedJacobian& in) {
  const Jacobian& p = in.p;
  U256 XX, YY, YYYY8, S, M, t, X3, Y3, Z3, W3;
  Fp::sqr(XX, p.X);
  Fp::sqr(YY, p.Y);
  Fp::sqr(YYYY8, YY);
  Fp::dbl(YYYY8, YYYY8);
  Fp::dbl(YYYY8, YYYY8);
  Fp::dbl(YYYY8, YYYY8);
  Fp::mul(S, p.X, YY);
  Fp::dbl(S, S);
  Fp::dbl(S, S);
  Fp::dbl(M, XX);
  Fp::add(M, M, XX);
  Fp::add(M, M, in.W);
  Fp::sqr(X3, M);
  Fp::dbl(t, S);
  Fp::sub(X3, X3, t);
  Fp::sub(t, S, X3);
  Fp::mul(Y3, M, t);
  Fp::sub(Y3, Y3, YYYY8);
  Fp::mul(Z3, p.Y, p.Z);
  Fp::dbl(Z3, Z3);
  Fp::mul(W3, YYYY8, in.W);
  Fp::dbl(W3, W3);
  r.p.X = X3;
  r.p.Y = Y3;
  r.p.Z = Z3;
  r.W = W3;
}

inline void set_w(ModifiedJacobian& r, const U256& a) {
  Fp::sqr(r.W, r.p.Z);
  Fp::sqr(r.W, r.W);
  Fp::mul(r.W, r.W, a);
}

// r = p + q on E' (Jacobian), with W recomputed for the result.
inline void add_modified(ModifiedJacobian& r, const ModifiedJacobian& p, const Jacobian& q, const U256& a) {
  add_jacobian(r.p, p.p, q, [&](Jacobian& out, const Jacobian& in) { dbl(out, in, &a); });
  set_w(r, a);
}

// Width-5 non-adjacent form of k: digits in {0, +-1, +-3, ..., +-15}, least significant first.
int wnaf(int8_t* digits, const U256& k) {
  U256 d = k;
  int len = 0;
  while (!u256_is_zero(d)) {
    int digit = 0;
    if (d.w[0] & 1) {
      digit = (int)(d.w[0] & ((1u << WNAF_BITS) - 1));
      if (digit >= 1 << (WNAF_BITS - 1)) digit -= 1 << WNAF_BITS;
      const U256 mag = {{(uint64_t)(digit < 0 ? -digit : digit), 0, 0, 0}};
      if (digit > 0) u256_sub(d, d, mag);
      else u256_add(d, d, mag);
    }
    digits[len++] = (int8_t)digit;
    for (int i = 0; i < 4; i++) d.w[i] = (d.w[i] >> 1) | (i < 3 ? d.w[i + 1] << 63 : 0);
  }
  return len;
}

}  // namespace

void isomorphic_point(const U256& x, const U256& c, Affine& q, U256& a) {
  Fp::sqr(a, c);
  Fp::mul(q.x, c, x);
  q.y = a;
}

void isomorphic_mul_x(const U256& x, const U256& c, const U256& k, U256& num, U256& den) {
  Affine q1;
  U256 a;  // a' = c^2
  isomorphic_point(x, c, q1, a);
  ModifiedJacobian base;
  from_affine(base.p, q1);
  base.W = a;
  Jacobian table[TABLE_SIZE];
  table[0] = base.p;
  ModifiedJacobian twice;
  dbl_modified(twice, base);
  // table[i-1] == 2Q' would need Q' of order dividing 2i - 1 < n: never for a valid key, but
  // the doubling fallback keeps the sum right anyway.
  for (int i = 1; i < TABLE_SIZE; i++)
    add_jacobian(table[i], table[i - 1], twice.p, [&](Jacobian& out, const Jacobian& in) { dbl(out, in, &a); });

  int8_t digits[MAX_DIGITS];
  const int len = wnaf(digits, k);
  ModifiedJacobian acc;
  set_infinity(acc.p);
  acc.W = U256{{0, 0, 0, 0}};
  bool started = false;
  for (int i = len - 1; i >= 0; i--) {
    if (started) dbl_modified(acc, acc);
    const int digit = digits[i];
    if (digit == 0) continue;
    Jacobian q = table[(digit < 0 ? -digit : digit) >> 1];
    if (digit < 0) Fp::neg(q.Y, q.Y);
    if (!started) {
      acc.p = q;
      set_w(acc, a);
      started = true;
    } else {
      add_modified(acc, acc, q, a);
    }
  }
  if (!started || is_infinity(acc.p)) {
    num = Fp::R1;
    den = U256{{0, 0, 0, 0}};
    return;
  }
  num = acc.p.X;
  Fp::sqr(den, acc.p.Z);
  Fp::mul(den, den, c);
}

}  // namespace curve
