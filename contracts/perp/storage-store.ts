// ExchangeStore over a contract's raw storage (storage_read/write syscalls), so the
// exchange state is committed in the Starknet storage trie and rolls back with the
// chain. Records are packed into few felts; a write is issued only for a felt whose
// value changes. One instance lives for one entry-point run (its read cache must not
// outlive the call's journal).
//
// Layout (map entries at pedersen(sn_keccak(var), key) mod 2^251−256, fields at +i):
//   perp_globals        +0 admin, +1 operator, +2 paused | post_only<<1 | market_count<<8 | band_ppm<<16,
//                       +3 next_order_id, +4 fee_balance, +5 funding_pool (signed),
//                       +6 total_deposits, +7 total_withdrawals, +8 total_payouts
//   perp_markets[id]    +0 name, +1 tick, +2 lot, +3 im, +4 mm, +5 liq fee, +6 max lev,
//                       +7 maker fee, +8 taker fee, +9 max funding rate, +10 funding period
//   perp_market_ids[name] → id
//   perp_orders[id]     +0 owner, +1 price | trigger<<64 | size<<128 | market<<192 | side<<208 |
//                       type<<209 | flags<<211 | status<<213, +2 remaining | prev<<64 | next<<128,
//                       +3 acct_prev | acct_next<<64
//   perp_books[market<<1 | side]  best | levels<<64
//   perp_levels[market<<72 | side<<64 | price]  +0 head | tail<<64 | total<<128, +1 better | worse<<64
//   perp_accounts[account]  +0 balance (signed), +1 order_head | live_orders<<64
//   perp_positions[account][market]  +0 size, +1 cost, +2 realized, +3 funding index (signed),
//                       +4 open_buy | open_sell<<64

import { fromSignedFelt, toSignedFelt, type Felt } from "../../state/felt.js";
import type { ExchangeEvent } from "./events.js";
import { fieldAddress } from "../runtime/index.js";
import { entryAddress, entryAddress2, sequentialEntryAddress, storageVarAddress } from "./slot-address.js";
import type { ExchangeStore } from "./store.js";
import type { Account, BookSide, Globals, Level, MarketConfig, Order, OrderStatus, OrderType, Position, Side } from "./types.js";

export interface RawStorageIO {
  readRaw(key: Felt): Felt;
  writeRaw(key: Felt, value: Felt): void;
}

const GLOBALS = storageVarAddress("perp_globals");
const MARKETS = storageVarAddress("perp_markets");
const MARKET_IDS = storageVarAddress("perp_market_ids");
const ORDERS = storageVarAddress("perp_orders");
const BOOKS = storageVarAddress("perp_books");
const LEVELS = storageVarAddress("perp_levels");
const ACCOUNTS = storageVarAddress("perp_accounts");
const POSITIONS = storageVarAddress("perp_positions");

const M64 = (1n << 64n) - 1n;
const M32 = (1n << 32n) - 1n;
const MARKET_FIELDS = [
  "name",
  "tick_size_e6",
  "lot_size_e8",
  "initial_margin_ppm",
  "maintenance_margin_ppm",
  "liquidation_fee_ppm",
  "max_leverage",
  "maker_fee_ppm",
  "taker_fee_ppm",
  "max_funding_rate_e12",
  "funding_period_s",
] as const;

export class StorageStore implements ExchangeStore {
  private readonly cache = new Map<Felt, Felt>();
  /** Storage felts written (changed) through this store. */
  writes = 0;

  constructor(
    private readonly io: RawStorageIO,
    private readonly onEvent: (e: ExchangeEvent) => void,
  ) {}

  getGlobals(): Globals {
    const f = this.readN(GLOBALS, 9);
    const packed = f[2]!;
    return {
      admin: f[0]!,
      operator: f[1]!,
      paused: (packed & 1n) === 1n,
      post_only: ((packed >> 1n) & 1n) === 1n,
      market_count: Number((packed >> 8n) & 0xffn),
      band_ppm: (packed >> 16n) & M64,
      next_order_id: f[3]!,
      fee_balance_usdc6: fromSignedFelt(f[4]!),
      funding_pool_usdc6: fromSignedFelt(f[5]!),
      total_deposits_usdc6: f[6]!,
      total_withdrawals_usdc6: f[7]!,
      total_payouts_usdc6: f[8]!,
    };
  }
  putGlobals(g: Globals): void {
    this.writeN(GLOBALS, [
      g.admin,
      g.operator,
      (g.paused ? 1n : 0n) | (g.post_only ? 2n : 0n) | (BigInt(g.market_count) << 8n) | (g.band_ppm << 16n),
      g.next_order_id,
      toSignedFelt(g.fee_balance_usdc6),
      toSignedFelt(g.funding_pool_usdc6),
      g.total_deposits_usdc6,
      g.total_withdrawals_usdc6,
      g.total_payouts_usdc6,
    ]);
  }

  getMarket(id: number): MarketConfig | undefined {
    const f = this.readN(entryAddress(MARKETS, BigInt(id)), MARKET_FIELDS.length);
    if (f[0] === 0n) return undefined;
    // One literal (one shape) in MARKET_FIELDS' order, not eleven keyed stores on an empty object.
    return {
      id,
      name: f[0]!,
      tick_size_e6: f[1]!,
      lot_size_e8: f[2]!,
      initial_margin_ppm: f[3]!,
      maintenance_margin_ppm: f[4]!,
      liquidation_fee_ppm: f[5]!,
      max_leverage: f[6]!,
      maker_fee_ppm: f[7]!,
      taker_fee_ppm: f[8]!,
      max_funding_rate_e12: f[9]!,
      funding_period_s: f[10]!,
    };
  }
  putMarket(m: MarketConfig): void {
    this.writeN(
      entryAddress(MARKETS, BigInt(m.id)),
      MARKET_FIELDS.map((k) => m[k]),
    );
  }
  getMarketIdByName(name: Felt): number {
    return Number(this.read(entryAddress(MARKET_IDS, name)));
  }
  putMarketIdByName(name: Felt, id: number): void {
    this.write(entryAddress(MARKET_IDS, name), BigInt(id));
  }

  getOrder(id: bigint): Order | undefined {
    const f = this.readN(sequentialEntryAddress(ORDERS, id), 4);
    if (f[0] === 0n) return undefined;
    const a = f[1]!;
    const b = f[2]!;
    const c = f[3]!;
    return {
      id,
      owner: f[0]!,
      price_e6: a & M64,
      trigger_price_e6: (a >> 64n) & M64,
      size_e8: (a >> 128n) & M64,
      market: Number((a >> 192n) & 0xffffn),
      side: Number((a >> 208n) & 1n) as Side,
      type: Number((a >> 209n) & 3n) as OrderType,
      flags: Number((a >> 211n) & 3n),
      status: Number((a >> 213n) & 7n) as OrderStatus,
      remaining_e8: b & M64,
      prev: (b >> 64n) & M64,
      next: (b >> 128n) & M64,
      acct_prev: c & M64,
      acct_next: (c >> 64n) & M64,
    };
  }
  putOrder(o: Order): void {
    this.writeN(sequentialEntryAddress(ORDERS, o.id), [
      o.owner,
      o.price_e6 |
        (o.trigger_price_e6 << 64n) |
        (o.size_e8 << 128n) |
        (BigInt(o.market) << 192n) |
        (BigInt(o.side) << 208n) |
        (BigInt(o.type) << 209n) |
        (BigInt(o.flags) << 211n) |
        (BigInt(o.status) << 213n),
      o.remaining_e8 | (o.prev << 64n) | (o.next << 128n),
      o.acct_prev | (o.acct_next << 64n),
    ]);
  }

  getBookSide(market: number, side: Side): BookSide {
    const v = this.read(entryAddress(BOOKS, (BigInt(market) << 1n) | BigInt(side)));
    return { best_e6: v & M64, levels: Number((v >> 64n) & M32) };
  }
  putBookSide(market: number, side: Side, b: BookSide): void {
    this.write(entryAddress(BOOKS, (BigInt(market) << 1n) | BigInt(side)), b.best_e6 | (BigInt(b.levels) << 64n));
  }

  getLevel(market: number, side: Side, price_e6: bigint): Level | undefined {
    const f = this.readN(levelSlot(market, side, price_e6), 2);
    if (f[0] === 0n) return undefined;
    return {
      head: f[0]! & M64,
      tail: (f[0]! >> 64n) & M64,
      total_e8: f[0]! >> 128n,
      better_e6: f[1]! & M64,
      worse_e6: (f[1]! >> 64n) & M64,
    };
  }
  putLevel(market: number, side: Side, price_e6: bigint, l: Level | undefined): void {
    const slot = levelSlot(market, side, price_e6);
    if (!l) this.writeN(slot, [0n, 0n]);
    else this.writeN(slot, [l.head | (l.tail << 64n) | (l.total_e8 << 128n), l.better_e6 | (l.worse_e6 << 64n)]);
  }

  getAccount(account: Felt): Account {
    const f = this.readN(entryAddress(ACCOUNTS, account), 2);
    return { balance_usdc6: fromSignedFelt(f[0]!), order_head: f[1]! & M64, live_orders: Number((f[1]! >> 64n) & M32) };
  }
  putAccount(account: Felt, a: Account): void {
    this.writeN(entryAddress(ACCOUNTS, account), [toSignedFelt(a.balance_usdc6), a.order_head | (BigInt(a.live_orders) << 64n)]);
  }

  getPosition(account: Felt, market: number): Position {
    const f = this.readN(entryAddress2(POSITIONS, account, BigInt(market)), 5);
    return {
      size_e8: fromSignedFelt(f[0]!),
      cost_usdc6: fromSignedFelt(f[1]!),
      realized_pnl_usdc6: fromSignedFelt(f[2]!),
      funding_index_e6: fromSignedFelt(f[3]!),
      open_buy_e8: f[4]! & M64,
      open_sell_e8: f[4]! >> 64n,
    };
  }
  putPosition(account: Felt, market: number, p: Position): void {
    this.writeN(entryAddress2(POSITIONS, account, BigInt(market)), [
      toSignedFelt(p.size_e8),
      toSignedFelt(p.cost_usdc6),
      toSignedFelt(p.realized_pnl_usdc6),
      toSignedFelt(p.funding_index_e6),
      p.open_buy_e8 | (p.open_sell_e8 << 64n),
    ]);
  }

  emit(e: ExchangeEvent): void {
    this.onEvent(e);
  }

  private read(slot: Felt): Felt {
    let v = this.cache.get(slot);
    if (v === undefined) {
      v = this.io.readRaw(slot);
      this.cache.set(slot, v);
    }
    return v;
  }
  private write(slot: Felt, v: Felt): void {
    if (this.read(slot) === v) return;
    this.cache.set(slot, v);
    this.io.writeRaw(slot, v);
    this.writes++;
  }
  private readN(base: Felt, n: number): Felt[] {
    const out: Felt[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.read(fieldAddress(base, i));
    return out;
  }
  private writeN(base: Felt, values: readonly Felt[]): void {
    for (let i = 0; i < values.length; i++) this.write(fieldAddress(base, i), values[i]!);
  }
}

function levelSlot(market: number, side: Side, price_e6: bigint): Felt {
  return entryAddress(LEVELS, (BigInt(market) << 72n) | (BigInt(side) << 64n) | price_e6);
}
