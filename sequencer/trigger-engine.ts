// The trigger engine: after every block that carries an oracle update (accepted market
// data only — nothing else moves mark prices), it looks for accounts below maintenance
// margin and take-profit / stop-loss orders whose trigger the mark price crossed, and
// submits the operator's liquidate / trigger_order transactions. The contract re-checks
// every condition, so a wrong guess here costs a reverted transaction, never state.
//
// What it watches (depositors, open TP/SL orders) is persisted as it learns it, in each block's
// own batch with a cursor naming that block, so a restart reads the list and nothing after
// it instead of the whole chain. Events are decoded through the contracts' ABIs.

import { pack, unpack } from "msgpackr";
import { EXCHANGE_ADDRESS, ORACLE_ADDRESS } from "../contracts/exchange-genesis.js";
import { ExchangeClass, exchangeFns } from "../contracts/perp/exchange-contract.js";
import { triggerReached } from "../contracts/perp/exchange-rules.js";
import { OrderType } from "../contracts/perp/types.js";
import { OracleClass } from "../contracts/oracle.js";
import { decodeEvent, decodeValue, encodeArgs } from "../contracts/runtime/index.js";
import { Column, felt32, key, readFelt, u64 } from "../state/columns.js";
import { toHex, type Felt } from "../state/felt.js";
import type { KvOp } from "../state/kv-store.js";
import { committedOracleMarket } from "./marketdata-service.js";
import type { BlockEvent, PerpchainNode } from "./node.js";

/** Most liquidations / triggers submitted per block (bounded work). */
const MAX_ACTIONS_PER_BLOCK = 256;

// Keys of the persisted watch list (meta column): the cursor, one key per watched account,
// one per conditional order (value: the order's trigger fields).
const CURSOR_KEY = key(Column.meta, Buffer.from("trigger:cursor"));
const ACCOUNT_PREFIX = key(Column.meta, Buffer.from("trigger:account:"));
const ORDER_PREFIX = key(Column.meta, Buffer.from("trigger:order:"));

export interface TriggerStats {
  liquidationsSubmitted: number;
  triggersSubmitted: number;
  liquidated: string[];
}

interface ConditionalOrder {
  owner: Felt;
  market: Felt;
  side: number;
  type: number;
  trigger: bigint;
}

export class TriggerEngine {
  private readonly accounts = new Set<Felt>();
  private readonly conditional = new Map<bigint, ConditionalOrder>();
  private readonly inFlight = new Set<string>();
  readonly stats: TriggerStats = { liquidationsSubmitted: 0, triggersSubmitted: 0, liquidated: [] };
  enabled = true;
  /** Stops listening to blocks and reorgs (set by start()). */
  private unsubscribe: (() => void) | null = null;
  /** Writes of the watch list, one after the other. */
  private writes: Promise<void> = Promise.resolve();
  /** Blocks replayed from the chain by the last start (for tests and logs). */
  replayedBlocks = 0;
  /** The last block whose batch carried an oracle update (learned while it was written). */
  private priceMovedAt = -1;

  constructor(private readonly node: PerpchainNode) {}

  /**
   * Load the persisted watch list, learn the blocks after its cursor (none when the list was
   * written with every block; a store of a node that ran without the engine has some), then
   * watch new blocks: their watch-list changes and cursor ride in their own batch.
   * A store without a cursor (written before the watch list was persisted) is read once
   * from genesis.
   */
  async start(): Promise<void> {
    const offWrite = this.node.onBlockWrite((e) => this.blockWrites(e));
    const offBlock = this.node.onBlock((e) => this.onBlock(e));
    const offReorg = this.node.onReorg(() => this.persist([], this.node.headNumber()));
    this.unsubscribe = () => {
      offWrite();
      offBlock();
      offReorg();
    };
    const store = this.node.store;
    const raw = await store.get(CURSOR_KEY);
    const cursor = raw === undefined ? -1 : Number(Buffer.from(raw).readBigUInt64BE(0));
    for await (const [k] of store.iterator(prefixRange(ACCOUNT_PREFIX))) this.accounts.add(readFelt(k, ACCOUNT_PREFIX.length));
    for await (const [k, v] of store.iterator(prefixRange(ORDER_PREFIX))) this.conditional.set(readFelt(k, ORDER_PREFIX.length), decodeOrder(v));
    const head = this.node.headNumber();
    const ops: KvOp[] = [];
    this.replayedBlocks = 0;
    for (let n = Math.min(cursor, head) + 1; n <= head; n++) {
      const block = await this.node.chain.getBlock(n);
      if (block === undefined) continue;
      this.learn(await this.node.chain.getStoredTxs(block.txHashes.map(BigInt)), ops);
      this.replayedBlocks++;
    }
    if (cursor !== head) await this.persist(ops, head);
  }

  /** Stop watching; resolves when the watch list's last write has landed. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.writes;
  }

  /** The chain was replaced (devnet_restart, devnet_load): forget what was learned, relearn it from the new chain. */
  async restartFromChain(watch: boolean): Promise<void> {
    await this.stop();
    this.accounts.clear();
    this.conditional.clear();
    this.inFlight.clear();
    if (watch) await this.start();
  }

  /** Accounts the engine watches (seen depositing). */
  watched(): Felt[] {
    return [...this.accounts];
  }

  /** A block about to be committed: what it teaches, and the cursor, go into its own batch. */
  private blockWrites(e: BlockEvent): KvOp[] {
    const ops: KvOp[] = [];
    const n = e.block.header.block_number;
    if (this.learn(e.stored, ops)) this.priceMovedAt = n;
    ops.push({ type: "put", key: CURSOR_KEY, value: u64(n) });
    return ops;
  }

  private onBlock(e: BlockEvent): void {
    for (const hash of e.block.txHashes) this.inFlight.delete(hash);
    const priceMoved = this.priceMovedAt === e.block.header.block_number;
    if (priceMoved && this.enabled && this.node.lifecycle.isReady) void this.scan().catch((err) => this.node.log("trigger_scan_failed", { error: String(err) }));
  }

  /** Write watch-list changes and the cursor in one batch of their own (start-up replay, rollback). */
  private persist(ops: KvOp[], cursor: number): Promise<void> {
    const batch = [...ops, { type: "put" as const, key: CURSOR_KEY, value: u64(cursor) }];
    this.writes = this.writes.then(() => this.node.store.batch(batch)).catch((err) => this.node.log("trigger_watchlist_write_failed", { error: String(err) }));
    return this.writes;
  }

  /**
   * Record depositors and conditional orders from receipts (their puts go to `ops`); true when
   * an oracle update is among them.
   */
  private learn(txs: BlockEvent["stored"], ops: KvOp[]): boolean {
    let priceMoved = false;
    for (const tx of txs) {
      for (const ev of tx.exec.events) {
        const from = ev.from_address;
        if (from !== EXCHANGE_ADDRESS && from !== ORACLE_ADDRESS) continue;
        const decoded = decodeEvent(from === EXCHANGE_ADDRESS ? ExchangeClass : OracleClass, ev.keys, ev.data);
        if (decoded === undefined) continue;
        const v = decoded.values as Record<string, bigint>;
        if (from === ORACLE_ADDRESS) {
          if (decoded.name === "MarketDataUpdated") priceMoved = true;
        } else if (decoded.name === "Deposit") {
          if (!this.accounts.has(v.account!)) {
            this.accounts.add(v.account!);
            ops.push({ type: "put", key: Buffer.concat([ACCOUNT_PREFIX, felt32(v.account!)]), value: new Uint8Array(0) });
          }
        } else if (decoded.name === "OrderPlaced") {
          const type = Number(v.order_type);
          if (type === OrderType.TAKE_PROFIT || type === OrderType.STOP_LOSS) {
            const order: ConditionalOrder = { owner: v.owner!, market: v.market!, side: Number(v.side), type, trigger: v.trigger_price_e6! };
            this.conditional.set(v.order_id!, order);
            ops.push({ type: "put", key: orderKey(v.order_id!), value: encodeOrder(order) });
          }
        }
      }
    }
    return priceMoved;
  }

  /** Check every watched account and conditional order against committed state. */
  async scan(): Promise<{ liquidations: Felt[]; triggers: bigint[] }> {
    const liquidations: Felt[] = [];
    const triggers: bigint[] = [];
    let actions = 0;
    for (const account of this.accounts) {
      if (actions >= MAX_ACTIONS_PER_BLOCK) break;
      const info = this.view(exchangeFns.getAccount, { account });
      if (info.exposure > 0n && info.equity < BigInt(info.maintenance_margin)) {
        liquidations.push(account);
        actions++;
      }
    }
    for (const [orderId, o] of this.conditional) {
      if (actions >= MAX_ACTIONS_PER_BLOCK) break;
      const order = this.view(exchangeFns.getOrder, { order_id: orderId });
      if (order.status !== 0n) {
        // no longer open (filled, cancelled or triggered)
        this.forgetOrder(orderId);
        continue;
      }
      const mark = this.markOf(o.market);
      if (mark > 0n && triggerReached({ type: o.type as OrderType, side: o.side as 0 | 1, trigger_price_e6: o.trigger } as Parameters<typeof triggerReached>[0], mark)) {
        triggers.push(orderId);
        actions++;
      }
    }
    for (const account of liquidations) {
      const keyId = `liq:${toHex(account)}`;
      if (this.inFlight.has(keyId)) continue;
      const hash = await this.node.submitOperatorInvoke([{ to: EXCHANGE_ADDRESS, selector: exchangeFns.liquidate.selector, calldata: encodeArgs(exchangeFns.liquidate.inputs, { account }) }]);
      this.inFlight.add(toHex(hash));
      this.stats.liquidationsSubmitted++;
      this.stats.liquidated.push(toHex(account));
      this.node.log("liquidation_submitted", { account: toHex(account), tx: toHex(hash) });
    }
    for (const orderId of triggers) {
      const hash = await this.node.submitOperatorInvoke([{ to: EXCHANGE_ADDRESS, selector: exchangeFns.triggerOrder.selector, calldata: encodeArgs(exchangeFns.triggerOrder.inputs, { order_id: orderId }) }]);
      this.forgetOrder(orderId);
      this.stats.triggersSubmitted++;
      this.node.log("trigger_submitted", { order_id: orderId.toString(), tx: toHex(hash) });
    }
    return { liquidations, triggers };
  }

  private forgetOrder(orderId: bigint): void {
    this.conditional.delete(orderId);
    void this.persist([{ type: "del", key: orderKey(orderId) }], this.node.headNumber());
  }

  private markOf(market: Felt): bigint {
    return committedOracleMarket(this.node.world, market).mark_price_e6;
  }

  private view<I extends object, O>(sig: { selector: Felt; inputs: I; output: unknown }, args: unknown): O & Record<string, bigint> {
    const out = this.node.callView(EXCHANGE_ADDRESS, sig.selector, encodeArgs(sig.inputs as never, args as never));
    return decodeValue(sig.output as never, out) as O & Record<string, bigint>;
  }
}

function prefixRange(prefix: Buffer): { gte: Buffer; lt: Buffer } {
  const lt = Buffer.from(prefix);
  lt[lt.length - 1]!++;
  return { gte: prefix, lt };
}

function orderKey(orderId: bigint): Buffer {
  return Buffer.concat([ORDER_PREFIX, felt32(orderId)]);
}

function encodeOrder(o: ConditionalOrder): Uint8Array {
  return pack([felt32(o.owner), felt32(o.market), o.side, o.type, felt32(o.trigger)]);
}

function decodeOrder(v: Uint8Array): ConditionalOrder {
  const [owner, market, side, type, trigger] = unpack(v) as [Uint8Array, Uint8Array, number, number, Uint8Array];
  return { owner: readFelt(owner), market: readFelt(market), side, type, trigger: readFelt(trigger) };
}
