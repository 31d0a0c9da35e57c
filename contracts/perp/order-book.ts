// The on-chain order book: per (market, side) a sorted doubly linked list of price
// levels (best first), each level a FIFO doubly linked list of order ids (time
// priority). Every walk is bounded by MAX_LEVELS_PER_SIDE. Pure over the store port.

import type { Felt } from "../../state/felt.js";
import { ExchangeError, invariant } from "./errors.js";
import type { ExchangeStore } from "./store.js";
import { Side, type Level, type Order } from "./types.js";

/** A side holds at most this many distinct price levels (bounds the insertion walk). */
export const MAX_LEVELS_PER_SIDE = 1024;

/** True when price `a` is better than `b` for `side` (higher bid, lower ask). */
export function isBetter(side: Side, a: bigint, b: bigint): boolean {
  return side === Side.BUY ? a > b : a < b;
}

/** Append an OPEN order at the tail of its price level, creating the level if needed. */
export function insertOrder(s: ExchangeStore, o: Order): void {
  const level = s.getLevel(o.market, o.side, o.price_e6);
  if (level) {
    o.prev = level.tail;
    o.next = 0n;
    const tail = s.getOrder(level.tail);
    invariant(tail !== undefined, "level tail order exists");
    tail.next = o.id;
    s.putOrder(tail);
    level.tail = o.id;
    level.total_e8 += o.remaining_e8;
    s.putLevel(o.market, o.side, o.price_e6, level);
    return;
  }
  o.prev = 0n;
  o.next = 0n;
  const fresh: Level = { head: o.id, tail: o.id, total_e8: o.remaining_e8, better_e6: 0n, worse_e6: 0n };
  const book = s.getBookSide(o.market, o.side);
  if (book.levels >= MAX_LEVELS_PER_SIDE) throw new ExchangeError("PERP: book side full", { levels: book.levels });
  if (book.best_e6 === 0n || isBetter(o.side, o.price_e6, book.best_e6)) {
    fresh.worse_e6 = book.best_e6;
    if (book.best_e6 !== 0n) relink(s, o.market, o.side, book.best_e6, (l) => (l.better_e6 = o.price_e6));
    book.best_e6 = o.price_e6;
  } else {
    // Walk from the top until the next level is worse than the new price.
    let cur = book.best_e6;
    for (let i = 0; ; i++) {
      invariant(i <= MAX_LEVELS_PER_SIDE, "level walk bounded");
      const l = s.getLevel(o.market, o.side, cur);
      invariant(l !== undefined, "linked level exists");
      if (l.worse_e6 === 0n || isBetter(o.side, o.price_e6, l.worse_e6)) {
        fresh.better_e6 = cur;
        fresh.worse_e6 = l.worse_e6;
        if (l.worse_e6 !== 0n) relink(s, o.market, o.side, l.worse_e6, (w) => (w.better_e6 = o.price_e6));
        l.worse_e6 = o.price_e6;
        s.putLevel(o.market, o.side, cur, l);
        break;
      }
      cur = l.worse_e6;
    }
  }
  book.levels += 1;
  s.putBookSide(o.market, o.side, book);
  s.putLevel(o.market, o.side, o.price_e6, fresh);
}

/**
 * Take `amount_e8` off a resting order's level total and, when `unlink`, remove the
 * order from its level (dropping the level when it empties). The order record itself
 * is the caller's to write.
 */
export function reduceResting(s: ExchangeStore, o: Order, amount_e8: bigint, unlink: boolean): void {
  const level = s.getLevel(o.market, o.side, o.price_e6);
  invariant(level !== undefined, "resting order has a level");
  level.total_e8 -= amount_e8;
  invariant(level.total_e8 >= 0n, "level total non-negative");
  if (!unlink) {
    s.putLevel(o.market, o.side, o.price_e6, level);
    return;
  }
  if (o.prev !== 0n) relinkOrder(s, o.prev, (p) => (p.next = o.next));
  else level.head = o.next;
  if (o.next !== 0n) relinkOrder(s, o.next, (n) => (n.prev = o.prev));
  else level.tail = o.prev;
  o.prev = 0n;
  o.next = 0n;
  if (level.head !== 0n) {
    s.putLevel(o.market, o.side, o.price_e6, level);
    return;
  }
  invariant(level.total_e8 === 0n, "empty level has zero total");
  const book = s.getBookSide(o.market, o.side);
  if (level.better_e6 !== 0n) relink(s, o.market, o.side, level.better_e6, (b) => (b.worse_e6 = level.worse_e6));
  else book.best_e6 = level.worse_e6;
  if (level.worse_e6 !== 0n) relink(s, o.market, o.side, level.worse_e6, (w) => (w.better_e6 = level.better_e6));
  book.levels -= 1;
  s.putBookSide(o.market, o.side, book);
  s.putLevel(o.market, o.side, o.price_e6, undefined);
}

/** Push an order at the head of its owner's live-order list. */
export function linkAccountOrder(s: ExchangeStore, o: Order): void {
  const acct = s.getAccount(o.owner);
  o.acct_prev = 0n;
  o.acct_next = acct.order_head;
  if (acct.order_head !== 0n) relinkOrder(s, acct.order_head, (h) => (h.acct_prev = o.id));
  acct.order_head = o.id;
  acct.live_orders += 1;
  s.putAccount(o.owner, acct);
}

/** Remove an order from its owner's live-order list. */
export function unlinkAccountOrder(s: ExchangeStore, o: Order): void {
  const acct = s.getAccount(o.owner);
  if (o.acct_prev !== 0n) relinkOrder(s, o.acct_prev, (p) => (p.acct_next = o.acct_next));
  else {
    invariant(acct.order_head === o.id, "order is its account's list head");
    acct.order_head = o.acct_next;
  }
  acct.live_orders -= 1;
  invariant(acct.live_orders >= 0, "live order count non-negative");
  s.putAccount(o.owner, acct);
  if (o.acct_next !== 0n) relinkOrder(s, o.acct_next, (n) => (n.acct_prev = o.acct_prev));
  o.acct_prev = 0n;
  o.acct_next = 0n;
}

export interface DepthLevel {
  price_e6: bigint;
  size_e8: bigint;
}

/** Top `n` levels of one side, best first. */
export function bookDepth(s: ExchangeStore, market: number, side: Side, n: number): DepthLevel[] {
  const out: DepthLevel[] = [];
  let cur = s.getBookSide(market, side).best_e6;
  const limit = Math.min(n, MAX_LEVELS_PER_SIDE);
  while (cur !== 0n && out.length < limit) {
    const l = s.getLevel(market, side, cur);
    invariant(l !== undefined, "linked level exists");
    out.push({ price_e6: cur, size_e8: l.total_e8 });
    cur = l.worse_e6;
  }
  return out;
}

/** Ids of one account's live orders, newest first (bounded by `max`). */
export function accountOrderIds(s: ExchangeStore, account: Felt, max: number): bigint[] {
  const ids: bigint[] = [];
  let cur = s.getAccount(account).order_head;
  while (cur !== 0n && ids.length < max) {
    ids.push(cur);
    const o = s.getOrder(cur);
    invariant(o !== undefined, "linked order exists");
    cur = o.acct_next;
  }
  return ids;
}

function relink(s: ExchangeStore, market: number, side: Side, price: bigint, edit: (l: Level) => void): void {
  const l = s.getLevel(market, side, price);
  invariant(l !== undefined, "linked level exists");
  edit(l);
  s.putLevel(market, side, price, l);
}

function relinkOrder(s: ExchangeStore, id: bigint, edit: (o: Order) => void): void {
  const o = s.getOrder(id);
  invariant(o !== undefined, "linked order exists");
  edit(o);
  s.putOrder(o);
}
