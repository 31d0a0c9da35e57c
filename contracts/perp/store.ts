// The port through which the exchange rules read and write their state, and the
// market-data port through which they read the oracle. Two implementations:
// memory-store.ts (plain maps, for rule tests) and storage-store.ts (contract storage,
// so state is committed in the Starknet trie and rolls back with the chain).
// Reads return fresh objects the caller may mutate; nothing is written until put*.

import type { Felt } from "../../state/felt.js";
import type { ExchangeEvent } from "./events.js";
import type { Account, BookSide, Globals, Level, MarketConfig, Order, Position, Side } from "./types.js";

export interface ExchangeStore {
  getGlobals(): Globals;
  putGlobals(g: Globals): void;

  getMarket(id: number): MarketConfig | undefined;
  putMarket(m: MarketConfig): void;
  /** Market id by name felt; 0 when unknown. */
  getMarketIdByName(name: Felt): number;
  putMarketIdByName(name: Felt, id: number): void;

  getOrder(id: bigint): Order | undefined;
  putOrder(o: Order): void;

  getBookSide(market: number, side: Side): BookSide;
  putBookSide(market: number, side: Side, b: BookSide): void;
  getLevel(market: number, side: Side, price_e6: bigint): Level | undefined;
  /** `undefined` deletes the level. */
  putLevel(market: number, side: Side, price_e6: bigint, level: Level | undefined): void;

  getAccount(account: Felt): Account;
  putAccount(account: Felt, a: Account): void;
  getPosition(account: Felt, market: number): Position;
  putPosition(account: Felt, market: number, p: Position): void;

  emit(e: ExchangeEvent): void;
}

/** What the exchange needs from the oracle, keyed by market name felt. */
export interface MarketDataReader {
  /** Mark price (e6); 0 when the oracle has none for this market. */
  markPrice(market: Felt): bigint;
  /** Cumulative funding index (e6, signed). */
  fundingIndex(market: Felt): bigint;
}
