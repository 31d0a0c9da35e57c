// Stark curve: batch normalization and fixed-base signed-window tables (see curve.h).
#include "curve.h"

#include <cassert>

namespace curve {

U256 BETA;

void normalize_batch(Affine* out, const Jacobian* in, int n) {
  std::vector<U256> z(n), scratch(n);
  for (int i = 0; i < n; i++) z[i] = in[i].Z;
  Fp::inv_batch(z.data(), z.data(), scratch.data(), n);
  for (int i = 0; i < n; i++) {
    U256 zi2, zi3;
    Fp::sqr(zi2, z[i]);
    Fp::mul(zi3, zi2, z[i]);
    Fp::mul(out[i].x, in[i].X, zi2);
    Fp::mul(out[i].y, in[i].Y, zi3);
  }
}

static int rows_for(int window_bits, int scalar_bits) {
  // A signed recoding can carry one past the top window only when the top window is full.
  return scalar_bits % window_bits == 0 ? scalar_bits / window_bits + 1
                                        : (scalar_bits + window_bits - 1) / window_bits;
}

void FixedBaseTable::build(const Affine& base, int w, int scalar_bits, const U256* a) {
  window_bits = w;
  rows = rows_for(w, scalar_bits);
  general_a = a != nullptr;
  if (a) curve_a = *a;
  const U256* ca = general_a ? &curve_a : nullptr;
  const int half = 1 << (w - 1);
  std::vector<Jacobian> jac((size_t)rows * half);
  Jacobian b;
  from_affine(b, base);
  for (int i = 0; i < rows; i++) {
    Jacobian* row = &jac[(size_t)i * half];
    row[0] = b;
    for (int j = 1; j < half; j++)
      add_jacobian(row[j], row[j - 1], b, [&](Jacobian& out, const Jacobian& in) { dbl(out, in, ca); });
    dbl(b, row[half - 1], ca);
  }
  points.resize(jac.size());
  normalize_batch(points.data(), jac.data(), (int)jac.size());
}

void FixedBaseTable::digits(const U256& k, int16_t* out) const {
  const int w = window_bits, half = 1 << (w - 1);
  unsigned carry = 0;
  for (int i = 0; i < rows; i++) {
    int v = (int)(u256_bits(k, i * w, w) + carry);
    carry = v > half;
    if (carry) v -= 1 << w;
    out[i] = (int16_t)v;
  }
  assert(carry == 0);
}

void FixedBaseTable::mul_add(Jacobian& acc, const U256& k) const {
  int16_t d[64];
  assert(rows <= 64);
  digits(k, d);
  const U256* ca = general_a ? &curve_a : nullptr;
  for (int i = 0; i < rows; i++) {
    if (d[i] > 0) {
      madd(acc, acc, entry(i, d[i]), ca);
    } else if (d[i] < 0) {
      Affine q = entry(i, -d[i]);
      Fp::neg(q.y, q.y);
      madd(acc, acc, q, ca);
    }
  }
}

}  // namespace curve
