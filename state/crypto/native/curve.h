// Stark curve y^2 = x^3 + x + beta over Fp: Jacobian point arithmetic and fixed-base tables
// with signed windows. Coordinates are in Montgomery form. Formulas: Bernstein-Lange,
// Explicit-Formulas Database (dbl-2007-bl, madd-2007-bl, add-2007-bl), with the exceptional
// cases (infinity, P == Q, P == -Q) handled explicitly.
#pragma once
#include <vector>

#include "field.h"

struct Affine {
  U256 x, y;
};
// Z == 0 is the point at infinity.
struct Jacobian {
  U256 X, Y, Z;
};

namespace curve {

extern U256 BETA;  // Montgomery form

static inline void set_infinity(Jacobian& p) {
  p.X = Fp::R1;
  p.Y = Fp::R1;
  p.Z = U256{{0, 0, 0, 0}};
}
static inline bool is_infinity(const Jacobian& p) { return u256_is_zero(p.Z); }
static inline void from_affine(Jacobian& r, const Affine& a) {
  r.X = a.x;
  r.Y = a.y;
  r.Z = Fp::R1;
}

// r = 2p on y^2 = x^3 + a x + b, with a = 1 (the Stark curve) unless `a` is given (an
// isomorphic curve, see isomorphic-mul.h). Handles infinity (Z stays 0).
static inline void dbl(Jacobian& r, const Jacobian& p, const U256* a = nullptr) {
  U256 XX, YY, YYYY, ZZ, S, M, T, t;
  Fp::sqr(XX, p.X);
  Fp::sqr(YY, p.Y);
  Fp::sqr(YYYY, YY);
  Fp::sqr(ZZ, p.Z);
  Fp::add(S, p.X, YY);
  Fp::sqr(S, S);
  Fp::sub(S, S, XX);
  Fp::sub(S, S, YYYY);
  Fp::dbl(S, S);
  Fp::sqr(M, ZZ);
  if (a) Fp::mul(M, M, *a);  // a * ZZ^2
  Fp::add(M, M, XX);
  Fp::dbl(t, XX);
  Fp::add(M, M, t);
  Fp::sqr(T, M);
  Fp::dbl(t, S);
  Fp::sub(T, T, t);
  U256 Z3;
  Fp::add(Z3, p.Y, p.Z);
  Fp::sqr(Z3, Z3);
  Fp::sub(Z3, Z3, YY);
  Fp::sub(Z3, Z3, ZZ);
  U256 Y3;
  Fp::sub(t, S, T);
  Fp::mul(Y3, M, t);
  Fp::dbl(t, YYYY);
  Fp::dbl(t, t);
  Fp::dbl(t, t);
  Fp::sub(Y3, Y3, t);
  r.X = T;
  r.Y = Y3;
  r.Z = Z3;
}

// r = p + q with q affine (q is never infinity here); `a` as for dbl.
static inline void madd(Jacobian& r, const Jacobian& p, const Affine& q, const U256* a = nullptr) {
  if (is_infinity(p)) {
    from_affine(r, q);
    return;
  }
  U256 Z1Z1, U2, S2, H, HH, I, J, rr, V, t;
  Fp::sqr(Z1Z1, p.Z);
  Fp::mul(U2, q.x, Z1Z1);
  Fp::mul(S2, q.y, p.Z);
  Fp::mul(S2, S2, Z1Z1);
  Fp::sub(H, U2, p.X);
  Fp::sub(rr, S2, p.Y);
  if (u256_is_zero(H)) {
    if (u256_is_zero(rr)) dbl(r, p, a);
    else set_infinity(r);
    return;
  }
  Fp::dbl(rr, rr);
  Fp::sqr(HH, H);
  Fp::dbl(I, HH);
  Fp::dbl(I, I);
  Fp::mul(J, H, I);
  Fp::mul(V, p.X, I);
  U256 X3, Y3, Z3;
  Fp::sqr(X3, rr);
  Fp::sub(X3, X3, J);
  Fp::dbl(t, V);
  Fp::sub(X3, X3, t);
  Fp::sub(t, V, X3);
  Fp::mul(Y3, rr, t);
  Fp::mul(t, p.Y, J);
  Fp::dbl(t, t);
  Fp::sub(Y3, Y3, t);
  Fp::add(Z3, p.Z, H);
  Fp::sqr(Z3, Z3);
  Fp::sub(Z3, Z3, Z1Z1);
  Fp::sub(Z3, Z3, HH);
  r.X = X3;
  r.Y = Y3;
  r.Z = Z3;
}

// r = p + q, both Jacobian, on any short Weierstrass curve: the formula does not involve a;
// `double_p(r, p)` handles p == q (doubling does depend on a).
template <class Dbl>
static inline void add_jacobian(Jacobian& r, const Jacobian& p, const Jacobian& q, Dbl double_p) {
  if (is_infinity(p)) {
    r = q;
    return;
  }
  if (is_infinity(q)) {
    r = p;
    return;
  }
  U256 Z1Z1, Z2Z2, U1, U2, S1, S2, H, I, J, rr, V, t;
  Fp::sqr(Z1Z1, p.Z);
  Fp::sqr(Z2Z2, q.Z);
  Fp::mul(U1, p.X, Z2Z2);
  Fp::mul(U2, q.X, Z1Z1);
  Fp::mul(S1, p.Y, q.Z);
  Fp::mul(S1, S1, Z2Z2);
  Fp::mul(S2, q.Y, p.Z);
  Fp::mul(S2, S2, Z1Z1);
  Fp::sub(H, U2, U1);
  Fp::sub(rr, S2, S1);
  if (u256_is_zero(H)) {
    if (u256_is_zero(rr)) double_p(r, p);
    else set_infinity(r);
    return;
  }
  Fp::dbl(rr, rr);
  Fp::dbl(I, H);
  Fp::sqr(I, I);
  Fp::mul(J, H, I);
  Fp::mul(V, U1, I);
  U256 X3, Y3, Z3;
  Fp::sqr(X3, rr);
  Fp::sub(X3, X3, J);
  Fp::dbl(t, V);
  Fp::sub(X3, X3, t);
  Fp::sub(t, V, X3);
  Fp::mul(Y3, rr, t);
  Fp::mul(t, S1, J);
  Fp::dbl(t, t);
  Fp::sub(Y3, Y3, t);
  Fp::add(Z3, p.Z, q.Z);
  Fp::sqr(Z3, Z3);
  Fp::sub(Z3, Z3, Z1Z1);
  Fp::sub(Z3, Z3, Z2Z2);
  Fp::mul(Z3, Z3, H);
  r.X = X3;
  r.Y = Y3;
  r.Z = Z3;
}

// r = p + q, both Jacobian, on the Stark curve.
static inline void add(Jacobian& r, const Jacobian& p, const Jacobian& q) {
  add_jacobian(r, p, q, [](Jacobian& out, const Jacobian& in) { dbl(out, in); });
}

// y^2 for a given x: x^3 + x + beta (all Montgomery).
static inline void rhs(U256& r, const U256& x) {
  U256 t;
  Fp::sqr(t, x);
  Fp::mul(t, t, x);
  Fp::add(t, t, x);
  Fp::add(r, t, BETA);
}

// Converts n finite Jacobian points to affine with one inversion.
void normalize_batch(Affine* out, const Jacobian* in, int n);

// A table for multiples of one fixed point B with signed w-bit windows:
// row i, entry j holds (j+1) * 2^(w*i) * B, j in [0, 2^(w-1)).
struct FixedBaseTable {
  int window_bits = 0;
  int rows = 0;
  std::vector<Affine> points;  // rows * 2^(w-1)
  bool general_a = false;      // the curve's a is curve_a instead of 1
  U256 curve_a = {{0, 0, 0, 0}};

  // Builds a table covering scalars below 2^scalar_bits, on the Stark curve or, given `a`
  // (Montgomery form), on the curve y^2 = x^3 + a x + b' that `base` lies on.
  void build(const Affine& base, int window_bits, int scalar_bits, const U256* a = nullptr);
  // acc += k * B for k < 2^scalar_bits (the bound given to build).
  void mul_add(Jacobian& acc, const U256& k) const;
  // The signed window digits of k, one per row (each in [-2^(w-1) + 1, 2^(w-1)]); mul_add adds
  // digit[i] * 2^(w*i) * B for each row i, i.e. entry(i, |digit|), negated when digit < 0.
  void digits(const U256& k, int16_t* out) const;
  const Affine& entry(int row, int magnitude) const { return points[(size_t)row * (1 << (window_bits - 1)) + magnitude - 1]; }
};

}  // namespace curve
