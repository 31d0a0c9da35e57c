// Constant tables, Pedersen and Poseidon (see stark.h).
#include "stark.h"

#include <mutex>
#include <vector>

#include "stark-constants.h"

namespace stark {

// Shared immutable tables, built once.
curve::FixedBaseTable PEDERSEN_A_LOW, PEDERSEN_A_HIGH, PEDERSEN_B_LOW, PEDERSEN_B_HIGH;
curve::FixedBaseTable GENERATOR_TABLE;
Affine PEDERSEN_SHIFT;
static U256 POSEIDON_RC[91][3];  // Montgomery form
static std::once_flag init_flag;

void ecdsa_init();  // ecdsa.cc

static Affine affine_from_hex(const char* const xy[2]) {
  Affine p;
  Fp::to_mont(p.x, u256_from_hex(xy[0]));
  Fp::to_mont(p.y, u256_from_hex(xy[1]));
  return p;
}

static void init_once() {
  Fp::init();
  Fn::init();
  Fp::to_mont(curve::BETA, u256_from_hex(stark_constants::CURVE_BETA));
  PEDERSEN_SHIFT = affine_from_hex(stark_constants::PEDERSEN_POINTS[0]);
  // Low parts are 248 bits with 8-bit signed windows (32 rows x 128 points); high parts are
  // 4 bits, one row of 16 points.
  PEDERSEN_A_LOW.build(affine_from_hex(stark_constants::PEDERSEN_POINTS[1]), 8, 248);
  PEDERSEN_A_HIGH.build(affine_from_hex(stark_constants::PEDERSEN_POINTS[2]), 5, 4);
  PEDERSEN_B_LOW.build(affine_from_hex(stark_constants::PEDERSEN_POINTS[3]), 8, 248);
  PEDERSEN_B_HIGH.build(affine_from_hex(stark_constants::PEDERSEN_POINTS[4]), 5, 4);
  GENERATOR_TABLE.build(affine_from_hex(stark_constants::GENERATOR), 8, 252);
  for (int i = 0; i < 91; i++)
    for (int j = 0; j < 3; j++) Fp::to_mont(POSEIDON_RC[i][j], u256_from_hex(stark_constants::POSEIDON_RC[i][j]));
  ecdsa_init();
}

void init() { std::call_once(init_flag, init_once); }

bool is_felt(const U256& a) { return u256_lt(a, Fp::modulus()); }

static const uint64_t LOW248_MASK = 0x00ffffffffffffffULL;

// shift + a_low*P1 + a_high*P2 + b_low*P3 + b_high*P4, in Jacobian form.
static void pedersen_point(Jacobian& acc, const U256& a, const U256& b) {
  curve::from_affine(acc, PEDERSEN_SHIFT);
  U256 low = a, high = {{a.w[3] >> 56, 0, 0, 0}};
  low.w[3] &= LOW248_MASK;
  PEDERSEN_A_LOW.mul_add(acc, low);
  PEDERSEN_A_HIGH.mul_add(acc, high);
  low = b;
  low.w[3] &= LOW248_MASK;
  high = U256{{b.w[3] >> 56, 0, 0, 0}};
  PEDERSEN_B_LOW.mul_add(acc, low);
  PEDERSEN_B_HIGH.mul_add(acc, high);
}

U256 pedersen(const U256& a, const U256& b) {
  U256 out;
  pedersen_batch(&out, &a, &b, 1);
  return out;
}

// Jacobian path: one hash at a time, one shared inversion at the end of a chunk.
static void pedersen_batch_jacobian(U256* out, const U256* a, const U256* b, int n) {
  const int CHUNK = 256;
  Jacobian acc[CHUNK];
  U256 zz[CHUNK], scratch[CHUNK];
  for (int base = 0; base < n; base += CHUNK) {
    const int m = n - base < CHUNK ? n - base : CHUNK;
    for (int i = 0; i < m; i++) {
      pedersen_point(acc[i], a[base + i], b[base + i]);
      // The sum reaching infinity would need a discrete-log relation between the constant
      // points; keep the inversion well-defined anyway (x of infinity reported as 0).
      if (curve::is_infinity(acc[i])) acc[i].X = U256{{0, 0, 0, 0}}, acc[i].Z = Fp::R1;
      Fp::sqr(zz[i], acc[i].Z);
    }
    Fp::inv_batch(zz, zz, scratch, m);
    for (int i = 0; i < m; i++) {
      U256 x;
      Fp::mul(x, acc[i].X, zz[i]);
      Fp::from_mont(out[base + i], x);
    }
  }
}

// Affine path for big batches: all hashes of a chunk advance one table row per step, and the
// step's additions share one inversion (Montgomery's trick), so an addition costs about
// 6 multiplications instead of the 11 of a mixed Jacobian addition. An addition whose two x
// coordinates coincide (P == +-Q, which would take a discrete-log relation between the
// constant points) sends that hash to the Jacobian path, which handles every case.
namespace {

const int AFFINE_CHUNK = 512;
struct Step {
  const curve::FixedBaseTable* table;
  int row;
  int digit_offset;  // where this table's digits start in a hash's digit array
};
const int MAX_STEPS = 80;

struct PedersenPlan {
  Step steps[MAX_STEPS];
  int count = 0, digits_per_hash = 0;
  void add_table(const curve::FixedBaseTable& t) {
    for (int r = 0; r < t.rows; r++) steps[count++] = Step{&t, r, digits_per_hash};
    digits_per_hash += t.rows;
  }
};

}  // namespace

static void pedersen_chunk_affine(U256* out, const U256* a, const U256* b, int m, const PedersenPlan& plan) {
  std::vector<int16_t> digits((size_t)m * plan.digits_per_hash);
  std::vector<Affine> acc(m);
  std::vector<U256> dx(m), prefix(m);
  std::vector<int> active(m);
  std::vector<char> fallback(m, 0);
  const int off_a_high = PEDERSEN_A_LOW.rows, off_b_low = off_a_high + PEDERSEN_A_HIGH.rows,
            off_b_high = off_b_low + PEDERSEN_B_LOW.rows;
  for (int i = 0; i < m; i++) {
    int16_t* d = &digits[(size_t)i * plan.digits_per_hash];
    U256 low = a[i], high = {{a[i].w[3] >> 56, 0, 0, 0}};
    low.w[3] &= LOW248_MASK;
    PEDERSEN_A_LOW.digits(low, d);
    PEDERSEN_A_HIGH.digits(high, d + off_a_high);
    low = b[i];
    low.w[3] &= LOW248_MASK;
    high = U256{{b[i].w[3] >> 56, 0, 0, 0}};
    PEDERSEN_B_LOW.digits(low, d + off_b_low);
    PEDERSEN_B_HIGH.digits(high, d + off_b_high);
    acc[i] = PEDERSEN_SHIFT;
  }
  for (int s = 0; s < plan.count; s++) {
    const Step& step = plan.steps[s];
    const int col = step.digit_offset + step.row;
    int n_active = 0;
    for (int i = 0; i < m; i++) {
      const int d = digits[(size_t)i * plan.digits_per_hash + col];
      if (d == 0 || fallback[i]) continue;
      const Affine& q = step.table->entry(step.row, d < 0 ? -d : d);
      Fp::sub(dx[n_active], q.x, acc[i].x);
      if (u256_is_zero(dx[n_active])) {
        fallback[i] = 1;
        continue;
      }
      prefix[n_active] = dx[n_active];
      if (n_active > 0) Fp::mul(prefix[n_active], prefix[n_active - 1], dx[n_active]);
      active[n_active++] = i;
    }
    if (n_active == 0) continue;
    U256 inv;
    Fp::inv(inv, prefix[n_active - 1]);
    for (int k = n_active - 1; k >= 0; k--) {
      const int i = active[k];
      U256 inv_dx;
      if (k > 0) {
        Fp::mul(inv_dx, inv, prefix[k - 1]);
        Fp::mul(inv, inv, dx[k]);
      } else {
        inv_dx = inv;
      }
      const int d = digits[(size_t)i * plan.digits_per_hash + col];
      const Affine& q = step.table->entry(step.row, d < 0 ? -d : d);
      U256 qy = q.y;
      if (d < 0) Fp::neg(qy, qy);
      Affine& p = acc[i];
      U256 lambda, x3, y3;
      Fp::sub(lambda, qy, p.y);
      Fp::mul(lambda, lambda, inv_dx);
      Fp::sqr(x3, lambda);
      Fp::sub(x3, x3, p.x);
      Fp::sub(x3, x3, q.x);
      Fp::sub(y3, p.x, x3);
      Fp::mul(y3, y3, lambda);
      Fp::sub(y3, y3, p.y);
      p.x = x3;
      p.y = y3;
    }
  }
  for (int i = 0; i < m; i++) {
    if (fallback[i]) pedersen_batch_jacobian(&out[i], &a[i], &b[i], 1);
    else Fp::from_mont(out[i], acc[i].x);
  }
}

// Below this many pairs the per-step inversions of the affine path cost more than they save.
static const int AFFINE_MIN_BATCH = 64;

void pedersen_batch(U256* out, const U256* a, const U256* b, int n) {
  if (n < AFFINE_MIN_BATCH) {
    pedersen_batch_jacobian(out, a, b, n);
    return;
  }
  PedersenPlan plan;
  plan.add_table(PEDERSEN_A_LOW);
  plan.add_table(PEDERSEN_A_HIGH);
  plan.add_table(PEDERSEN_B_LOW);
  plan.add_table(PEDERSEN_B_HIGH);
  // Split evenly so no chunk is left too small for the affine path.
  const int chunks = (n + AFFINE_CHUNK - 1) / AFFINE_CHUNK;
  for (int c = 0, start = 0; c < chunks; c++) {
    const int m = (n - start) / (chunks - c);
    pedersen_chunk_affine(out + start, a + start, b + start, m, plan);
    start += m;
  }
}

static inline void cube(U256& x) {
  U256 t;
  Fp::sqr(t, x);
  Fp::mul(x, t, x);
}

// Hades permutation, width 3: 4 full rounds, 83 partial (S-box on the last lane), 4 full.
// MDS = [[3,1,1],[1,-1,1],[1,1,-2]].
static void hades(U256 s[3]) {
  for (int round = 0; round < 91; round++) {
    const U256* rc = POSEIDON_RC[round];
    Fp::add(s[0], s[0], rc[0]);
    Fp::add(s[1], s[1], rc[1]);
    Fp::add(s[2], s[2], rc[2]);
    if (round < 4 || round >= 87) {
      cube(s[0]);
      cube(s[1]);
    }
    cube(s[2]);
    U256 t, u;
    Fp::add(t, s[0], s[1]);
    Fp::add(t, t, s[2]);
    Fp::dbl(u, s[0]);
    Fp::add(s[0], t, u);
    Fp::dbl(u, s[1]);
    Fp::sub(s[1], t, u);
    Fp::dbl(u, s[2]);
    Fp::add(u, u, s[2]);
    Fp::sub(s[2], t, u);
  }
}

U256 poseidon(const U256& a, const U256& b) {
  U256 s[3];
  Fp::to_mont(s[0], a);
  Fp::to_mont(s[1], b);
  Fp::to_mont(s[2], U256{{2, 0, 0, 0}});
  hades(s);
  U256 out;
  Fp::from_mont(out, s[0]);
  return out;
}

// Sponge with rate 2: append 1, pad with 0 to even length, absorb pairs into a zero state.
U256 poseidon_many(const U256* values, int n) {
  U256 s[3] = {{{0, 0, 0, 0}}, {{0, 0, 0, 0}}, {{0, 0, 0, 0}}};
  const int padded = (n + 1 + 1) / 2 * 2;
  for (int i = 0; i < padded; i += 2) {
    for (int j = 0; j < 2; j++) {
      const int k = i + j;
      U256 v;
      if (k < n) Fp::to_mont(v, values[k]);
      else if (k == n) v = Fp::R1;
      else v = U256{{0, 0, 0, 0}};
      Fp::add(s[j], s[j], v);
    }
    hades(s);
  }
  U256 out;
  Fp::from_mont(out, s[0]);
  return out;
}

}  // namespace stark
