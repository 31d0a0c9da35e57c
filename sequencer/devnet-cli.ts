// Flags of `npm start` (scripts/devnet.ts), in starknet-devnet's names where the meaning
// is the same, and the start-up banner. Parsing (node:util parseArgs) is strict: an unknown
// flag is an error; amounts are parsed exactly (bigint), never through a float.

import { parseArgs, type ParseArgsConfig } from "node:util";
import type { GasPrices } from "../contracts/runtime/gas.js";
import { toHex } from "../state/felt.js";
import { DEFAULT_GAS_PRICES, type BlockGeneration } from "./node.js";
import type { Devnet, DevnetOptions } from "./devnet.js";
import { isLogLevel, LOG_LEVELS, type LogLevel } from "./log.js";
import { isNodeId } from "./cluster/cluster-keys.js";
import { DEFAULT_WARMUP_TXS } from "./warmup.js";

export const DEVNET_HELP = `perpchain devnet — a Starknet-style appchain node for a perpetuals exchange

Usage: npm start -- [options]        (--flag VALUE or --flag=VALUE)

  --host HOST                   address to listen on (default 127.0.0.1)
  --port PORT                   port (default 5050; 0 = any free port)
  --seed N                      seed of the predeployed accounts' keys, a u32 (default: random, printed);
                                the same keys as starknet-devnet --seed N (addresses differ: our account class)
  --accounts N                  number of predeployed accounts (default 10)
  --initial-balance AMOUNT      STRK (FRI) and ETH (WEI) per predeployed account (default 1e21)
  --chain-id ID                 chain id short string (default SN_SEPOLIA)
  --block-generation-on MODE    transaction (default) | demand | <seconds>
  --db DIR                      LevelDB data directory (default .perpchain/)
  --in-memory                   keep everything in memory (nothing on disk): a devnet
  --gas-price-fri N             L1 gas price in FRI (default ${DEFAULT_GAS_PRICES.l1_gas})
  --data-gas-price-fri N        L1 data gas price in FRI (default ${DEFAULT_GAS_PRICES.l1_data_gas})
  --l2-gas-price-fri N          L2 gas price in FRI (default ${DEFAULT_GAS_PRICES.l2_gas})
  --gas-price-wei N             the same in WEI, written in block headers only (fees are paid in STRK;
  --data-gas-price-wei N          default: the FRI prices)
  --l2-gas-price-wei N
  --dump-path FILE              devnet_dump's default file; an --in-memory node loads it at start if it exists
  --dump-on exit|block|request  also dump to --dump-path on exit or after every block (request: only on devnet_dump)
  --hash-backend auto|native|js crypto backend (default auto: native if it built)
  --hash-threads N              worker threads hashing trie nodes (default 0: the native hash thread, or inline with the JS backend)
  --retention-blocks N          state history kept for rollback and past-block reads (default 10000 blocks;
                                snapshots pin theirs); older trie nodes and diffs are pruned
  --node-cache-mb N             memory for cached trie nodes (default 256 MB; they stay on disk)
  --block-batch-ms MS           while busy, start blocks at most this often, to batch (default 250)
  --block-budget-ms MS          a block stops taking transactions after executing them this long (default 200; 0: none)
  --warmup N                    after start-up, warm the JIT with N transactions on a throwaway chain,
                                stopping at a client's first write (default ${DEFAULT_WARMUP_TXS}; 0: none)
  --market-data SOURCE          push (default) | simulator | replay:FILE (JSONL of push objects)
  --admin-token TOKEN           also accept operator methods from non-loopback clients with this bearer token
  --dump-dir DIR                devnet_dump/devnet_load paths are relative to DIR (default: dumps/ beside --db)
  --allow-absolute-dump-paths   let devnet_dump/devnet_load name absolute paths
  --verbose                     log every block and rejection as JSON lines (= --log-level debug)
  --log-level LEVEL             fatal | error | warn (default) | info | debug | trace | silent
  --cluster-etcd URLS           cluster mode: etcd client URLs, comma-separated (http://127.0.0.1:2379,...)
  --node-id ID                  cluster mode: this node's id (required with --cluster-etcd)
  --lease-ttl SECONDS           cluster mode: leader lease TTL (default 5)
  --help                        this text
`;

export interface DevnetCliOptions extends DevnetOptions {
  help: boolean;
  verbose: boolean;
  logLevel?: LogLevel;
  hashBackend: "auto" | "native" | "js";
  seedWasGiven: boolean;
}

export class CliError extends Error {}

const FLAGS = {
  help: { type: "boolean", short: "h" },
  verbose: { type: "boolean" },
  "in-memory": { type: "boolean" },
  host: { type: "string" },
  port: { type: "string" },
  seed: { type: "string" },
  accounts: { type: "string" },
  "initial-balance": { type: "string" },
  "chain-id": { type: "string" },
  "block-generation-on": { type: "string" },
  db: { type: "string" },
  "hash-threads": { type: "string" },
  "block-batch-ms": { type: "string" },
  "block-budget-ms": { type: "string" },
  warmup: { type: "string" },
  "retention-blocks": { type: "string" },
  "node-cache-mb": { type: "string" },
  "market-data": { type: "string" },
  "admin-token": { type: "string" },
  "hash-backend": { type: "string" },
  "dump-path": { type: "string" },
  "dump-on": { type: "string" },
  "gas-price-fri": { type: "string" },
  "data-gas-price-fri": { type: "string" },
  "l2-gas-price-fri": { type: "string" },
  "gas-price-wei": { type: "string" },
  "data-gas-price-wei": { type: "string" },
  "l2-gas-price-wei": { type: "string" },
  "dump-dir": { type: "string" },
  "allow-absolute-dump-paths": { type: "boolean" },
  "log-level": { type: "string" },
  "cluster-etcd": { type: "string" },
  "node-id": { type: "string" },
  "lease-ttl": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

export function parseDevnetArgs(argv: readonly string[], randomSeed: () => number): DevnetCliOptions {
  let values: { [K in keyof typeof FLAGS]?: (typeof FLAGS)[K]["type"] extends "boolean" ? boolean : string };
  try {
    ({ values } = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new CliError(`${(e as Error).message.split("\n")[0]} (see --help)`);
  }
  const o: DevnetCliOptions = {
    help: values.help ?? false,
    verbose: values.verbose ?? false,
    hashBackend: "auto",
    seedWasGiven: values.seed !== undefined,
    host: "127.0.0.1",
    port: 5050,
    dbPath: ".perpchain",
  };
  if (values["in-memory"]) o.inMemory = true;
  if (values.host !== undefined) {
    if (!values.host) throw new CliError("--host expects an address");
    o.host = values.host;
  }
  if (values.port !== undefined) o.port = int("--port", values.port, 0, 65535);
  o.seed = values.seed !== undefined ? int("--seed", values.seed, 0, 0xffff_ffff) : randomSeed();
  if (values.accounts !== undefined) o.accounts = int("--accounts", values.accounts, 1, 255);
  if (values["initial-balance"] !== undefined) o.initialBalance = amount("--initial-balance", values["initial-balance"], 256);
  if (values["chain-id"] !== undefined) {
    const v = values["chain-id"];
    if (!v || v.length > 31 || !/^[\x20-\x7e]+$/.test(v)) throw new CliError("--chain-id expects a short ASCII string (≤ 31 chars)");
    o.chainId = v;
  }
  if (values["block-generation-on"] !== undefined) o.blockGeneration = parseBlockGeneration(values["block-generation-on"]);
  if (values.db !== undefined) {
    if (!values.db) throw new CliError("--db expects a directory");
    o.dbPath = values.db;
  }
  if (values["hash-threads"] !== undefined) o.hashThreads = int("--hash-threads", values["hash-threads"], 0, 16);
  if (values["retention-blocks"] !== undefined) o.retentionBlocks = int("--retention-blocks", values["retention-blocks"], 0);
  if (values["node-cache-mb"] !== undefined) o.nodeCacheMb = int("--node-cache-mb", values["node-cache-mb"], 16);
  if (values["block-batch-ms"] !== undefined) o.blockBatchMs = int("--block-batch-ms", values["block-batch-ms"], 0);
  if (values["block-budget-ms"] !== undefined) o.blockBudgetMs = int("--block-budget-ms", values["block-budget-ms"], 0);
  o.warmupTxs = values.warmup !== undefined ? int("--warmup", values.warmup, 0, 1_000_000) : DEFAULT_WARMUP_TXS;
  if (values["market-data"] !== undefined) {
    const v = values["market-data"];
    if (v === "push" || v === "simulator") o.marketData = v;
    else if (v.startsWith("replay:") && v.length > 7) o.marketData = { replay: v.slice(7) };
    else throw new CliError("--market-data expects push, simulator or replay:FILE");
  }
  if (values["admin-token"] !== undefined) {
    if (values["admin-token"].length < 16) throw new CliError("--admin-token expects a token of at least 16 characters");
    o.adminToken = values["admin-token"];
  }
  if (values["hash-backend"] !== undefined) {
    const v = values["hash-backend"];
    if (v !== "auto" && v !== "native" && v !== "js") throw new CliError("--hash-backend expects auto, native or js");
    o.hashBackend = v;
  }
  if (values["dump-path"] !== undefined) {
    if (!values["dump-path"]) throw new CliError("--dump-path expects a file");
    o.dumpPath = values["dump-path"];
  }
  if (values["dump-on"] !== undefined) {
    const v = values["dump-on"];
    if (v !== "exit" && v !== "block" && v !== "request") throw new CliError("--dump-on expects exit, block or request");
    if (o.dumpPath === undefined) throw new CliError("--dump-on needs --dump-path FILE");
    o.dumpOn = v;
  }
  if (values["log-level"] !== undefined) {
    if (!isLogLevel(values["log-level"])) throw new CliError(`--log-level expects one of ${LOG_LEVELS.join(", ")}`);
    o.logLevel = values["log-level"];
  }
  if (values["dump-dir"] !== undefined) {
    if (!values["dump-dir"]) throw new CliError("--dump-dir expects a directory");
    o.dumpDir = values["dump-dir"];
  }
  if (values["allow-absolute-dump-paths"]) o.allowAbsoluteDumpPaths = true;
  const fri = gasPrices(values, "fri", DEFAULT_GAS_PRICES);
  if (fri !== DEFAULT_GAS_PRICES) o.gasPrices = fri;
  const wei = gasPrices(values, "wei", fri);
  if (wei !== fri) o.gasPricesWei = wei;
  if (values["cluster-etcd"] !== undefined) {
    const urls = values["cluster-etcd"].split(",").filter((u) => u.length > 0);
    if (urls.length === 0 || !urls.every((u) => /^https?:\/\/[^/\s,]+\/?$/.test(u))) throw new CliError("--cluster-etcd expects comma-separated etcd URLs (http://host:port)");
    o.cluster = { ...(o.cluster ?? { nodeId: "" }), etcd: urls };
  }
  if (values["node-id"] !== undefined) {
    const v = values["node-id"];
    if (!isNodeId(v)) throw new CliError("--node-id expects 1-64 characters of [A-Za-z0-9_.-]");
    o.cluster = { ...(o.cluster ?? { etcd: [] }), nodeId: v };
  }
  if (values["lease-ttl"] !== undefined) {
    const ttl = int("--lease-ttl", values["lease-ttl"], 1, 300);
    o.cluster = { ...(o.cluster ?? { etcd: [], nodeId: "" }), leaseTtlS: ttl };
  }
  if (o.cluster !== undefined) {
    if (o.cluster.etcd.length === 0) throw new CliError("--node-id and --lease-ttl need --cluster-etcd");
    if (o.cluster.nodeId === "") throw new CliError("--cluster-etcd needs --node-id");
    // Every member must start from the same genesis: a random seed cannot be shared.
    if (!o.seedWasGiven) throw new CliError("--cluster-etcd needs --seed (every member starts with the same genesis flags)");
  }
  return o;
}

/** --gas-price-UNIT, --data-gas-price-UNIT, --l2-gas-price-UNIT over `base` (base itself when none is given). */
function gasPrices(values: Record<string, unknown>, unit: "fri" | "wei", base: GasPrices): GasPrices {
  const flags = { l1_gas: `gas-price-${unit}`, l1_data_gas: `data-gas-price-${unit}`, l2_gas: `l2-gas-price-${unit}` } as const;
  const given = Object.entries(flags).filter(([, f]) => values[f] !== undefined);
  if (given.length === 0) return base;
  const out = { ...base };
  for (const [k, f] of given) {
    const v = amount(`--${f}`, values[f] as string, 128);
    if (v === 0n) throw new CliError(`--${f} must be positive`);
    out[k as keyof GasPrices] = v;
  }
  return out;
}

function int(flag: string, v: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(v)) throw new CliError(`${flag} expects a non-negative integer`);
  const n = Number(v);
  if (n < min || n > max) throw new CliError(`${flag} is out of range (${min}-${max})`);
  return n;
}

/** A non-negative integer below 2^bits, decimal or 0x-hex (exact: never through a float). */
function amount(flag: string, v: string, bits: number): bigint {
  if (!/^(\d+|0x[0-9a-fA-F]+)$/.test(v)) throw new CliError(`${flag} expects an integer (decimal or 0x-hex)`);
  const n = BigInt(v);
  if (n >= 1n << BigInt(bits)) throw new CliError(`${flag} must be below 2^${bits}`);
  return n;
}

function parseBlockGeneration(v: string): BlockGeneration {
  if (v === "transaction") return { mode: "transaction" };
  if (v === "demand") return { mode: "demand" };
  if (/^\d+$/.test(v) && Number(v) > 0) return { mode: "interval", seconds: Number(v) };
  throw new CliError("--block-generation-on expects transaction, demand or a number of seconds");
}

/** The start-up text: accounts (like starknet-devnet), predeployed contracts, URL. */
export function devnetBanner(d: Devnet, backendLine: string): string {
  const lines: string[] = [];
  lines.push(`perpchain devnet — ${backendLine}`);
  lines.push(`Chain id: ${d.node.options.chainId} (${toHex(d.node.chainId)})   Seed: ${d.node.options.seed}   Epoch: ${d.node.epoch}`);
  lines.push("");
  lines.push("Predeployed contracts:");
  for (const [name, c] of Object.entries(d.contracts)) lines.push(`  ${name.padEnd(14)} ${c.address}  class ${c.class_hash}`);
  lines.push("");
  lines.push(`Predeployed accounts (${d.accounts.length}), each with ${d.node.options.initialBalance} FRI (STRK), ${d.node.options.initialBalance} WEI (ETH) and ${d.node.options.initialUsdc} USDC units:`);
  for (const a of d.accounts) {
    lines.push(`  | Account address |  ${a.address}`);
    lines.push(`  | Private key     |  ${a.private_key}`);
    lines.push(`  | Public key      |  ${a.public_key}`);
    lines.push("");
  }
  lines.push(`Head block: ${d.node.headNumber()}   Block generation: ${d.node.options.blockGeneration.mode}`);
  lines.push(`JSON-RPC: ${d.rpcUrl}`);
  lines.push(`WebSocket: ${d.wsUrl}`);
  return lines.join("\n");
}
