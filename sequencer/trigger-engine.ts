// The trigger engine: after every block that carries an oracle update (accepted market
// data only — nothing else moves mark prices), it looks for accounts below maintenance
// margin and take-profit / stop-loss orders whose trigger the mark price crossed, and
// submits the operator's liquidate / trigger_order transactions. The contract re-checks
// every condition, so a wrong guess here costs a reverted transaction, never state.

import { EXCHANGE_ADDRESS, ORACLE_ADDRESS } from "../contracts/exchange-genesis.js";
import { exchangeFns } from "../contracts/perp/exchange-contract.js";
import { triggerReached } from "../contracts/perp/exchange-rules.js";
import { OrderType } from "../contracts/perp/types.js";
import { decodeValue, encodeArgs } from "../contracts/runtime/index.js";
import { selectorFromName } from "../state/crypto/hash.js";
import { toHex, type Felt } from "../state/felt.js";
import { committedOracleMarket } from "./marketdata-service.js";
import type { BlockEvent, PerpchainNode } from "./node.js";

const SEL = {
  Deposit: toHex(selectorFromName("Deposit")),
  OrderPlaced: toHex(selectorFromName("OrderPlaced")),
  MarketDataUpdated: toHex(selectorFromName("MarketDataUpdated")),
};
const EXCHANGE = toHex(EXCHANGE_ADDRESS);
const ORACLE = toHex(ORACLE_ADDRESS);
/** Most liquidations / triggers submitted per block (bounded work). */
const MAX_ACTIONS_PER_BLOCK = 256;

export interface TriggerStats {
  liquidationsSubmitted: number;
  triggersSubmitted: number;
  liquidated: string[];
}

export class TriggerEngine {
  private readonly accounts = new Set<Felt>();
  private readonly conditional = new Map<bigint, { owner: Felt; market: Felt; side: number; type: number; trigger: bigint }>();
  private readonly inFlight = new Set<string>();
  readonly stats: TriggerStats = { liquidationsSubmitted: 0, triggersSubmitted: 0, liquidated: [] };
  enabled = true;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly node: PerpchainNode) {}

  /**
   * Watch new blocks, after rebuilding what to watch from the chain's history (a restarted
   * node must still liquidate accounts that deposited before the restart).
   */
  async start(): Promise<void> {
    this.unsubscribe = this.node.onBlock((e) => this.onBlock(e));
    const head = this.node.headNumber();
    for (let n = 0; n <= head; n++) {
      const block = await this.node.chain.getBlock(n);
      if (block === undefined) continue;
      this.learn(await this.node.chain.getTxs(block.txHashes));
    }
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** The chain was replaced (devnet_restart, devnet_load): forget what was learned, relearn it from the new chain. */
  async restartFromChain(watch: boolean): Promise<void> {
    this.stop();
    this.accounts.clear();
    this.conditional.clear();
    this.inFlight.clear();
    if (watch) await this.start();
  }

  /** Accounts the engine watches (seen depositing). */
  watched(): Felt[] {
    return [...this.accounts];
  }

  private onBlock(e: BlockEvent): void {
    for (const tx of e.txs) this.inFlight.delete(tx.transaction.transaction_hash);
    const priceMoved = this.learn(e.txs);
    if (priceMoved && this.enabled && this.node.lifecycle.isReady) void this.scan().catch((err) => this.node.log("trigger_scan_failed", { error: String(err) }));
  }

  /** Record depositors and conditional orders from receipts; true when an oracle update is among them. */
  private learn(txs: BlockEvent["txs"]): boolean {
    let priceMoved = false;
    for (const tx of txs) {
      for (const ev of tx.receipt.events) {
        if (ev.from_address === EXCHANGE && ev.keys[0] === SEL.Deposit) this.accounts.add(BigInt(ev.keys[1]!));
        if (ev.from_address === EXCHANGE && ev.keys[0] === SEL.OrderPlaced) {
          const type = Number(BigInt(ev.data[1]!));
          if (type === OrderType.TAKE_PROFIT || type === OrderType.STOP_LOSS) {
            this.conditional.set(BigInt(ev.keys[1]!), {
              owner: BigInt(ev.keys[2]!),
              market: BigInt(ev.keys[3]!),
              side: Number(BigInt(ev.data[0]!)),
              type,
              trigger: BigInt(ev.data[4]!),
            });
          }
        }
        if (ev.from_address === ORACLE && ev.keys[0] === SEL.MarketDataUpdated) priceMoved = true;
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
        this.conditional.delete(orderId);
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
      this.conditional.delete(orderId);
      this.stats.triggersSubmitted++;
      this.node.log("trigger_submitted", { order_id: orderId.toString(), tx: toHex(hash) });
    }
    return { liquidations, triggers };
  }

  private markOf(market: Felt): bigint {
    return committedOracleMarket(this.node.world, market).mark_price_e6;
  }

  private view<I extends object, O>(sig: { selector: Felt; inputs: I; output: unknown }, args: unknown): O & Record<string, bigint> {
    const out = this.node.callView(EXCHANGE_ADDRESS, sig.selector, encodeArgs(sig.inputs as never, args as never));
    return decodeValue(sig.output as never, out) as O & Record<string, bigint>;
  }
}
