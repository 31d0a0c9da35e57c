// Flags of `npm start` (scripts/devnet.ts), in starknet-devnet's names where the meaning
// is the same, and the start-up banner. Parsing is strict: an unknown flag is an error.

import { toHex } from "../state/felt.js";
import type { BlockGeneration } from "./node.js";
import type { Devnet, DevnetOptions } from "./devnet.js";
import { isLogLevel, LOG_LEVELS, type LogLevel } from "./log.js";

export const DEVNET_HELP = `perpchain devnet — a Starknet-style appchain node for a perpetuals exchange

Usage: npm start -- [options]

  --host HOST                   address to listen on (default 127.0.0.1)
  --port PORT                   port (default 5050; 0 = any free port)
  --seed N                      seed of the predeployed accounts' keys (default: random, printed)
  --accounts N                  number of predeployed accounts (default 10)
  --initial-balance FRI         STRK per predeployed account, in FRI (default 1e21 = 1000 STRK)
  --chain-id ID                 chain id short string (default SN_SEPOLIA)
  --block-generation-on MODE    transaction (default) | demand | <seconds>
  --db DIR                      LevelDB data directory (default .perpchain/)
  --in-memory                   keep everything in memory (nothing on disk)
  --hash-backend auto|native|js crypto backend (default auto: native if it built)
  --hash-threads N              worker threads hashing trie nodes (default 0: the native hash thread, or inline with the JS backend)
  --retention-blocks N          state history kept for rollback and past-block reads (default 10000 blocks;
                                snapshots pin theirs); older trie nodes and diffs are pruned
  --block-batch-ms MS           while busy, wait this long between blocks to batch (default 150)
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

export function parseDevnetArgs(argv: readonly string[], randomSeed: () => number): DevnetCliOptions {
  const o: DevnetCliOptions = { help: false, verbose: false, hashBackend: "auto", seedWasGiven: false, host: "127.0.0.1", port: 5050, dbPath: ".perpchain" };
  const int = (flag: string, v: string | undefined, min = 0): number => {
    if (v === undefined || !/^\d+$/.test(v)) throw new CliError(`${flag} expects a non-negative integer`);
    const n = Number(v);
    if (n < min || !Number.isSafeInteger(n)) throw new CliError(`${flag} is out of range`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => argv[++i];
    switch (a) {
      case "--help":
      case "-h":
        o.help = true;
        break;
      case "--verbose":
        o.verbose = true;
        break;
      case "--in-memory":
        o.inMemory = true;
        break;
      case "--host":
        o.host = next() ?? "";
        if (!o.host) throw new CliError("--host expects an address");
        break;
      case "--port":
        o.port = int(a, next());
        if (o.port > 65535) throw new CliError("--port is out of range");
        break;
      case "--seed":
        o.seed = int(a, next());
        o.seedWasGiven = true;
        break;
      case "--accounts":
        o.accounts = int(a, next(), 1);
        break;
      case "--initial-balance": {
        const v = next();
        if (v === undefined || !/^\d+$/.test(v)) throw new CliError("--initial-balance expects an integer amount in FRI");
        o.initialBalance = BigInt(v);
        break;
      }
      case "--chain-id": {
        const v = next();
        if (!v || v.length > 31 || !/^[\x20-\x7e]+$/.test(v)) throw new CliError("--chain-id expects a short ASCII string (≤ 31 chars)");
        o.chainId = v;
        break;
      }
      case "--block-generation-on":
        o.blockGeneration = parseBlockGeneration(next());
        break;
      case "--db":
        o.dbPath = next() ?? "";
        if (!o.dbPath) throw new CliError("--db expects a directory");
        break;
      case "--hash-threads":
        o.hashThreads = int(a, next());
        if (o.hashThreads > 16) throw new CliError("--hash-threads is out of range (0-16)");
        break;
      case "--retention-blocks":
        o.retentionBlocks = int(a, next());
        break;
      case "--block-batch-ms":
        o.blockBatchMs = int(a, next());
        break;
      case "--market-data": {
        const v = next();
        if (v === "push" || v === "simulator") o.marketData = v;
        else if (v !== undefined && v.startsWith("replay:") && v.length > 7) o.marketData = { replay: v.slice(7) };
        else throw new CliError("--market-data expects push, simulator or replay:FILE");
        break;
      }
      case "--admin-token": {
        const v = next();
        if (!v || v.length < 16) throw new CliError("--admin-token expects a token of at least 16 characters");
        o.adminToken = v;
        break;
      }
      case "--cluster-etcd": {
        const v = next();
        const urls = (v ?? "").split(",").filter((u) => u.length > 0);
        if (urls.length === 0 || !urls.every((u) => /^https?:\/\/[^/\s,]+\/?$/.test(u))) throw new CliError("--cluster-etcd expects comma-separated etcd URLs (http://host:port)");
        o.cluster = { ...(o.cluster ?? { nodeId: "" }), etcd: urls };
        break;
      }
      case "--node-id": {
        const v = next();
        if (!v || !/^[A-Za-z0-9_.-]{1,64}$/.test(v)) throw new CliError("--node-id expects 1-64 characters of [A-Za-z0-9_.-]");
        o.cluster = { ...(o.cluster ?? { etcd: [] }), nodeId: v };
        break;
      }
      case "--lease-ttl": {
        const ttl = int(a, next(), 1);
        if (ttl > 300) throw new CliError("--lease-ttl is out of range (1-300 seconds)");
        o.cluster = { ...(o.cluster ?? { etcd: [], nodeId: "" }), leaseTtlS: ttl };
        break;
      }
      case "--log-level": {
        const v = next();
        if (!isLogLevel(v)) throw new CliError(`--log-level expects one of ${LOG_LEVELS.join(", ")}`);
        o.logLevel = v;
        break;
      }
      case "--dump-dir":
        o.dumpDir = next() ?? "";
        if (!o.dumpDir) throw new CliError("--dump-dir expects a directory");
        break;
      case "--allow-absolute-dump-paths":
        o.allowAbsoluteDumpPaths = true;
        break;
      case "--hash-backend": {
        const v = next();
        if (v !== "auto" && v !== "native" && v !== "js") throw new CliError("--hash-backend expects auto, native or js");
        o.hashBackend = v;
        break;
      }
      default:
        throw new CliError(`unknown option ${a} (see --help)`);
    }
  }
  if (o.cluster !== undefined) {
    if (o.cluster.etcd.length === 0) throw new CliError("--node-id and --lease-ttl need --cluster-etcd");
    if (o.cluster.nodeId === "") throw new CliError("--cluster-etcd needs --node-id");
    // Every member must start from the same genesis: a random seed cannot be shared.
    if (o.seed === undefined) throw new CliError("--cluster-etcd needs --seed (every member starts with the same genesis flags)");
  }
  if (o.seed === undefined) o.seed = randomSeed();
  return o;
}

function parseBlockGeneration(v: string | undefined): BlockGeneration {
  if (v === "transaction") return { mode: "transaction" };
  if (v === "demand") return { mode: "demand" };
  if (v !== undefined && /^\d+$/.test(v) && Number(v) > 0) return { mode: "interval", seconds: Number(v) };
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
  lines.push(`Predeployed accounts (${d.accounts.length}), each with ${d.node.options.initialBalance} FRI and ${d.node.options.initialUsdc} USDC units:`);
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
