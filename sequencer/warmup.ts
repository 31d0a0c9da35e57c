// JIT warm-up. A fresh Node process runs the node's hot paths (HTTP framing, JSON, admission,
// execution, block commit, receipts) in V8's interpreter until each is optimized, and V8's
// compiler threads then take CPU from the load for thousands of transactions. Measured on
// 2 cores (`npm run bench -- rpc --mode transfers --txs 4000` against one node, restarted
// with devnet_restart between loads, which keeps the process): a cold node took 1,285 and
// 1,378 included tx/s; the same node after a 2,000-transaction load, 1,698 and 1,862.
// A sequencer restarted in an incident (the January one was a restart) should take the
// load at full speed, not after 10 seconds of it.
//
// So after the devnet is ready it runs a load of its own against a throwaway chain: a second
// node with its own seed, its own store (a temp LevelDB directory, or memory when the real node
// is in memory) and its own RPC server on a free 127.0.0.1 port, through the same code: signed
// INVOKE v3 STRK transfers and crossing perp orders over HTTP, 32 in flight, while polling new
// blocks in JSON-RPC batches, then receipt and status reads. It never touches the real chain;
// it stops at the first request a client sends that writes (anything but a read: see
// `isReadOnlyMethod`) and when the devnet stops; every transaction and block it made goes
// with its chain.

import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXCHANGE_ADDRESS, ORACLE_ADDRESS } from "../contracts/exchange-genesis.js";
import { exchangeFns } from "../contracts/perp/exchange-contract.js";
import { encodeArgs } from "../contracts/runtime/index.js";
import { selectorFromName } from "../state/crypto/hash.js";
import { encodeShortString, toHex, type Felt } from "../state/felt.js";
import type { Devnet, DevnetOptions } from "./devnet.js";
import { signInvokeJson, unsignedInvokeJson, type Call } from "./tx-intake.js";

/** Transactions a warm-up sends by default (`--warmup N`): enough, measured, for the hot paths. */
export const DEFAULT_WARMUP_TXS = 3000;
/** A warm-up never runs longer than this. */
const WARMUP_MAX_MS = 20_000;
const ACCOUNTS = 32;
/** The throwaway chain's key seed ("WARM"): never the real chain's keys. */
const WARMUP_SEED = 0x5741524d;

export interface WarmupResult {
  /** Transactions sent to the throwaway chain (refused ones too). */
  sent: number;
  /** Transactions the throwaway chain included (its genesis market data too). */
  included: number;
  ms: number;
  /** Why it ended: "done", "client" (a client wrote to the real node), "stopped", "time" or "error: ...". */
  end: string;
}

/** Methods that leave a warm-up running: reads, which clients send while they prepare a load. */
export function isReadOnlyMethod(method: string): boolean {
  if (method.startsWith("starknet_")) return !method.startsWith("starknet_add");
  if (method.startsWith("devnet_") || method.startsWith("appchain_")) return /^(devnet|appchain)_get[A-Z]/.test(method);
  return false;
}

export class Warmup {
  private stopReason: string | null = null;
  readonly done: Promise<WarmupResult>;

  /**
   * `start` opens the throwaway devnet (the caller passes startDevnet, with the options given
   * here, so this module does not import the devnet it runs inside).
   */
  constructor(
    start: (opts: DevnetOptions) => Promise<Devnet>,
    opts: { txs: number; inMemory: boolean; base: DevnetOptions },
  ) {
    this.done = this.run(start, opts).catch((e) => ({ sent: 0, included: 0, ms: 0, end: `error: ${(e as Error).message}` }));
  }

  /** Stop sending (a client wrote, or the devnet stops); resolves once the throwaway chain is gone. */
  stop(reason: string): Promise<WarmupResult> {
    this.stopReason ??= reason;
    return this.done;
  }

  private async run(start: (opts: DevnetOptions) => Promise<Devnet>, opts: { txs: number; inMemory: boolean; base: DevnetOptions }): Promise<WarmupResult> {
    const t0 = performance.now();
    const dir = opts.inMemory ? null : await mkdtemp(join(tmpdir(), "perpchain-warmup-"));
    let d: Devnet | null = null;
    const agent = new http.Agent({ keepAlive: true, maxSockets: ACCOUNTS });
    let sent = 0;
    let included = 0;
    try {
      if (this.stopReason !== null) return { sent, included, ms: 0, end: this.stopReason };
      d = await start({
        ...opts.base,
        ...(dir === null ? { inMemory: true, dbPath: undefined } : { dbPath: dir, inMemory: false }),
        seed: WARMUP_SEED,
        accounts: ACCOUNTS,
        host: "127.0.0.1",
        port: 0,
        blockGeneration: { mode: "transaction" },
        log: () => {},
        errorLogger: { error: () => {} },
        dumpPath: undefined,
        marketData: "push",
        cluster: undefined,
        warmupTxs: 0,
      });
      const devnet = d;
      const node = devnet.node;
      const url = new URL(devnet.rpcUrl);
      const post = (body: string) => postJson(agent, url, body);
      const late = () => this.stopReason ?? (performance.now() - t0 > WARMUP_MAX_MS ? "time" : null);

      const strk = BigInt(devnet.contracts.STRK!.address);
      const usdc = BigInt(devnet.contracts.USDC!.address);
      const accounts = devnet.accounts.map((a) => ({ address: BigInt(a.address), key: BigInt(a.private_key) }));
      const nonces = accounts.map((a) => node.world.getNonce(a.address));
      const sign = (i: number, calls: Call[]) => {
        const raw = unsignedInvokeJson(accounts[i]!.address, nonces[i]!++, calls, node.gasPrices);
        const h = signInvokeJson(raw, node.chainId, accounts[i]!.key);
        return { hash: h, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "starknet_addInvokeTransaction", params: { invoke_transaction: raw } }) };
      };
      // Each account's transactions go in nonce order from one worker (32 in flight), each
      // signed just before it is sent, so no long stretch of signing holds the event loop.
      // Returns the last accepted hash of each account.
      type Build = (i: number) => Call[];
      const sendQueues = async (builds: Build[][]): Promise<Felt[]> => {
        const last = await Promise.all(
          builds.map(async (q, i) => {
            let mine: Felt | undefined;
            for (const build of q) {
              if (late() !== null) break;
              const tx = sign(i, build(i));
              const r = (await post(tx.body)) as { error?: unknown };
              sent++;
              if (r.error === undefined) mine = tx.hash;
              else nonces[i]!--; // refused: the nonce was not used
            }
            return mine;
          }),
        );
        const hashes = last.filter((h): h is Felt => h !== undefined);
        // The earlier transactions of an account are in blocks before its last one.
        for (const h of hashes) if (this.stopReason === null) await node.waitForTx(h, 10_000).catch(() => {});
        return hashes;
      };

      // Deposits into the exchange (approve + deposit: a multicall), so orders can follow.
      const DEPOSIT = 50_000_000_000n;
      const deposit: Build = () => [
        { to: usdc, selector: selectorFromName("approve"), calldata: [EXCHANGE_ADDRESS, DEPOSIT, 0n] },
        { to: EXCHANGE_ADDRESS, selector: selectorFromName("deposit"), calldata: [DEPOSIT] },
      ];
      await sendQueues(accounts.map(() => [deposit]));

      // Then transfers and crossing orders (even accounts bid, odd ones ask at the mark), in
      // alternating rounds over the accounts.
      const BTC = encodeShortString("BTC-USD-PERP");
      const [mark] = node.callView(ORACLE_ADDRESS, selectorFromName("get_market_data"), [BTC]);
      const price = ((mark ?? 0n) / 100_000n) * 100_000n;
      const transfer = selectorFromName("transfer");
      const order: Build = (i) => [
        { to: EXCHANGE_ADDRESS, selector: exchangeFns.placeOrder.selector, calldata: encodeArgs(exchangeFns.placeOrder.inputs, { market: BTC, side: BigInt(i % 2), order_type: 0n, flags: 0n, price, trigger_price: 0n, size: 100_000n }) },
      ];
      const pay: Build = (i) => [{ to: strk, selector: transfer, calldata: [accounts[(i + 1) % ACCOUNTS]!.address, 1n, 0n] }];
      const rounds = Math.ceil(opts.txs / ACCOUNTS);
      // Meanwhile, poll as clients waiting for inclusion do: the head every 10 ms, new blocks'
      // transaction hashes in one JSON-RPC batch.
      let polling = true;
      // Its failure must not outlive it as an unhandled rejection (the CLI exits on those): a
      // failed poll only ends the polling.
      const poller = (async () => {
        let seen = node.headNumber();
        while (polling && late() === null) {
          const head = node.headNumber();
          const batch: Array<{ jsonrpc: "2.0"; id: number; method: string; params: unknown }> = [{ jsonrpc: "2.0", id: 0, method: "starknet_blockNumber", params: [] }];
          for (let n = seen + 1; n <= head; n++) batch.push({ jsonrpc: "2.0", id: n, method: "starknet_getBlockWithTxHashes", params: { block_id: { block_number: n } } });
          await post(JSON.stringify(batch));
          seen = head;
          await new Promise((r) => setTimeout(r, 10));
        }
      })().catch(() => {});
      const last = await sendQueues(accounts.map(() => Array.from({ length: rounds }, (_, r) => (price > 0n && r % 2 === 1 ? order : pay))));
      polling = false;
      await poller;
      // Reads clients make after submitting: statuses, receipts, blocks.
      for (const h of last) {
        if (late() !== null) break;
        await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "starknet_getTransactionReceipt", params: { transaction_hash: toHex(h) } }));
        await post(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "starknet_getTransactionStatus", params: { transaction_hash: toHex(h) } }));
        await post(JSON.stringify({ jsonrpc: "2.0", id: 3, method: "starknet_getBlockWithTxHashes", params: { block_id: "latest" } }));
      }
      included = node.stats.txsIncluded;
      return { sent, included, ms: Math.round(performance.now() - t0), end: late() ?? "done" };
    } finally {
      agent.destroy();
      await d?.stop().catch(() => {});
      if (dir !== null) await rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  }
}

function postJson(agent: http.Agent, url: URL, body: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
          } catch (e) {
            reject(e);
          }
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
