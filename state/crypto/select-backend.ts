// Chooses the process-wide hash backend at start-up: the native addon when it loads and
// passes a known-answer self-test, otherwise the @scure/starknet reference. Reads no
// environment: the caller (sequencer/scripts) maps PERPCHAIN_HASH_BACKEND=js to
// `{ prefer: "js" }` and prints the returned log line.

import type { HashBackend } from "./hash-backend.js";
import { hashBackend, setHashBackend } from "./hash.js";
import { createNativeBackend, loadNativeAddon, NATIVE_ADDON_PATH } from "./native-backend.js";
import { scureBackend } from "./scure-backend.js";

export type BackendPreference = "auto" | "native" | "js";

export interface BackendSelection {
  /** "native" or "scure-js". */
  readonly name: string;
  readonly backend: HashBackend;
  /** Why this backend (e.g. the load error or failed self-test of the native one). */
  readonly reason: string;
  /** One line for the caller to print at start-up. */
  readonly logLine: string;
}

export interface SelectOptions {
  /** "js" forces the reference; "native" fails loudly when the addon is unusable. */
  prefer?: BackendPreference;
  /** Addon file, default build/Release/perpchain_crypto.node. */
  addonPath?: string;
}

/** The addon loaded but disagreed with a known answer, or "native" was demanded and unusable. */
export class NativeBackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NativeBackendError";
  }
}

let selection: BackendSelection | undefined;

/** Selects and installs the backend (setHashBackend); safe to call more than once. */
export function selectHashBackend(options: SelectOptions = {}): BackendSelection {
  const prefer = options.prefer ?? "auto";
  if (prefer === "js") return install(scureBackend, "forced by option");
  const addon = loadNativeAddon(options.addonPath ?? NATIVE_ADDON_PATH);
  let failure: string;
  if (addon instanceof Error) {
    failure = `native addon not loaded (${firstLine(addon.message)}); run: node scripts/build-native.mjs`;
  } else {
    const native = createNativeBackend(addon);
    const mismatch = selfTest(native);
    if (mismatch === undefined) return install(native, "self-test passed");
    failure = `native addon failed its self-test: ${mismatch}`;
  }
  if (prefer === "native") throw new NativeBackendError(failure);
  return install(scureBackend, failure);
}

/** Name of the backend currently routed by hash.ts. */
export function activeHashBackendName(): string {
  return hashBackend().name;
}

/** The log line of the last selection, or a line naming the default when none was made. */
export function hashBackendLogLine(): string {
  return selection?.logLine ?? `hash backend: ${hashBackend().name} (default, no selection made)`;
}

function install(backend: HashBackend, reason: string): BackendSelection {
  setHashBackend(backend);
  selection = { name: backend.name, backend, reason, logLine: `hash backend: ${backend.name} (${reason})` };
  return selection;
}

// Known answers. Pedersen: StarkWare crypto-cpp src/starkware/crypto/pedersen_hash_test.cc;
// the rest computed with @scure/starknet 2.4.0 (see test/vectors/crypto/README.md).
const KNOWN = {
  pedersen: [
    [0x3d937c035c878245caf64531a5756109c53068da139362728feb561405371cbn, 0x208a0a10250e382e1e4bbe2880906c2791bf6275695e02fbbc6aeff9cd8b31an, 0x30e480bed5fe53fa909cc0f8c4d99b8f9f2c016be4c41e13a4848797979c662n],
    [0x58f580910a6ca59b28927c08fe6c43e2e303ca384badc365795fc645d479d45n, 0x78734f65a067be9bdb39de18434d71e79f7b6466a4b66bbd979ab9e7515fe0bn, 0x68cc0b76cddd1dd4ed2301ada9b7c872b23875d5ff837b3a87993e0d9996b87n],
  ],
  poseidon: [1n, 2n, 0x5d44a3decb2b2e0cc71071f7b802f45dd792d064f0fc7316c46514f70f9891an],
  poseidonMany: [[1n, 2n, 3n], 0x2f0d8840bcf3bc629598d8a6cc80cb7c0d9e52d93dab244bbf9cd0dca0ad082n],
  sign: {
    msgHash: 0xdeadbeefn,
    privateKey: 0x1234567890abcdefn,
    publicKey: 0x2abbefdcbf731195ee2acd186441eb536e86f888327b3655cffbd07b57dbf26n,
    r: 0x3cbc95c7ab430ef77fc63e9d98d32daa685de123c72bd533006c992ed352538n,
    s: 0x57989a7c6d2fbb2aee950b94d23cc2dd033380f65874b9d3fea1d72a3355536n,
  },
} as const;

/** Returns a description of the first wrong answer, or undefined when all agree. */
export function selfTest(backend: HashBackend): string | undefined {
  try {
    for (const [a, b, want] of KNOWN.pedersen) {
      if (backend.pedersen(a, b) !== want) return `pedersen(0x${a.toString(16)}, ...)`;
    }
    const batch = backend.pedersenBatch(KNOWN.pedersen.map((v) => v[0]), KNOWN.pedersen.map((v) => v[1]));
    if (batch.some((h, i) => h !== KNOWN.pedersen[i]![2])) return "pedersenBatch";
    const [pa, pb, pwant] = KNOWN.poseidon;
    if (backend.poseidon(pa, pb) !== pwant) return "poseidon(1, 2)";
    if (backend.poseidonBatch([pa], [pb])[0] !== pwant) return "poseidonBatch";
    if (backend.poseidonMany(KNOWN.poseidonMany[0]) !== KNOWN.poseidonMany[1]) return "poseidonMany([1, 2, 3])";
    const k = KNOWN.sign;
    const sig = backend.ecdsaSign(k.msgHash, k.privateKey);
    if (sig.r !== k.r || sig.s !== k.s) return "ecdsaSign";
    if (!backend.ecdsaVerify(k.msgHash, k.r, k.s, k.publicKey)) return "ecdsaVerify (valid signature)";
    if (backend.ecdsaVerify(k.msgHash + 1n, k.r, k.s, k.publicKey)) return "ecdsaVerify (wrong message)";
    return undefined;
  } catch (err) {
    return `threw ${err instanceof Error ? err.message : String(err)}`;
  }
}

function firstLine(s: string): string {
  return s.split("\n")[0]!.slice(0, 200);
}
