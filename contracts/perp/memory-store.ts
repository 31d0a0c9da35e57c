// An in-memory ExchangeStore with a journal, for rule tests and benchmarks of the pure
// rules. `transaction(fn)` keeps the writes and events of `fn` only if it returns:
// a throw undoes them, like a reverted Starknet transaction.

import type { Felt } from "../../state/felt.js";
import type { ExchangeEvent } from "./events.js";
import type { ExchangeStore, MarketDataReader } from "./store.js";
import {
  emptyPosition,
  type Account,
  type BookSide,
  type Globals,
  type Level,
  type MarketConfig,
  type Order,
  type Position,
  type Side,
} from "./types.js";

export function emptyGlobals(): Globals {
  return {
    admin: 0n,
    operator: 0n,
    paused: false,
    post_only: false,
    band_ppm: 0n,
    next_order_id: 0n,
    market_count: 0,
    fee_balance_usdc6: 0n,
    funding_pool_usdc6: 0n,
    total_deposits_usdc6: 0n,
    total_withdrawals_usdc6: 0n,
    total_payouts_usdc6: 0n,
  };
}

type Table = Map<string, unknown>;

export class MemoryStore implements ExchangeStore {
  private readonly tables = new Map<string, Table>();
  private journal: { table: Table; key: string; old: unknown; had: boolean }[] | null = null;
  private pending: ExchangeEvent[] = [];
  /** Events of committed transactions, in order. */
  readonly events: ExchangeEvent[] = [];
  /** Number of record writes so far (a proxy for storage traffic). */
  writes = 0;

  /** Run `fn` atomically: on throw every write and event of it is undone, then rethrown. */
  transaction<T>(fn: () => T): T {
    if (this.journal) return fn();
    this.journal = [];
    this.pending = [];
    try {
      const out = fn();
      this.events.push(...this.pending);
      return out;
    } catch (e) {
      for (let i = this.journal.length - 1; i >= 0; i--) {
        const j = this.journal[i]!;
        if (j.had) j.table.set(j.key, j.old);
        else j.table.delete(j.key);
      }
      throw e;
    } finally {
      this.journal = null;
      this.pending = [];
    }
  }

  getGlobals(): Globals {
    return { ...((this.get("g", "") as Globals | undefined) ?? emptyGlobals()) };
  }
  putGlobals(g: Globals): void {
    this.put("g", "", { ...g });
  }
  getMarket(id: number): MarketConfig | undefined {
    const m = this.get("m", String(id)) as MarketConfig | undefined;
    return m && { ...m };
  }
  putMarket(m: MarketConfig): void {
    this.put("m", String(m.id), { ...m });
  }
  getMarketIdByName(name: Felt): number {
    return (this.get("mn", name.toString()) as number | undefined) ?? 0;
  }
  putMarketIdByName(name: Felt, id: number): void {
    this.put("mn", name.toString(), id);
  }
  getOrder(id: bigint): Order | undefined {
    const o = this.get("o", id.toString()) as Order | undefined;
    return o && { ...o };
  }
  putOrder(o: Order): void {
    this.put("o", o.id.toString(), { ...o });
  }
  getBookSide(market: number, side: Side): BookSide {
    const b = this.get("b", `${market}:${side}`) as BookSide | undefined;
    return b ? { ...b } : { best_e6: 0n, levels: 0 };
  }
  putBookSide(market: number, side: Side, b: BookSide): void {
    this.put("b", `${market}:${side}`, { ...b });
  }
  getLevel(market: number, side: Side, price_e6: bigint): Level | undefined {
    const l = this.get("l", `${market}:${side}:${price_e6}`) as Level | undefined;
    return l && { ...l };
  }
  putLevel(market: number, side: Side, price_e6: bigint, level: Level | undefined): void {
    this.put("l", `${market}:${side}:${price_e6}`, level && { ...level });
  }
  getAccount(account: Felt): Account {
    const a = this.get("a", account.toString()) as Account | undefined;
    return a ? { ...a } : { balance_usdc6: 0n, order_head: 0n, live_orders: 0 };
  }
  putAccount(account: Felt, a: Account): void {
    this.put("a", account.toString(), { ...a });
  }
  getPosition(account: Felt, market: number): Position {
    const p = this.get("p", `${account}:${market}`) as Position | undefined;
    return p ? { ...p } : emptyPosition();
  }
  putPosition(account: Felt, market: number, p: Position): void {
    this.put("p", `${account}:${market}`, { ...p });
  }
  emit(e: ExchangeEvent): void {
    if (this.journal) this.pending.push(e);
    else this.events.push(e);
  }

  /** Every account that has a record (for invariant checks in tests). */
  accounts(): Felt[] {
    return [...(this.tables.get("a")?.keys() ?? [])].map((k) => BigInt(k));
  }

  private get(table: string, key: string): unknown {
    return this.tables.get(table)?.get(key);
  }

  private put(table: string, key: string, value: unknown): void {
    let t = this.tables.get(table);
    if (!t) this.tables.set(table, (t = new Map()));
    this.writes++;
    if (this.journal) this.journal.push({ table: t, key, old: t.get(key), had: t.has(key) });
    if (value === undefined) t.delete(key);
    else t.set(key, value);
  }
}

/** A fixed market-data source for rule tests: set prices and indexes by hand. */
export class StaticMarketData implements MarketDataReader {
  readonly mark = new Map<Felt, bigint>();
  readonly index = new Map<Felt, bigint>();
  markPrice(market: Felt): bigint {
    return this.mark.get(market) ?? 0n;
  }
  fundingIndex(market: Felt): bigint {
    return this.index.get(market) ?? 0n;
  }
}
