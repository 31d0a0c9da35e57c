// x(k * Q) for a Stark-curve point Q known only by its x coordinate, without a square root.
//
// With Q = (x, y) and c = x^3 + x + beta = y^2, the map (x', y') -> (u^2 x', u^3 y') with
// u = y sends E: y^2 = x^3 + x + beta to the isomorphic curve E': Y^2 = X^3 + c^2 X + c^3 beta,
// and sends Q to (c x, c^2), whose coordinates are known (Pornin's trick, as used for
// x-only ECDH). So x(k Q) = X(k Q') / c, computed on E' with no knowledge of y. The caller must have
// checked that c is a nonzero square (otherwise E' is the quadratic twist and the answer is
// meaningless). Not constant-time: public inputs only (signature verification).
#pragma once
#include "curve.h"

namespace curve {

// Q' = (c x, c^2) on E' and E's coefficient a' = c^2 (all Montgomery form).
void isomorphic_point(const U256& x, const U256& c, Affine& q, U256& a);

// Sets num/den to x(k Q) as a fraction (den == 0 when k Q is infinity). x and c in Montgomery
// form, c = rhs(x) a nonzero square; k a plain integer below 2^252.
void isomorphic_mul_x(const U256& x, const U256& c, const U256& k, U256& num, U256& den);

}  // namespace curve
