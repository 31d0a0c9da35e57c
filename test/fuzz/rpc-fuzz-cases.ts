// Malformed JSON-RPC payloads for the fuzz test (rpc-fuzz.test.ts), drawn from a seeded PRNG so a
// failing case can be replayed from its seed and index. Each case is one HTTP body or WS frame.
// Plausible params are built per param name from what the node serves (addresses, hashes, a
// signed INVOKE), then mutated, so the fuzzer reaches the deep parsers, not only the envelope.
// Never sends anything but to the node under test; never depends on wall-clock time.

import type { SeededRandom } from "../support/seeded-random.js";

export interface FuzzMethod {
  name: string;
  /** Positional param names, "?" marks optional. */
  params: string[];
  transports: readonly ("http" | "ws")[];
}

/** What the generator knows of the node under test. */
export interface FuzzWorld {
  methods: FuzzMethod[];
  addresses: string[];
  classHashes: string[];
  txHashes: string[];
  blockHashes: string[];
  /** A signed INVOKE v3 as starknet.js sends it (params of starknet_addInvokeTransaction). */
  invoke: Record<string, unknown>;
}

export type FuzzKind =
  | "bytes"
  | "truncated"
  | "nested"
  | "params"
  | "felt"
  | "unknown-method"
  | "envelope"
  | "batch"
  | "big-batch"
  | "over-batch"
  | "big-body"
  | "big-push"
  | "huge-body";

export interface FuzzCase {
  kind: FuzzKind;
  body: Buffer;
  /** The answer may legitimately be empty (notifications only). */
  mayBeSilent: boolean;
  /** The body is above the server's limit: HTTP answers 413, WS closes with 1009. */
  overLimit: boolean;
}

const P = (1n << 251n) + 17n * (1n << 192n) + 1n;

/** Weighted kinds: mostly param mutations, a few expensive ones. */
const WEIGHTS: [FuzzKind, number][] = [
  ["params", 50],
  ["felt", 12],
  ["bytes", 8],
  ["truncated", 8],
  ["envelope", 6],
  ["unknown-method", 4],
  ["nested", 4],
  ["batch", 6],
  ["big-batch", 0.15],
  ["over-batch", 0.3],
  ["big-body", 0.1],
  ["big-push", 0.2],
  ["huge-body", 0.05],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((a, [, w]) => a + w, 0);

export const HUGE_BODY_BYTES = 10 * 1024 * 1024 + 1;

export function pickKind(r: SeededRandom, allowHuge: boolean): FuzzKind {
  for (;;) {
    let x = r.next() * TOTAL_WEIGHT;
    for (const [k, w] of WEIGHTS) {
      x -= w;
      if (x < 0) {
        if (k === "huge-body" && !allowHuge) break;
        return k;
      }
    }
  }
}

export function makeCase(r: SeededRandom, world: FuzzWorld, transport: "http" | "ws", kind: FuzzKind, id: number): FuzzCase {
  // Over the limit when it is: mutations that repeat array items (op 5, up to three times) can
  // grow a request past the 10 MiB the server takes, and then a 413 is the right answer.
  const text = (v: unknown, silent = false): FuzzCase => {
    const body = Buffer.from(typeof v === "string" ? v : JSON.stringify(v));
    return { kind, body, mayBeSilent: silent, overLimit: body.length >= HUGE_BODY_BYTES };
  };
  switch (kind) {
    case "bytes": {
      const n = r.int(r.next() < 0.9 ? 256 : 64 * 1024);
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = r.int(256);
      // Random bytes that happen to parse as JSON are rare; a bare number or string answers -32600.
      return { kind, body: b, mayBeSilent: false, overLimit: false };
    }
    case "truncated": {
      const full = JSON.stringify(request(r, world, transport, id));
      return text(full.slice(0, r.int(full.length)));
    }
    case "nested": {
      const depth = [10, 1000, 10_000, 100_000, 1_000_000][r.int(5)]!;
      const [open, close] = r.next() < 0.5 ? ["[", "]"] : ['{"a":', "}"];
      const nest = open.repeat(depth) + "1" + close.repeat(depth);
      // As the whole payload, or as the params of a real method.
      if (r.next() < 0.5) return text(nest);
      const m = pickMethod(r, world, transport);
      return text(`{"jsonrpc":"2.0","id":${id},"method":${JSON.stringify(m.name)},"params":[${nest}]}`);
    }
    case "params":
      return text(request(r, world, transport, id), true);
    case "felt": {
      const m = pickMethod(r, world, transport);
      const params = plausibleParams(r, world, m);
      mutateLeaves(params, r, () => badFelt(r), 1 + r.int(3), (v) => typeof v === "string" && v.startsWith("0x"));
      return text({ jsonrpc: "2.0", id, method: m.name, params });
    }
    case "unknown-method": {
      const names = ["", "starknet_", "starknet_getBlock", "devnet_restartt", "rpc.discover", "__proto__", "constructor", "toString", "starknet_subscriptionNewHeads", "appchain_" + "x".repeat(r.int(3000)), randomString(r, 40)];
      return text({ jsonrpc: "2.0", id, method: names[r.int(names.length)], params: junk(r, 2) });
    }
    case "envelope": {
      const m = pickMethod(r, world, transport).name;
      const variants: unknown[] = [
        { jsonrpc: "1.0", id, method: m },
        { jsonrpc: 2, id, method: m },
        { id, method: m },
        { jsonrpc: "2.0", id: { x: 1 }, method: m },
        { jsonrpc: "2.0", id: [1], method: m },
        { jsonrpc: "2.0", id: true, method: m },
        { jsonrpc: "2.0", id, method: 42 },
        { jsonrpc: "2.0", id, method: null },
        { jsonrpc: "2.0", id, method: m, params: "x" },
        { jsonrpc: "2.0", id, method: m, params: 7 },
        { jsonrpc: "2.0", id, method: m, params: true },
        { jsonrpc: "2.0", id: 1.5e308, method: m },
        { jsonrpc: "2.0", id: "x".repeat(r.int(10_000)), method: m },
        { jsonrpc: "2.0", id, method: m, params: { __proto__: { polluted: 1 }, constructor: 1 } },
        [],
        [1, "a", null],
        "just a string",
        12345,
        null,
        true,
      ];
      return text(variants[r.int(variants.length)]);
    }
    case "batch": {
      const n = 1 + r.int(40);
      const parts: string[] = [];
      for (let i = 0; i < n; i++) {
        const k = (["params", "params", "felt", "envelope", "unknown-method", "truncated"] as const)[r.int(6)];
        parts.push(makeCase(r, world, transport, k, id * 1000 + i).body.toString());
      }
      // A truncated element makes the whole batch a parse error, which is also a valid answer.
      return text("[" + parts.join(",") + "]", true);
    }
    case "big-batch": {
      const n = 1000;
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) items.push({ jsonrpc: "2.0", id: i, method: "starknet_blockNumber" });
      return text(items);
    }
    case "over-batch": {
      const n = 1001 + r.int(20_000);
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(`{"jsonrpc":"2.0","id":${i},"method":"starknet_chainId"}`);
      return text("[" + items.join(",") + "]");
    }
    case "big-body": {
      // Under the limit but large: a call with a few hundred thousand calldata felts.
      const calldata = new Array(200_000 + r.int(200_000)).fill("0x1");
      const addr = world.addresses[0]!;
      return text({ jsonrpc: "2.0", id, method: "starknet_call", params: [{ contract_address: addr, entry_point_selector: "0x1", calldata }, "latest"] });
    }
    case "big-push": {
      // A malformed market-data push carrying megabytes: refused, and what the node keeps of it
      // (recent rejections, quarantine) must not hold the payload.
      const filler = "9".repeat(2 * 1024 * 1024 + r.int(1024 * 1024));
      return text({ jsonrpc: "2.0", id, method: "appchain_pushMarketData", params: { update: { market: "BTC-USD-PERP", source: filler, mark_price: filler, index_price: "1", funding_rate: "0", funding_index: "0", timestamp: 1, epoch: 1, sequence: 1 } } });
    }
    case "huge-body": {
      const b = Buffer.alloc(HUGE_BODY_BYTES, 0x20);
      b.write(`{"jsonrpc":"2.0","id":${id},"method":"starknet_blockNumber","params":[`);
      b.write("]}", HUGE_BODY_BYTES - 2);
      return { kind, body: b, mayBeSilent: false, overLimit: true };
    }
  }
}

/** A request with plausible params for a random method, mutated a little (or not at all). */
function request(r: SeededRandom, world: FuzzWorld, transport: "http" | "ws", id: number): Record<string, unknown> {
  const m = pickMethod(r, world, transport);
  let params: unknown = plausibleParams(r, world, m);
  const mutations = r.next() < 0.15 ? 0 : 1 + r.int(3);
  for (let i = 0; i < mutations; i++) params = mutate(params, r);
  const req: Record<string, unknown> = { jsonrpc: "2.0", method: m.name };
  if (params !== undefined) req.params = params;
  // A few notifications (no id): executed, never answered.
  if (r.next() > 0.03) req.id = r.next() < 0.8 ? id : String(id);
  return req;
}

function pickMethod(r: SeededRandom, world: FuzzWorld, transport: "http" | "ws"): FuzzMethod {
  // Mostly methods of this transport, sometimes one that is not served on it.
  const pool = r.next() < 0.95 ? world.methods.filter((m) => m.transports.includes(transport)) : world.methods;
  return pool[r.int(pool.length)]!;
}

/** Params by position or by name, with plausible values for each name. */
export function plausibleParams(r: SeededRandom, world: FuzzWorld, m: FuzzMethod): unknown {
  const names = m.params.map((p) => p.replace(/\?$/, ""));
  const include = m.params.map((p) => !p.endsWith("?") || r.next() < 0.5);
  if (r.next() < 0.5) {
    const out: unknown[] = [];
    const last = include.lastIndexOf(true);
    for (let i = 0; i <= last; i++) out.push(include[i] ? plausible(r, world, m.name, names[i]!) : null);
    return out;
  }
  const out: Record<string, unknown> = {};
  names.forEach((n, i) => {
    if (include[i]) out[n] = plausible(r, world, m.name, n);
  });
  return out;
}

function pick<T>(r: SeededRandom, xs: readonly T[]): T {
  return xs[r.int(xs.length)]!;
}

function plausible(r: SeededRandom, w: FuzzWorld, method: string, name: string): unknown {
  const addr = () => pick(r, w.addresses);
  const felt = () => "0x" + r.bits(1 + r.int(250)).toString(16);
  const blockId = () => pick(r, ["latest", "pre_confirmed", "l1_accepted", { block_number: r.int(8) }, { block_hash: pick(r, w.blockHashes) }, { block_number: 1_000_000 }]);
  const tx = () => structuredClone(w.invoke);
  switch (name) {
    case "block_id":
    case "starting_block_id":
      return blockId();
    case "contract_address":
    case "address":
    case "from_address":
      return addr();
    case "sender_address":
    case "contract_addresses":
      return [addr()];
    case "class_hash":
      return pick(r, w.classHashes);
    case "class_hashes":
      return [pick(r, w.classHashes)];
    case "transaction_hash":
      return pick(r, w.txHashes);
    case "key":
      return felt();
    case "index":
    case "max_count":
      return r.int(5);
    case "invoke_transaction":
      return tx();
    case "deploy_account_transaction":
      return { ...tx(), type: "DEPLOY_ACCOUNT", class_hash: pick(r, w.classHashes), contract_address_salt: felt(), constructor_calldata: [felt()] };
    case "request":
      if (method === "starknet_call") return { contract_address: addr(), entry_point_selector: felt(), calldata: [felt(), felt()] };
      return [tx()];
    case "transactions":
      return [tx()];
    case "simulation_flags":
      return pick(r, [[], ["SKIP_VALIDATE"], ["SKIP_FEE_CHARGE"], ["SKIP_VALIDATE", "SKIP_FEE_CHARGE"]]);
    case "response_flags":
    case "tags":
      return pick(r, [[], ["INCLUDE_PROOF_FACTS"]]);
    case "trace_flags":
      return pick(r, [[], ["RETURN_INITIAL_READS"]]);
    case "message":
      return { from_address: "0x" + "11".repeat(20), to_address: addr(), entry_point_selector: felt(), payload: [felt()] };
    case "filter":
      return { from_block: blockId(), to_block: blockId(), address: addr(), keys: [[felt()]], chunk_size: 1 + r.int(100), ...(r.next() < 0.3 && { continuation_token: String(r.int(100)) }) };
    case "contracts_storage_keys":
      return [{ contract_address: addr(), storage_keys: [felt(), felt()] }];
    case "keys":
      return [[felt()], []];
    case "finality_status":
      return pick(r, ["ACCEPTED_ON_L2", "PRE_CONFIRMED", ["ACCEPTED_ON_L2"], ["PRE_CONFIRMED", "ACCEPTED_ON_L2"]]);
    case "subscription_id":
      return pick(r, [String(r.int(50)), r.int(50), "0x" + r.int(50).toString(16)]);
    case "name":
    case "snapshot":
      return pick(r, ["fuzz-a", "fuzz-b", "x".repeat(200), "bad name/..", ""]);
    case "reason":
      return randomString(r, 30);
    case "update":
      return { market: pick(r, ["BTC-USD-PERP", "ETH-USD-PERP", "NOPE"]), source: "fuzz", mark_price: "100000.5", index_price: "100000", funding_rate: "0.0001", funding_index: "0", timestamp: r.int(2_000_000_000), epoch: r.int(3), sequence: r.int(100) };
    case "market":
      return pick(r, ["BTC-USD-PERP", "ETH-USD-PERP", "NOPE"]);
    case "policy":
      return pick(r, ["drop", "requeue", "keep"]);
    case "enabled":
    case "with_balance":
    case "generate_block":
      return r.next() < 0.5;
    case "band_ppm":
      return r.int(2_000_000);
    case "path":
      // Mostly bad paths; a good one writes a whole dump (slow), so only now and then.
      return r.next() < 0.1 ? pick(r, ["fuzz.dump", "sub/fuzz.dump"]) : pick(r, ["../escape.dump", "/nonexistent/dir/x.json", "a/b/../../../c", "", ".", "\u0000", "/", "dir/", "x".repeat(5000), "x".repeat(300) + "/y"]);
    case "time":
      return pick(r, [0, 1, r.int(2_000_000_000), 2 ** 53 - 1, 1e21, -1]);
    case "amount":
      return pick(r, [1, "1000", "0x10", 2 ** 60, "1" + "0".repeat(80)]);
    case "unit":
      return pick(r, ["FRI", "USDC", "WEI", "BTC"]);
    default:
      return junk(r, 2);
  }
}

/** Replace, drop or add somewhere in `v`; returns the (possibly new) root. */
function mutate(v: unknown, r: SeededRandom): unknown {
  const op = r.int(10);
  if (v === null || typeof v !== "object" || op === 0) return junk(r, 3);
  const container = randomContainer(v, r);
  if (Array.isArray(container)) {
    if (container.length === 0 || op < 3) container.push(junk(r, 2));
    else if (op < 5) container.splice(r.int(container.length), 1);
    else if (op === 5) for (let i = 0; i < 1 + r.int(2000); i++) container.push(container[0]);
    else container[r.int(container.length)] = junk(r, 2);
  } else {
    const obj = container as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 0 || op < 3) obj[pick(r, ["extra", "type", "version", "__proto__", "calldata", "nonce", randomString(r, 8)])] = junk(r, 2);
    else if (op < 5) delete obj[pick(r, keys)];
    else obj[pick(r, keys)] = junk(r, 2);
  }
  return v;
}

/** A random object or array inside `v` (v itself included). */
function randomContainer(v: object, r: SeededRandom): object {
  let cur: object = v;
  for (let depth = 0; depth < 6; depth++) {
    const kids = Object.values(cur).filter((x): x is object => x !== null && typeof x === "object");
    if (kids.length === 0 || r.next() < 0.35) return cur;
    cur = pick(r, kids);
  }
  return cur;
}

/** Apply `f` to `count` leaves that satisfy `isTarget` (any leaf when none does). */
function mutateLeaves(v: unknown, r: SeededRandom, f: () => unknown, count: number, isTarget: (x: unknown) => boolean): void {
  const slots: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (x: unknown) => {
    if (x === null || typeof x !== "object") return;
    for (const [k, child] of Object.entries(x)) {
      if (child !== null && typeof child === "object") walk(child);
      else slots.push([x as Record<string, unknown>, Array.isArray(x) ? Number(k) : k]);
    }
  };
  walk(v);
  const targets = slots.filter(([o, k]) => isTarget((o as Record<string | number, unknown>)[k]));
  const from = targets.length ? targets : slots;
  for (let i = 0; i < count && from.length; i++) {
    const [o, k] = pick(r, from);
    (o as Record<string | number, unknown>)[k] = f();
  }
}

/** Felt-shaped values that are not felts: out of range, negative, malformed hex, wrong case. */
function badFelt(r: SeededRandom): unknown {
  return pick(r, [
    "0x" + P.toString(16),
    "0x" + (P + 1n).toString(16),
    "0x" + ((1n << 256n) - 1n).toString(16),
    "0x" + "f".repeat(64 + r.int(2000)),
    "0x" + "0".repeat(5000) + "1",
    "-0x1",
    "0x",
    "0x-1",
    "0xg1",
    "0X1F",
    "1e18",
    " 0x1",
    "0x1 ",
    "0x1\u0000",
    "٣",
    -1,
    1.5,
    2 ** 64,
    1e308,
    Number.MAX_SAFE_INTEGER + 2,
    String(P),
    (P - 1n).toString(10),
  ]);
}

/** Any JSON value, depth-limited, biased to the edge cases parsers trip on. */
export function junk(r: SeededRandom, depth: number): unknown {
  const k = r.int(depth > 0 ? 14 : 11);
  switch (k) {
    case 0:
      return null;
    case 1:
      return r.next() < 0.5;
    case 2:
      return pick(r, [0, -1, 1, -0, 0.5, 2 ** 31, 2 ** 53, -(2 ** 53), 1e300, -1e-300, Number.MAX_SAFE_INTEGER]);
    case 3:
      return r.int(1_000_000);
    case 4:
      return "";
    case 5:
      return randomString(r, 20);
    case 6:
      return badFelt(r);
    case 7:
      return "0x" + r.bits(1 + r.int(251)).toString(16);
    case 8:
      return pick(r, ["latest", "pre_confirmed", "INVOKE", "0x3", "ACCEPTED_ON_L2", "SKIP_VALIDATE", "true", "null", "__proto__"]);
    case 9:
      return "x".repeat(r.int(100_000));
    case 10:
      return [];
    case 11: {
      const n = r.int(5);
      const a: unknown[] = [];
      for (let i = 0; i < n; i++) a.push(junk(r, depth - 1));
      return a;
    }
    case 12: {
      const o: Record<string, unknown> = {};
      const n = r.int(5);
      for (let i = 0; i < n; i++) o[pick(r, ["block_number", "block_hash", "type", "version", "calldata", "address", randomString(r, 6)])] = junk(r, depth - 1);
      return o;
    }
    default:
      return {};
  }
}

function randomString(r: SeededRandom, maxLen: number): string {
  const alphabet = "abcXYZ019_-./\\\"'{}[]:, \t\n\u0000\u00e9\u4e2d\ud83d\ude00\ud800";
  let s = "";
  const n = r.int(maxLen + 1);
  for (let i = 0; i < n; i++) s += alphabet[r.int(alphabet.length)];
  return s;
}
