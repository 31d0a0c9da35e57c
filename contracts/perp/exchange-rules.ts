// The exchange's rules: collateral, order placement and price-time-priority matching,
// TP/SL triggering, funding settlement, liquidation, vault payouts and operator
// controls — as operations over the ExchangeStore and MarketDataReader ports. Callers
// are passed in explicitly (no ambient context); a throwing operation must be rolled
// back by the caller (the contract runtime's journal, or MemoryStore.transaction).
// Never reads the clock, randomness or the environment. Scales: see units.ts.
//
// Policies (documented here, tested in test/unit/perp-*.test.ts):
//   - Self-trade: when an incoming order meets a resting order of the same owner, the
//     RESTING order is cancelled (reason SELF_TRADE) and matching continues.
//   - Market orders and triggered TP/SL orders are immediate-or-cancel: they sweep levels
//     up to their protection price (price_e6, 0 = none) and the rest is cancelled.
//   - Matching performs at most MAX_MATCH_STEPS steps (fills + self-trade cancels); a
//     limit order that still crosses after that has its remainder cancelled, never rests crossed.
//   - Post-only orders that would cross are refused (the transaction reverts).
//   - Reduce-only: at placement the order must be against the position and no larger;
//     at each fill it is clipped to what still reduces; a resting reduce-only order that
//     can no longer reduce is cancelled (reason REDUCE_ONLY).
//   - Initial margin (positions + worst case of open orders) must hold after a
//     non-reduce-only placement/trigger and after a withdrawal or payout.
//   - Pause blocks deposit, withdraw, place_order and trigger_order; cancels, liquidation
//     and admin operations still work.
//   - Post-only mode: only post-only LIMIT orders whose price is within band_ppm of the
//     mark price are accepted.
//   - Liquidation (operator, account below maintenance margin): all live orders are
//     cancelled, every position moves to the Liquidator Vault at the mark price (rounded
//     against the account), a fee of liquidation_fee_ppm × notional (capped at the
//     remaining equity) goes to the vault, and any negative balance left (bad debt) is
//     absorbed by the vault. What equity remains stays with the account.
//   - The admin funds the vault with fund_vault (USDC pulled in) and pays refunds out of
//     it with vault_payout (bounded by the vault's free collateral).

import type { Felt } from "../../state/felt.js";
import { ExchangeError, invariant, require_ } from "./errors.js";
import { accountHealth, isLiquidatable, type AccountHealth, type MarketExposure } from "./margin.js";
import { MAX_MARKETS, VAULT_ACCOUNT, validateMarketConfig } from "./market-config.js";
import {
  accountOrderIds,
  bookDepth,
  insertOrder,
  linkAccountOrder,
  reduceResting,
  unlinkAccountOrder,
  type DepthLevel,
} from "./order-book.js";
import { applyTrade, entryPrice } from "./position.js";
import type { ExchangeStore, MarketDataReader } from "./store.js";
import {
  OrderFlag,
  OrderStatus,
  OrderType,
  Side,
  type Globals,
  type MarketConfig,
  type Order,
  type PlaceOrderParams,
  type Position,
} from "./types.js";
import { abs, divCeil, exactNotional, fundingPnl, min, PPM_ONE, ppmCeil, SIZE_ONE } from "./units.js";

export const MAX_MATCH_STEPS = 64;
export const MAX_LIVE_ORDERS_PER_ACCOUNT = 128;
const U64 = 1n << 64n;
const U128 = 1n << 128n;

// PlaceOrderParams lives in types.ts (events.ts needs it; importing it from here made a cycle).
export type { PlaceOrderParams } from "./types.js";

export interface AccountView extends AccountHealth {
  balance_usdc6: bigint;
  free_collateral_usdc6: bigint;
}

export interface PositionView extends Position {
  entry_price_e6: bigint;
  mark_e6: bigint;
  unrealized_pnl_usdc6: bigint;
  pending_funding_usdc6: bigint;
}

interface MarketCtx {
  cfg: MarketConfig;
  mark_e6: bigint;
  index_e6: bigint;
}

export class ExchangeRules {
  constructor(
    private readonly s: ExchangeStore,
    private readonly md: MarketDataReader,
  ) {}

  // ---- set-up and admin ------------------------------------------------------------

  /** Genesis / constructor: admin, operator and the initial markets. */
  initialize(admin: Felt, operator: Felt, markets: readonly Omit<MarketConfig, "id">[]): void {
    const g = this.s.getGlobals();
    invariant(g.next_order_id === 0n, "exchange initialized once");
    g.admin = admin;
    g.operator = operator;
    g.next_order_id = 1n;
    this.s.putGlobals(g);
    for (const m of markets) this.addMarket(admin, m);
  }

  addMarket(caller: Felt, m: Omit<MarketConfig, "id">): number {
    const g = this.s.getGlobals();
    require_(caller === g.admin, "PERP: only admin");
    validateMarketConfig(m);
    require_(this.s.getMarketIdByName(m.name) === 0, "PERP: market exists");
    require_(g.market_count < MAX_MARKETS, "PERP: too many markets");
    const id = g.market_count + 1;
    g.market_count = id;
    this.s.putGlobals(g);
    this.s.putMarket({ ...m, id });
    this.s.putMarketIdByName(m.name, id);
    this.s.emit({ name: "MarketAdded", market: m.name, market_id: id });
    return id;
  }

  pause(caller: Felt): void {
    this.setPaused(caller, true);
  }

  resume(caller: Felt): void {
    this.setPaused(caller, false);
  }

  setPostOnly(caller: Felt, enabled: boolean, band_ppm: bigint): void {
    const g = this.s.getGlobals();
    require_(caller === g.operator, "PERP: only operator");
    require_(band_ppm >= 0n && band_ppm <= PPM_ONE, "PERP: bad price", { band_ppm });
    g.post_only = enabled;
    g.band_ppm = band_ppm;
    this.s.putGlobals(g);
    this.s.emit({ name: "PostOnlyMode", enabled, band_ppm });
  }

  // ---- collateral --------------------------------------------------------------------

  /** Credit a deposit; the caller (contract) has already pulled the USDC in. */
  deposit(caller: Felt, amount_usdc6: bigint): void {
    const g = this.s.getGlobals();
    require_(!g.paused, "PERP: paused");
    require_(amount_usdc6 > 0n && amount_usdc6 < U128, "PERP: bad amount", { amount_usdc6 });
    require_(caller !== VAULT_ACCOUNT, "PERP: vault cannot trade");
    const a = this.s.getAccount(caller);
    a.balance_usdc6 += amount_usdc6;
    this.s.putAccount(caller, a);
    g.total_deposits_usdc6 += amount_usdc6;
    this.s.putGlobals(g);
    this.s.emit({ name: "Deposit", account: caller, amount_usdc6 });
  }

  /** Debit a withdrawal if initial margin still holds; the contract then pays it out. */
  withdraw(caller: Felt, amount_usdc6: bigint): void {
    const g = this.s.getGlobals();
    require_(!g.paused, "PERP: paused");
    require_(amount_usdc6 > 0n && amount_usdc6 < U128, "PERP: bad amount", { amount_usdc6 });
    require_(caller !== VAULT_ACCOUNT, "PERP: vault cannot trade");
    this.debitFree(caller, amount_usdc6);
    g.total_withdrawals_usdc6 += amount_usdc6;
    this.s.putGlobals(g);
    this.s.emit({ name: "Withdrawal", account: caller, amount_usdc6 });
  }

  /** Admin refund / insurance payout out of the Liquidator Vault's free collateral. */
  payout(caller: Felt, recipient: Felt, amount_usdc6: bigint): void {
    const g = this.s.getGlobals();
    require_(caller === g.admin, "PERP: only admin");
    require_(amount_usdc6 > 0n && amount_usdc6 < U128, "PERP: bad amount", { amount_usdc6 });
    this.debitFree(VAULT_ACCOUNT, amount_usdc6);
    g.total_payouts_usdc6 += amount_usdc6;
    this.s.putGlobals(g);
    this.s.emit({ name: "VaultPayout", recipient, amount_usdc6 });
  }

  /**
   * Admin tops up the Liquidator Vault (e.g. before refunds after a rollback restored the
   * vault to a state without the fees it is refunding); the contract has already pulled
   * the USDC in. Counted with deposits, so USDC stays conserved exactly.
   */
  fundVault(caller: Felt, amount_usdc6: bigint): void {
    const g = this.s.getGlobals();
    require_(caller === g.admin, "PERP: only admin");
    require_(amount_usdc6 > 0n && amount_usdc6 < U128, "PERP: bad amount", { amount_usdc6 });
    const v = this.s.getAccount(VAULT_ACCOUNT);
    v.balance_usdc6 += amount_usdc6;
    this.s.putAccount(VAULT_ACCOUNT, v);
    g.total_deposits_usdc6 += amount_usdc6;
    this.s.putGlobals(g);
    this.s.emit({ name: "VaultFunded", funder: caller, amount_usdc6 });
  }

  // ---- orders ------------------------------------------------------------------------

  /** Place an order; returns its id. Matching happens here, inside the transaction. */
  placeOrder(caller: Felt, p: PlaceOrderParams): bigint {
    const g = this.s.getGlobals();
    require_(!g.paused, "PERP: paused");
    require_(caller !== VAULT_ACCOUNT, "PERP: vault cannot trade");
    const m = this.marketCtx(p.market);
    const cfg = m.cfg;
    require_(p.side === Side.BUY || p.side === Side.SELL, "PERP: bad side", { side: p.side });
    require_(p.order_type >= 0 && p.order_type <= 3, "PERP: bad order type", { order_type: p.order_type });
    require_(p.flags >= 0 && p.flags <= 3, "PERP: bad order type", { flags: p.flags });
    require_(p.size_e8 > 0n && p.size_e8 < U64 && p.size_e8 % cfg.lot_size_e8 === 0n, "PERP: bad size", {
      size_e8: p.size_e8,
      lot_size_e8: cfg.lot_size_e8,
    });
    const isLimit = p.order_type === OrderType.LIMIT;
    const isConditional = p.order_type === OrderType.TAKE_PROFIT || p.order_type === OrderType.STOP_LOSS;
    const postOnly = (p.flags & OrderFlag.POST_ONLY) !== 0;
    const reduceOnly = (p.flags & OrderFlag.REDUCE_ONLY) !== 0;
    const priceOk = p.price_e6 >= 0n && p.price_e6 < U64 && p.price_e6 % cfg.tick_size_e6 === 0n && (!isLimit || p.price_e6 > 0n);
    require_(priceOk, "PERP: bad price", { price_e6: p.price_e6, tick_size_e6: cfg.tick_size_e6 });
    require_(isConditional ? p.trigger_price_e6 > 0n && p.trigger_price_e6 < U64 : p.trigger_price_e6 === 0n, "PERP: bad price", {
      trigger_price_e6: p.trigger_price_e6,
    });
    require_(!postOnly || isLimit, "PERP: bad order type", { reason: "post-only needs a limit order" });
    if (g.post_only) {
      require_(isLimit && postOnly, "PERP: post-only mode");
      // |price − mark| ≤ band × mark, compared exactly.
      require_(abs(p.price_e6 - m.mark_e6) * PPM_ONE <= g.band_ppm * m.mark_e6, "PERP: outside price band", {
        price_e6: p.price_e6,
        mark_e6: m.mark_e6,
        band_ppm: g.band_ppm,
      });
    }
    if (reduceOnly) {
      const pos = this.s.getPosition(caller, cfg.id);
      require_(reducible(pos.size_e8, p.side as Side) >= p.size_e8, "PERP: reduce-only increases", {
        position_e8: pos.size_e8,
        size_e8: p.size_e8,
      });
    }

    const id = g.next_order_id;
    g.next_order_id = id + 1n;
    this.s.putGlobals(g);
    const o: Order = {
      id,
      owner: caller,
      market: cfg.id,
      side: p.side as Side,
      type: p.order_type as OrderType,
      flags: p.flags,
      status: isConditional ? OrderStatus.UNTRIGGERED : OrderStatus.OPEN,
      price_e6: p.price_e6,
      trigger_price_e6: p.trigger_price_e6,
      size_e8: p.size_e8,
      remaining_e8: p.size_e8,
      prev: 0n,
      next: 0n,
      acct_prev: 0n,
      acct_next: 0n,
    };
    this.s.emit({
      name: "OrderPlaced",
      order_id: id,
      owner: caller,
      market: cfg.name,
      side: o.side,
      order_type: o.type,
      flags: o.flags,
      price_e6: o.price_e6,
      trigger_price_e6: o.trigger_price_e6,
      size_e8: o.size_e8,
    });

    if (isConditional) {
      this.checkLiveOrderLimit(caller);
      linkAccountOrder(this.s, o);
      this.s.putOrder(o);
      return id;
    }
    if (postOnly) {
      const opp = this.s.getBookSide(cfg.id, opposite(o.side));
      require_(opp.best_e6 === 0n || !crosses(o.side, o.price_e6, opp.best_e6), "PERP: post-only would cross", {
        price_e6: o.price_e6,
        best_opposite_e6: opp.best_e6,
      });
    }
    this.execute(m, o, isLimit);
    if (!reduceOnly) this.requireInitialMargin(caller);
    return id;
  }

  /** Owner cancels one of its live orders (resting or untriggered). */
  cancelOrder(caller: Felt, orderId: bigint): void {
    const o = this.s.getOrder(orderId);
    require_(o !== undefined, "PERP: unknown order", { order_id: orderId });
    require_(o.owner === caller, "PERP: not order owner", { order_id: orderId });
    require_(o.status === OrderStatus.OPEN || o.status === OrderStatus.UNTRIGGERED, "PERP: order not open", {
      order_id: orderId,
      status: o.status,
    });
    this.cancelLive(o, "USER");
  }

  /**
   * Operator: cancel resting orders in every market's book (TP/SL orders waiting for a
   * trigger are not in the book and are kept). Cancels at most `max_count`; returns how
   * many were cancelled, so the operator repeats until it returns less than max_count.
   */
  cancelAllOrders(caller: Felt, max_count: number): number {
    const g = this.s.getGlobals();
    require_(caller === g.operator, "PERP: only operator");
    let n = 0;
    for (let market = 1; market <= g.market_count; market++) {
      for (const side of [Side.BUY, Side.SELL]) {
        while (n < max_count) {
          const best = this.s.getBookSide(market, side).best_e6;
          if (best === 0n) break;
          const level = this.s.getLevel(market, side, best);
          invariant(level !== undefined, "best level exists");
          const o = this.s.getOrder(level.head);
          invariant(o !== undefined, "level head order exists");
          this.cancelLive(o, "OPERATOR");
          n++;
        }
      }
    }
    return n;
  }

  /** Operator (trigger engine): fire a TP/SL order whose trigger the mark price has reached. */
  triggerOrder(caller: Felt, orderId: bigint): void {
    const g = this.s.getGlobals();
    require_(caller === g.operator, "PERP: only operator");
    require_(!g.paused, "PERP: paused");
    const o = this.s.getOrder(orderId);
    require_(o !== undefined, "PERP: unknown order", { order_id: orderId });
    require_(o.status === OrderStatus.UNTRIGGERED, "PERP: not triggerable", { order_id: orderId, status: o.status });
    const cfg = this.s.getMarket(o.market);
    invariant(cfg !== undefined, "order market exists");
    const m = this.marketCtx(cfg.name);
    require_(triggerReached(o, m.mark_e6), "PERP: trigger not reached", {
      order_id: orderId,
      trigger_price_e6: o.trigger_price_e6,
      mark_e6: m.mark_e6,
    });
    unlinkAccountOrder(this.s, o);
    o.status = OrderStatus.OPEN;
    this.s.emit({ name: "OrderTriggered", order_id: o.id, owner: o.owner, mark_e6: m.mark_e6 });
    const reduceOnly = (o.flags & OrderFlag.REDUCE_ONLY) !== 0;
    if (reduceOnly && reducible(this.s.getPosition(o.owner, cfg.id).size_e8, o.side) === 0n) {
      this.finishCancelled(o, "REDUCE_ONLY");
      return;
    }
    this.execute(m, o, false);
    if (!reduceOnly) this.requireInitialMargin(o.owner);
  }

  /** Operator: liquidate an account below maintenance margin (see header for the rule). */
  liquidate(caller: Felt, account: Felt): void {
    const g = this.s.getGlobals();
    require_(caller === g.operator, "PERP: only operator");
    require_(account !== VAULT_ACCOUNT, "PERP: vault cannot trade");
    const h = this.health(account);
    require_(isLiquidatable(h), "PERP: not liquidatable", {
      equity_usdc6: h.equity_usdc6,
      maintenance_margin_usdc6: h.maintenance_margin_usdc6,
    });
    for (const id of accountOrderIds(this.s, account, MAX_LIVE_ORDERS_PER_ACCOUNT)) {
      const o = this.s.getOrder(id);
      invariant(o !== undefined, "live order exists");
      this.cancelLive(o, "LIQUIDATION");
    }
    invariant(this.s.getAccount(account).order_head === 0n, "all live orders cancelled");

    const g2 = this.s.getGlobals();
    let fee = 0n;
    for (let market = 1; market <= g2.market_count; market++) {
      const cfg = this.s.getMarket(market);
      invariant(cfg !== undefined, "market exists");
      const pos = this.s.getPosition(account, market);
      if (pos.size_e8 === 0n) continue;
      const m = this.marketCtx(cfg.name);
      const size = pos.size_e8;
      // The account sells a long at floor, buys back a short at ceil: against the account.
      const notional = size > 0n ? (size * m.mark_e6) / SIZE_ONE : divCeil(-size * m.mark_e6, SIZE_ONE);
      this.tradeLeg(account, m, -size, notional, 0n, g2);
      this.tradeLeg(VAULT_ACCOUNT, m, size, notional, 0n, g2);
      fee += ppmCeil(notional, cfg.liquidation_fee_ppm);
      this.s.emit({ name: "Liquidation", account, market: cfg.name, size_e8: size, mark_e6: m.mark_e6, notional_usdc6: notional });
    }
    const a = this.s.getAccount(account);
    const v = this.s.getAccount(VAULT_ACCOUNT);
    fee = min(fee, a.balance_usdc6 > 0n ? a.balance_usdc6 : 0n);
    a.balance_usdc6 -= fee;
    v.balance_usdc6 += fee;
    let badDebt = 0n;
    if (a.balance_usdc6 < 0n) {
      badDebt = -a.balance_usdc6;
      v.balance_usdc6 -= badDebt;
      a.balance_usdc6 = 0n;
    }
    this.s.putAccount(account, a);
    this.s.putAccount(VAULT_ACCOUNT, v);
    this.s.putGlobals(g2);
    this.s.emit({ name: "LiquidationSettled", account, fee_usdc6: fee, bad_debt_usdc6: badDebt });
  }

  // ---- views -------------------------------------------------------------------------

  account(account: Felt): AccountView {
    const h = this.health(account);
    return {
      ...h,
      balance_usdc6: this.s.getAccount(account).balance_usdc6,
      free_collateral_usdc6: h.equity_usdc6 - h.initial_margin_usdc6,
    };
  }

  position(account: Felt, market: Felt): PositionView {
    const m = this.marketCtx(market);
    const p = this.s.getPosition(account, m.cfg.id);
    const h = accountHealth(0n, [{ market: m.cfg, position: p, mark_e6: m.mark_e6, funding_index_e6: m.index_e6 }]);
    return {
      ...p,
      entry_price_e6: entryPrice(p),
      mark_e6: m.mark_e6,
      unrealized_pnl_usdc6: h.unrealized_pnl_usdc6,
      pending_funding_usdc6: h.pending_funding_usdc6,
    };
  }

  order(orderId: bigint): Order {
    const o = this.s.getOrder(orderId);
    require_(o !== undefined, "PERP: unknown order", { order_id: orderId });
    return o;
  }

  depth(market: Felt, side: number, levels: number): DepthLevel[] {
    require_(side === Side.BUY || side === Side.SELL, "PERP: bad side", { side });
    return bookDepth(this.s, this.marketId(market), side as Side, levels);
  }

  market(market: Felt): MarketConfig {
    const cfg = this.s.getMarket(this.marketId(market));
    invariant(cfg !== undefined, "market exists");
    return cfg;
  }

  vault(): AccountView {
    return this.account(VAULT_ACCOUNT);
  }

  globals(): Globals {
    return this.s.getGlobals();
  }

  health(account: Felt): AccountHealth {
    const g = this.s.getGlobals();
    const exposures: MarketExposure[] = [];
    for (let market = 1; market <= g.market_count; market++) {
      const position = this.s.getPosition(account, market);
      if (position.size_e8 === 0n && position.open_buy_e8 === 0n && position.open_sell_e8 === 0n) continue;
      const cfg = this.s.getMarket(market);
      invariant(cfg !== undefined, "market exists");
      const m = this.marketCtx(cfg.name);
      exposures.push({ market: cfg, position, mark_e6: m.mark_e6, funding_index_e6: m.index_e6 });
    }
    return accountHealth(this.s.getAccount(account).balance_usdc6, exposures);
  }

  // ---- internals ---------------------------------------------------------------------

  private setPaused(caller: Felt, paused: boolean): void {
    const g = this.s.getGlobals();
    require_(caller === g.operator, "PERP: only operator");
    g.paused = paused;
    this.s.putGlobals(g);
    this.s.emit({ name: "TradingPaused", paused });
  }

  private marketId(name: Felt): number {
    const id = this.s.getMarketIdByName(name);
    require_(id !== 0, "PERP: unknown market", { market: name });
    return id;
  }

  private marketCtx(name: Felt): MarketCtx {
    const cfg = this.s.getMarket(this.marketId(name));
    invariant(cfg !== undefined, "market exists");
    const mark_e6 = this.md.markPrice(name);
    require_(mark_e6 > 0n, "PERP: no mark price", { market: name });
    return { cfg, mark_e6, index_e6: this.md.fundingIndex(name) };
  }

  /** Debit `amount` from an account if equity − amount still covers initial margin. */
  private debitFree(account: Felt, amount_usdc6: bigint): void {
    const h = this.health(account);
    const free = h.equity_usdc6 - h.initial_margin_usdc6;
    require_(amount_usdc6 <= free, "PERP: insufficient collateral", { amount_usdc6, free_usdc6: free });
    const a = this.s.getAccount(account);
    a.balance_usdc6 -= amount_usdc6;
    this.s.putAccount(account, a);
  }

  private requireInitialMargin(account: Felt): void {
    const h = this.health(account);
    require_(h.equity_usdc6 >= h.initial_margin_usdc6, "PERP: insufficient margin", {
      equity_usdc6: h.equity_usdc6,
      initial_margin_usdc6: h.initial_margin_usdc6,
    });
  }

  private checkLiveOrderLimit(account: Felt): void {
    const n = this.s.getAccount(account).live_orders;
    require_(n < MAX_LIVE_ORDERS_PER_ACCOUNT, "PERP: bad order type", { reason: "too many live orders", live: n });
  }

  /**
   * Match `taker` against the opposite side; rest the remainder when `rest` (limit
   * orders), cancel it otherwise. Writes the taker order record.
   */
  private execute(m: MarketCtx, taker: Order, rest: boolean): void {
    const cfg = m.cfg;
    const opp = opposite(taker.side);
    const takerReduceOnly = (taker.flags & OrderFlag.REDUCE_ONLY) !== 0;
    const g = this.s.getGlobals();
    let steps = 0;
    let exhausted = false;
    while (taker.remaining_e8 > 0n) {
      if (steps >= MAX_MATCH_STEPS) {
        exhausted = true;
        break;
      }
      const best = this.s.getBookSide(cfg.id, opp).best_e6;
      if (best === 0n) break;
      if (taker.price_e6 !== 0n && !crosses(taker.side, taker.price_e6, best)) break;
      steps++;
      const level = this.s.getLevel(cfg.id, opp, best);
      invariant(level !== undefined, "best level exists");
      const maker = this.s.getOrder(level.head);
      invariant(maker !== undefined && maker.status === OrderStatus.OPEN, "level head is an open order");
      if (maker.owner === taker.owner) {
        this.cancelLive(maker, "SELF_TRADE");
        continue;
      }
      let size = min(taker.remaining_e8, maker.remaining_e8);
      const makerReduceOnly = (maker.flags & OrderFlag.REDUCE_ONLY) !== 0;
      if (makerReduceOnly) {
        const r = reducible(this.s.getPosition(maker.owner, cfg.id).size_e8, maker.side);
        if (r === 0n) {
          this.cancelLive(maker, "REDUCE_ONLY");
          continue;
        }
        size = min(size, r);
      }
      if (takerReduceOnly) {
        size = min(size, reducible(this.s.getPosition(taker.owner, cfg.id).size_e8, taker.side));
        if (size === 0n) break;
      }
      this.fill(m, maker, taker, size, g);
    }
    this.s.putGlobals(g);

    if (taker.remaining_e8 === 0n) {
      taker.status = OrderStatus.FILLED;
      this.s.putOrder(taker);
      return;
    }
    const reduceOnlyDone =
      takerReduceOnly && reducible(this.s.getPosition(taker.owner, cfg.id).size_e8, taker.side) === 0n;
    if (!rest || exhausted || reduceOnlyDone) {
      this.finishCancelled(taker, reduceOnlyDone ? "REDUCE_ONLY" : "UNFILLED");
      return;
    }
    this.checkLiveOrderLimit(taker.owner);
    insertOrder(this.s, taker);
    linkAccountOrder(this.s, taker);
    if (!takerReduceOnly) this.adjustOpen(taker.owner, cfg.id, taker.side, taker.remaining_e8);
    this.s.putOrder(taker);
  }

  /** One fill at the maker's price; updates both orders, positions, balances and fees. */
  private fill(m: MarketCtx, maker: Order, taker: Order, size_e8: bigint, g: Globals): void {
    const price = maker.price_e6;
    const notional = exactNotional(size_e8, price);
    const makerFee = ppmCeil(notional, m.cfg.maker_fee_ppm);
    const takerFee = ppmCeil(notional, m.cfg.taker_fee_ppm);
    const makerDelta = maker.side === Side.BUY ? size_e8 : -size_e8;
    this.tradeLeg(maker.owner, m, makerDelta, notional, makerFee, g, maker.flags & OrderFlag.REDUCE_ONLY ? 0n : size_e8, maker.side);
    this.tradeLeg(taker.owner, m, -makerDelta, notional, takerFee, g);
    g.fee_balance_usdc6 += makerFee + takerFee;

    maker.remaining_e8 -= size_e8;
    taker.remaining_e8 -= size_e8;
    const done = maker.remaining_e8 === 0n;
    reduceResting(this.s, maker, size_e8, done);
    if (done) {
      unlinkAccountOrder(this.s, maker);
      maker.status = OrderStatus.FILLED;
    }
    this.s.putOrder(maker);
    this.s.emit({
      name: "Trade",
      market: m.cfg.name,
      maker_order_id: maker.id,
      taker_order_id: taker.id,
      maker: maker.owner,
      taker: taker.owner,
      taker_side: taker.side,
      price_e6: price,
      size_e8,
      maker_fee_usdc6: makerFee,
      taker_fee_usdc6: takerFee,
    });
  }

  /**
   * One account's side of a trade: settle funding, apply the size change at the given
   * notional, charge the fee, and release `openReleased_e8` of resting open size.
   */
  private tradeLeg(
    account: Felt,
    m: MarketCtx,
    delta_e8: bigint,
    notional_usdc6: bigint,
    fee_usdc6: bigint,
    g: Globals,
    openReleased_e8 = 0n,
    restingSide: Side = Side.BUY,
  ): void {
    const a = this.s.getAccount(account);
    const pos = this.settleFunding(account, m, this.s.getPosition(account, m.cfg.id), a, g);
    const eff = applyTrade(pos, delta_e8, notional_usdc6);
    const next = eff.position;
    if (openReleased_e8 !== 0n) {
      if (restingSide === Side.BUY) next.open_buy_e8 -= openReleased_e8;
      else next.open_sell_e8 -= openReleased_e8;
      invariant(next.open_buy_e8 >= 0n && next.open_sell_e8 >= 0n, "open size non-negative");
    }
    a.balance_usdc6 += eff.balance_delta_usdc6 - fee_usdc6;
    this.s.putPosition(account, m.cfg.id, next);
    this.s.putAccount(account, a);
  }

  /** Move unsettled funding of `pos` into the (in-memory) account and the pool. */
  private settleFunding(account: Felt, m: MarketCtx, pos: Position, a: { balance_usdc6: bigint }, g: Globals): Position {
    if (pos.funding_index_e6 === m.index_e6) return pos;
    const f = fundingPnl(pos.size_e8, pos.funding_index_e6, m.index_e6);
    if (f !== 0n) {
      a.balance_usdc6 += f;
      g.funding_pool_usdc6 -= f;
      this.s.emit({ name: "FundingSettled", account, market: m.cfg.name, amount_usdc6: f, funding_index_e6: m.index_e6 });
    }
    return { ...pos, funding_index_e6: m.index_e6 };
  }

  private adjustOpen(account: Felt, market: number, side: Side, delta_e8: bigint): void {
    const p = this.s.getPosition(account, market);
    if (side === Side.BUY) p.open_buy_e8 += delta_e8;
    else p.open_sell_e8 += delta_e8;
    invariant(p.open_buy_e8 >= 0n && p.open_sell_e8 >= 0n, "open size non-negative");
    this.s.putPosition(account, market, p);
  }

  /** Cancel a live order (resting or untriggered) and write it. */
  private cancelLive(o: Order, reason: "USER" | "OPERATOR" | "SELF_TRADE" | "LIQUIDATION" | "REDUCE_ONLY"): void {
    if (o.status === OrderStatus.OPEN) {
      reduceResting(this.s, o, o.remaining_e8, true);
      if ((o.flags & OrderFlag.REDUCE_ONLY) === 0) this.adjustOpen(o.owner, o.market, o.side, -o.remaining_e8);
    } else {
      invariant(o.status === OrderStatus.UNTRIGGERED, "live order status");
    }
    unlinkAccountOrder(this.s, o);
    this.finishCancelled(o, reason);
  }

  /** Mark a not-linked order cancelled, write it and emit. */
  private finishCancelled(o: Order, reason: "USER" | "OPERATOR" | "SELF_TRADE" | "LIQUIDATION" | "REDUCE_ONLY" | "UNFILLED"): void {
    o.status = OrderStatus.CANCELLED;
    this.s.putOrder(o);
    this.s.emit({ name: "OrderCancelled", order_id: o.id, owner: o.owner, remaining_e8: o.remaining_e8, reason });
  }
}

function opposite(side: Side): Side {
  return side === Side.BUY ? Side.SELL : Side.BUY;
}

/** Does a `side` order at `price` cross a resting opposite price? */
function crosses(side: Side, price: bigint, oppositePrice: bigint): boolean {
  return side === Side.BUY ? price >= oppositePrice : price <= oppositePrice;
}

/** How much an order on `side` can still reduce a position of signed `size`. */
export function reducible(size_e8: bigint, side: Side): bigint {
  if (side === Side.BUY) return size_e8 < 0n ? -size_e8 : 0n;
  return size_e8 > 0n ? size_e8 : 0n;
}

/**
 * TP/SL trigger rule against the mark price:
 *   stop-loss sell / take-profit buy  fire when mark ≤ trigger;
 *   stop-loss buy  / take-profit sell fire when mark ≥ trigger.
 */
export function triggerReached(o: Pick<Order, "type" | "side" | "trigger_price_e6">, mark_e6: bigint): boolean {
  const fireBelow = (o.type === OrderType.STOP_LOSS) === (o.side === Side.SELL);
  return fireBelow ? mark_e6 <= o.trigger_price_e6 : mark_e6 >= o.trigger_price_e6;
}

export { ExchangeError };
