// One-off generator of the committed crypto vectors, computed with the reference
// @scure/starknet (run: npx tsx test/vectors/crypto/generate.ts). Inputs come from prng.ts.
import { writeFileSync } from "node:fs";
import * as scure from "@scure/starknet";
import { ecdsaInputs, pedersenInputs } from "./prng.js";

const COUNT = 10_000;
const hex = (v: bigint) => v.toString(16);
const pad = (v: bigint) => "0x" + v.toString(16).padStart(64, "0");
const source = "computed with @scure/starknet 2.4.0 (npm) by test/vectors/crypto/generate.ts; inputs from prng.ts";

const ped = pedersenInputs(COUNT).map(([a, b], i) => {
  if (i % 1000 === 0) process.stderr.write(`pedersen ${i}\n`);
  return hex(BigInt(scure.pedersen(a, b)));
});
writeFileSync(new URL("./pedersen-10k.json", import.meta.url), JSON.stringify({ source, seed: "0x5eed0001", count: COUNT, hashes: ped }) + "\n");

const pubs = new Map<bigint, string>();
const sigs = ecdsaInputs(COUNT).map(({ privateKey, msgHash }, i) => {
  if (i % 1000 === 0) process.stderr.write(`ecdsa ${i}\n`);
  let pub = pubs.get(privateKey);
  if (!pub) pubs.set(privateKey, (pub = hex(BigInt(scure.getStarkKey(pad(privateKey))))));
  const sig = scure.sign(pad(msgHash), pad(privateKey));
  return [hex(sig.r), hex(sig.s), pub];
});
writeFileSync(new URL("./ecdsa-10k.json", import.meta.url), JSON.stringify({ source, seed: "0x5eed0002", count: COUNT, format: "[r, s, publicKey] hex per case", cases: sigs }) + "\n");
