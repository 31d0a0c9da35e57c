// Benchmarks use the backend the node would use: the native addon when it loads and
// passes its self-test, the JS reference otherwise. Returns the line to print.

import { publicKeyOf } from "../../sequencer/predeployed-accounts.js";
import type { HashBackend } from "../../state/crypto/hash-backend.js";
import { selectHashBackend } from "../../state/crypto/select-backend.js";

export async function useFastestBackend(): Promise<string> {
  const sel = await selectHashBackend({ prefer: process.env.PERPCHAIN_HASH_BACKEND === "js" ? "js" : "auto" });
  return sel.logLine;
}

/** Raw single-core rates of a backend: ECDSA verify and chained Pedersen, 1 s each, fixed inputs. */
export function cryptoRates(b: HashBackend): { ecdsa_verify_per_s: number; pedersen_per_s: number } {
  const priv = 0x1234567890abcdefn;
  const pub = publicKeyOf(priv);
  const msgs = Array.from({ length: 256 }, (_, i) => (BigInt(i + 1) * 0x9e3779b97f4a7c15n) % (1n << 250n));
  const sigs = msgs.map((m) => b.ecdsaSign(m, priv));
  let n = 0;
  let t = performance.now();
  while (performance.now() < t + 1000) {
    const i = n % msgs.length;
    if (!b.ecdsaVerify(msgs[i]!, sigs[i]!.r, sigs[i]!.s, pub)) throw new Error("self-signed signature does not verify");
    n++;
  }
  const ecdsa = n / ((performance.now() - t) / 1000);
  n = 0;
  t = performance.now();
  let x = 1n;
  while (performance.now() < t + 1000) {
    for (let j = 0; j < 100; j++) x = b.pedersen(x, BigInt(j));
    n += 100;
  }
  return { ecdsa_verify_per_s: Math.round(ecdsa), pedersen_per_s: Math.round(n / ((performance.now() - t) / 1000)) };
}
