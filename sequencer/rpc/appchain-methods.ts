// appchain_* operator methods: snapshots, rollback, maintenance, pause / resume,
// cancel-all-except-TP/SL, post-only with price band, guarded market data, status.
// Operator methods answer only loopback clients unless an admin token is configured, in
// which case a matching `Authorization: Bearer <token>` is also accepted.

import { EXCHANGE_ADDRESS } from "../../contracts/exchange-genesis.js";
import { exchangeFns } from "../../contracts/perp/exchange-contract.js";
import { encodeArgs } from "../../contracts/runtime/index.js";
import { toHex } from "../../state/felt.js";
import { describeValue } from "../bounded-copy.js";
import { InvalidParamsError, RollbackRefusedError, SnapshotNotFoundError } from "../errors.js";
import { startEventLoopMonitor, takeEventLoopMax } from "../event-loop-monitor.js";
import type { MarketDataService } from "../marketdata-service.js";
import type { PerpchainNode } from "../node.js";
import { SnapshotStore, type Snapshot } from "../snapshots.js";
import { parseBlockId } from "./params.js";
import { authorizeOperator } from "./operator-auth.js";
import type { HandlerRegistry, RpcHandler } from "./registry.js";

export interface AppchainMethodOptions {
  adminToken?: string;
  marketData?: MarketDataService;
}

export function registerAppchainMethods(registry: HandlerRegistry, node: PerpchainNode, opts: AppchainMethodOptions = {}): void {
  const operator = (name: string, paramNames: string[], h: RpcHandler) =>
    registry.register(
      name,
      (p, ctx) => {
        authorizeOperator(ctx, opts.adminToken);
        return h(p, ctx);
      },
      { paramNames },
    );

  startEventLoopMonitor();
  operator("appchain_getStatus", [], () => {
    // The longest event-loop stall since the previous status read (benchmarks read before and after a run).
    const loop = takeEventLoopMax();
    return {
      lifecycle: node.lifecycle.state,
      epoch: node.epoch,
      paused: node.paused,
      head: node.headNumber(),
      mempool: node.mempool.size,
      fatal_error: node.fatalError?.message ?? null,
      event_loop_max_ms: loop.max_ms,
      event_loop_window_ms: loop.window_ms,
    };
  });

  operator("appchain_createSnapshot", ["name"], async (p) => createSnapshot(node, p.name));
  operator("appchain_listSnapshots", [], () => node.snapshots.list());
  operator("appchain_deleteSnapshot", ["name"], async (p) => {
    const name = snapshotName(p.name);
    if (!(await node.snapshots.delete(name))) throw new SnapshotNotFoundError(name);
    return { deleted: name };
  });
  operator("appchain_beginMaintenance", ["reason?"], async () => {
    const n = node.headNumber();
    const snap = await createSnapshot(node, `pre-maintenance-${n}-e${node.epoch}-${node.snapshots.list().length}`);
    return { snapshot: snap };
  });

  operator("appchain_rollback", ["block_id?", "snapshot?", "policy?"], async (p) => {
    const policy = p.policy === undefined ? "drop" : p.policy;
    if (policy !== "drop" && policy !== "requeue") throw new InvalidParamsError("policy", "expected drop or requeue");
    let target: number;
    let snap: Snapshot | undefined;
    if (p.snapshot !== undefined) {
      if (p.block_id !== undefined) throw new InvalidParamsError("", "give block_id or snapshot, not both");
      const name = snapshotName(p.snapshot);
      snap = node.snapshots.get(name);
      if (snap === undefined) throw new SnapshotNotFoundError(name);
      target = snap.block_number;
    } else if (p.block_id !== undefined) {
      const id = parseBlockId(p.block_id);
      if (id.kind === "number") target = id.number;
      else if (id.kind === "hash") {
        const n = await node.chain.getBlockNumberByHash(id.hash);
        if (n === undefined) throw new RollbackRefusedError(`unknown block ${toHex(id.hash)}`);
        target = n;
      } else throw new InvalidParamsError("block_id", "a block number or hash is required");
    } else throw new InvalidParamsError("", "give block_id or snapshot");
    const r = await node.rollbackTo(target, policy);
    const head = node.world.head()!;
    if (snap && toHex(head.roots.globalRoot) !== snap.global_root) throw new Error(`invariant violated: root after rollback differs from snapshot ${snap.name}`);
    return {
      block_number: head.blockNumber,
      block_hash: toHex(head.blockHash),
      new_root: toHex(head.roots.globalRoot),
      removed_blocks: { from: r.startingBlock, to: r.endingBlock },
      removed_transactions: r.removedTxs,
      requeued_transactions: r.requeued,
      policy,
      rollback_ms: Number(r.rollbackMs.toFixed(3)),
      keys_changed: r.keysChanged,
    };
  });

  // Runbook: exchange controls (node-level refusal + the contract's own switch).
  const exchangeCall = (sig: { selector: bigint; inputs: object }, args: object) =>
    node.submitOperatorInvoke([{ to: EXCHANGE_ADDRESS, selector: sig.selector, calldata: encodeArgs(sig.inputs as never, args as never) }]);
  const settle = async (hash: bigint) => {
    if (node.options.blockGeneration.mode === "transaction") {
      const t = await node.waitForTx(hash);
      return { transaction_hash: toHex(hash), execution_status: t.receipt.execution_status, revert_reason: t.receipt.revert_reason };
    }
    return { transaction_hash: toHex(hash) };
  };
  operator("appchain_pause", [], async () => {
    node.setPaused(true);
    return { paused: true, ...(await settle(await exchangeCall(exchangeFns.pause, {}))) };
  });
  operator("appchain_resume", [], async () => {
    const r = await settle(await exchangeCall(exchangeFns.resume, {}));
    node.setPaused(false);
    return { paused: false, ...r };
  });
  operator("appchain_cancelAllOrders", ["max_count?"], async (p) => {
    const max = p.max_count === undefined ? 10_000 : Number(p.max_count);
    if (!Number.isSafeInteger(max) || max <= 0 || max > 2 ** 32 - 1) throw new InvalidParamsError("max_count", "expected a positive u32");
    return { keeps: "take-profit and stop-loss orders", ...(await settle(await exchangeCall(exchangeFns.cancelAllOrders, { max_count: BigInt(max) }))) };
  });
  operator("appchain_setPostOnly", ["enabled", "band_ppm?"], async (p) => {
    if (typeof p.enabled !== "boolean") throw new InvalidParamsError("enabled", "expected a boolean");
    const band = p.band_ppm === undefined ? 0 : Number(p.band_ppm);
    if (!Number.isSafeInteger(band) || band < 0 || band > 1_000_000) throw new InvalidParamsError("band_ppm", "expected an integer in [0, 1000000]");
    return { enabled: p.enabled, band_ppm: band, ...(await settle(await exchangeCall(exchangeFns.setPostOnly, { enabled: p.enabled, band_ppm: BigInt(band) }))) };
  });

  const md = opts.marketData;
  registry.register("appchain_pushMarketData", async (p) => {
    if (!md) throw new InvalidParamsError("", "market data push is not enabled on this node");
    return md.push(p.update);
  }, { paramNames: ["update"], objectParam: "update" });
  registry.register("appchain_getMarketDataStatus", () => {
    if (!md) return { epoch: node.epoch, markets: {}, enabled: false };
    return md.status();
  }, { paramNames: [] });
  operator("appchain_resetCircuitBreaker", ["market"], (p) => {
    if (!md) throw new InvalidParamsError("", "market data is not enabled on this node");
    if (typeof p.market !== "string") throw new InvalidParamsError("market", "expected a market name");
    try {
      md.pipeline.closeBreaker(p.market);
    } catch (e) {
      if (e instanceof RangeError) throw new InvalidParamsError("market", `unknown market ${describeValue(p.market)}`);
      throw e;
    }
    return { market: p.market, breaker: md.pipeline.breakerState(p.market) };
  });
}

async function createSnapshot(node: PerpchainNode, rawName: unknown): Promise<Snapshot> {
  const name = snapshotName(rawName);
  if (node.snapshots.get(name)) throw new InvalidParamsError("name", `snapshot '${name}' exists`);
  const head = node.world.head()!;
  return node.snapshots.put({
    name,
    blockNumber: head.blockNumber,
    blockHash: head.blockHash,
    globalRoot: head.roots.globalRoot,
    contractsRoot: head.roots.contractsRoot,
    classesRoot: head.roots.classesRoot,
    createdAt: node.nowS(),
  });
}

function snapshotName(v: unknown): string {
  if (!SnapshotStore.validName(v)) throw new InvalidParamsError("name", "expected 1–128 characters of [A-Za-z0-9_.:-]");
  return v;
}
