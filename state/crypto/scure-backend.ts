// Reference hash backend: @scure/starknet, pure JS. Slow but trusted; every faster
// backend must agree with it (differential tests).

import * as scure from "@scure/starknet";
import type { Felt } from "../felt.js";
import type { HashBackend } from "./hash-backend.js";

export const scureBackend: HashBackend = {
  name: "scure-js",
  pedersen: (a, b) => BigInt(scure.pedersen(a, b)),
  poseidon: (a, b) => scure.poseidonHash(a, b),
  poseidonMany: (values) => scure.poseidonHashMany(values as Felt[]),
  pedersenBatch(a, b) {
    const out = new Array<Felt>(a.length);
    for (let i = 0; i < a.length; i++) out[i] = BigInt(scure.pedersen(a[i]!, b[i]!));
    return out;
  },
  poseidonBatch(a, b) {
    const out = new Array<Felt>(a.length);
    for (let i = 0; i < a.length; i++) out[i] = scure.poseidonHash(a[i]!, b[i]!);
    return out;
  },
  ecdsaVerify(msgHash, r, s, publicKey) {
    // Starknet public keys are x coordinates only; like Cairo's check_ecdsa_signature,
    // accept a signature valid for either of the two points with that x.
    if (r <= 0n || r >= scure.MAX_VALUE || s <= 0n || s >= scure.MAX_VALUE) return false;
    if (msgHash >= scure.MAX_VALUE) return false;
    const x = publicKey.toString(16).padStart(64, "0");
    for (const prefix of ["02", "03"]) {
      try {
        const sig = new scure.Signature(r, s);
        if (scure.verify(sig, toHexArg(msgHash), "0x" + prefix + x)) return true;
      } catch {
        return false; // not a point on the curve, or s has no inverse
      }
    }
    return false;
  },
  ecdsaSign(msgHash, privateKey) {
    const sig = scure.sign(toHexArg(msgHash), toHexArg(privateKey));
    return { r: sig.r, s: sig.s };
  },
};

function toHexArg(v: Felt): string {
  return "0x" + v.toString(16).padStart(64, "0");
}
