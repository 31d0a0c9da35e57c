// The verify memo (sequencer/verify-cache.ts): answers are remembered per (hash, r, s, key),
// a different signature or key for the same hash is checked again, a hash keeps at most a
// few answers, and the oldest hash is forgotten first.

import { describe, expect, it } from "vitest";
import { withVerifyCache } from "../../sequencer/verify-cache.js";
import type { HashBackend } from "../../state/crypto/hash-backend.js";
import { scureBackend } from "../../state/crypto/scure-backend.js";

/** A backend whose verification says yes exactly when r + s + key is even, counting calls. */
function fake(): { backend: HashBackend; calls: () => number } {
  let n = 0;
  const backend: HashBackend = {
    ...scureBackend,
    ecdsaVerify: (_m, r, s, k) => {
      n++;
      return (r + s + k) % 2n === 0n;
    },
  };
  return { backend, calls: () => n };
}

describe("verify memo", () => {
  it("remembers each (hash, r, s, key) answer and checks any other combination again", () => {
    const f = fake();
    const m = withVerifyCache(f.backend, 100);
    expect(m.ecdsaVerify(7n, 1n, 1n, 2n)).toBe(true);
    expect(m.ecdsaVerify(7n, 1n, 1n, 2n)).toBe(true);
    expect(f.calls()).toBe(1);
    expect(m.ecdsaVerify(7n, 1n, 2n, 2n)).toBe(false); // another s
    expect(m.ecdsaVerify(7n, 1n, 1n, 3n)).toBe(false); // another key
    expect(f.calls()).toBe(3);
    expect(m.ecdsaVerify(7n, 1n, 1n, 2n)).toBe(true);
    expect(m.ecdsaVerify(7n, 1n, 2n, 2n)).toBe(false);
    expect(f.calls()).toBe(3);
  });

  it("keeps at most 4 answers for one hash (newest kept), and forgets the oldest hash past the capacity", () => {
    const f = fake();
    const m = withVerifyCache(f.backend, 3);
    for (let s = 0n; s < 10n; s++) m.ecdsaVerify(1n, 0n, s, 0n);
    expect(f.calls()).toBe(10);
    for (let s = 6n; s < 10n; s++) m.ecdsaVerify(1n, 0n, s, 0n); // the 4 newest: remembered
    expect(f.calls()).toBe(10);
    m.ecdsaVerify(1n, 0n, 5n, 0n); // the 5th newest: forgotten
    expect(f.calls()).toBe(11);
    m.ecdsaVerify(2n, 0n, 0n, 0n);
    m.ecdsaVerify(3n, 0n, 0n, 0n);
    m.ecdsaVerify(4n, 0n, 0n, 0n); // a 4th hash: hash 1 (the oldest) goes
    expect(f.calls()).toBe(14);
    m.ecdsaVerify(4n, 0n, 0n, 0n);
    m.ecdsaVerify(2n, 0n, 0n, 0n);
    expect(f.calls()).toBe(14);
    m.ecdsaVerify(1n, 0n, 9n, 0n);
    expect(f.calls()).toBe(15);
  });
});
