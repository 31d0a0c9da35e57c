// WebSocket subscriptions (Starknet JSON-RPC 0.10.3 WS API): the subscribe/unsubscribe methods,
// per-subscription filters, and fan-out of what the node publishes.
//
// The node calls publish*() after a block commits (or a tx changes status); the manager filters
// per subscription and queues one notification per match on the subscriber's bounded connection
// queue. Backfill on subscribe (block_id in the past, current tx status) comes from an optional
// SubscriptionSource the node supplies; live notifications that arrive meanwhile are held and sent
// after the backfill, so a subscriber sees the subscribe response, then backfill, then live data.

import type { Felt } from "../../state/felt.js";
import { InvalidSubscriptionIdError, OverloadedError } from "../errors.js";
import { describeValue } from "../bounded-copy.js";
import { serialize } from "./jsonrpc.js";
import {
  parseAddressOrList,
  parseEventKeys,
  parseEventsFinality,
  parseFeltParam,
  parseReceiptsFinality,
  parseSenderAddressFilter,
  parseSubscriptionBlockId,
  parseSubscriptionTags,
  parseTransactionsFinality,
  DEFAULT_PARSE_LIMITS,
  type BlockId,
  type EventKeys,
  type ParseLimits,
  type TxnFinalityStatus,
  type TxnStatusWithoutL1,
} from "./params.js";
import type { HandlerRegistry, RpcContext, RpcParams } from "./registry.js";
import type { WsConnection } from "./ws-connection.js";

export type SubscriptionKind = "newHeads" | "events" | "transactionStatus" | "newTransactionReceipts" | "newTransactions";

/** Notification method per subscription kind, as named in starknet_ws_api.json. */
export const NOTIFICATION_METHODS = {
  newHeads: "starknet_subscriptionNewHeads",
  events: "starknet_subscriptionEvents",
  transactionStatus: "starknet_subscriptionTransactionStatus",
  newTransactionReceipts: "starknet_subscriptionNewTransactionReceipts",
  newTransactions: "starknet_subscriptionNewTransaction",
  reorg: "starknet_subscriptionReorg",
} as const;

/** JSON shapes as the spec writes them (hex strings, integers). */
export type JsonObject = Record<string, unknown>;

/** An EMITTED_EVENT plus the finality status of its transaction. */
export interface EventNotice {
  /** EMITTED_EVENT: from_address, keys, data, block_hash?, block_number?, transaction_hash, transaction_index, event_index. */
  event: JsonObject;
  finalityStatus: TxnFinalityStatus;
}

/** A TXN_RECEIPT_WITH_BLOCK_INFO and what the filters need that the receipt does not carry. */
export interface ReceiptNotice {
  receipt: JsonObject;
  finalityStatus: "PRE_CONFIRMED" | "ACCEPTED_ON_L2";
  /** Sender of the transaction (absent for L1 handlers). */
  senderAddress?: Felt;
}

/** A TXN_WITH_HASH and its current status. */
export interface TransactionNotice {
  transaction: JsonObject;
  finalityStatus: TxnStatusWithoutL1;
  senderAddress?: Felt;
}

export interface EventsSubscriptionFilter {
  addresses?: Felt[];
  keys: EventKeys;
  finality: "PRE_CONFIRMED" | "ACCEPTED_ON_L2";
}

/** Backfill the node provides; each hook may throw BlockNotFoundError / TooManyBlocksBackError. */
export interface SubscriptionSource {
  /** Headers (BLOCK_HEADER) from `blockId` through the latest block, oldest first. */
  newHeadsSince?(blockId: BlockId): JsonObject[] | Promise<JsonObject[]>;
  /** Matching events from `blockId` through the latest block (the manager filters them again). */
  eventsSince?(filter: EventsSubscriptionFilter, blockId: BlockId): EventNotice[] | Promise<EventNotice[]>;
  /** Current TXN_STATUS_RESULT of a transaction, or undefined when unknown. */
  transactionStatus?(transactionHash: Felt): JsonObject | undefined | Promise<JsonObject | undefined>;
}

export interface SubscriptionLimits extends ParseLimits {
  /** Most live subscriptions per connection. */
  maxSubscriptionsPerConnection: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = {
  ...DEFAULT_PARSE_LIMITS,
  maxSubscriptionsPerConnection: 256,
};

type Filter =
  | { kind: "newHeads" }
  | ({ kind: "events" } & EventsSubscriptionFilter)
  | { kind: "transactionStatus"; transactionHash: Felt }
  | { kind: "newTransactionReceipts"; finality: Set<string>; senders?: Set<Felt> }
  | { kind: "newTransactions"; finality: Set<string>; senders?: Set<Felt>; includeProofFacts: boolean };

interface Notification {
  method: string;
  result: unknown;
}

interface Subscription {
  id: string;
  conn: WsConnection;
  filter: Filter;
  /** Live notifications held while the backfill is being sent; null once live. */
  held: Notification[] | null;
}

export interface SubscriptionStats {
  active: number;
  notificationsSent: number;
}

export class SubscriptionManager {
  private readonly byId = new Map<string, Subscription>();
  private readonly byConnection = new Map<number, Map<string, Subscription>>();
  private readonly connections = new Map<number, WsConnection>();
  private nextId = 1;
  private sent = 0;
  private readonly limits: SubscriptionLimits;

  constructor(
    private source: SubscriptionSource = {},
    limits: Partial<SubscriptionLimits> = {},
  ) {
    this.limits = { ...DEFAULT_SUBSCRIPTION_LIMITS, ...limits };
  }

  /** Replace the backfill source (the node sets it once its chain is loaded). */
  setSource(source: SubscriptionSource): void {
    this.source = source;
  }

  /** Register starknet_subscribe* and starknet_unsubscribe (WS only) on `registry`. */
  registerMethods(registry: HandlerRegistry): void {
    registry.register("starknet_subscribeNewHeads", (p, ctx) => this.subscribeNewHeads(p, ctx));
    registry.register("starknet_subscribeEvents", (p, ctx) => this.subscribeEvents(p, ctx));
    // starknet.js 10 also sends `block_id` here (older spec drafts had it); accepted and ignored.
    registry.register("starknet_subscribeTransactionStatus", (p, ctx) => this.subscribeTransactionStatus(p, ctx), {
      paramNames: ["transaction_hash", "block_id?"],
    });
    registry.register("starknet_subscribeNewTransactionReceipts", (p, ctx) => this.subscribeReceipts(p, ctx));
    registry.register("starknet_subscribeNewTransactions", (p, ctx) => this.subscribeTransactions(p, ctx));
    registry.register("starknet_unsubscribe", (p, ctx) => this.unsubscribe(p, ctx));
  }

  // --- connection lifecycle (called by the WS server) -------------------------------------

  attach(conn: WsConnection): void {
    this.connections.set(conn.id, conn);
    this.byConnection.set(conn.id, new Map());
  }

  /** Drop every subscription of a closed connection. */
  detach(connId: number): void {
    const subs = this.byConnection.get(connId);
    if (subs) for (const id of subs.keys()) this.byId.delete(id);
    this.byConnection.delete(connId);
    this.connections.delete(connId);
  }

  stats(): SubscriptionStats {
    return { active: this.byId.size, notificationsSent: this.sent };
  }

  // --- publishing (called by the node) -----------------------------------------------------

  /**
   * True when some subscription is of `kind`: the node builds a kind's notices (events with
   * their block fields, receipts, transactions rendered as JSON) only then, not for every
   * transaction of every block when nobody listens.
   */
  wants(kind: Filter["kind"]): boolean {
    for (const sub of this.byId.values()) if (sub.filter.kind === kind) return true;
    return false;
  }

  /** A new block header (BLOCK_HEADER) to every newHeads subscriber. */
  publishNewHead(header: JsonObject): void {
    for (const sub of this.byId.values()) if (sub.filter.kind === "newHeads") this.notify(sub, NOTIFICATION_METHODS.newHeads, header);
  }

  /** Events of a block (or pre-confirmed block), in emission order. */
  publishEvents(notices: readonly EventNotice[]): void {
    const subs = [...this.byId.values()].filter((s) => s.filter.kind === "events");
    if (subs.length === 0) return;
    for (const notice of notices) {
      const from = BigInt(notice.event.from_address as string);
      const keys = (notice.event.keys as string[]).map((k) => BigInt(k));
      for (const sub of subs) {
        const f = sub.filter as Filter & { kind: "events" };
        if (eventMatches(f, from, keys, notice.finalityStatus))
          this.notify(sub, NOTIFICATION_METHODS.events, { ...notice.event, finality_status: notice.finalityStatus });
      }
    }
  }

  /** A transaction's new TXN_STATUS_RESULT. */
  publishTransactionStatus(transactionHash: Felt, status: JsonObject): void {
    for (const sub of this.byId.values())
      if (sub.filter.kind === "transactionStatus" && sub.filter.transactionHash === transactionHash)
        this.notify(sub, NOTIFICATION_METHODS.transactionStatus, { transaction_hash: toHex(transactionHash), status });
  }

  publishTransactionReceipts(notices: readonly ReceiptNotice[]): void {
    for (const sub of this.byId.values()) {
      const f = sub.filter;
      if (f.kind !== "newTransactionReceipts") continue;
      for (const n of notices)
        if (f.finality.has(n.finalityStatus) && senderMatches(f.senders, n.senderAddress))
          this.notify(sub, NOTIFICATION_METHODS.newTransactionReceipts, n.receipt);
    }
  }

  publishTransactions(notices: readonly TransactionNotice[]): void {
    for (const sub of this.byId.values()) {
      const f = sub.filter;
      if (f.kind !== "newTransactions") continue;
      for (const n of notices)
        if (f.finality.has(n.finalityStatus) && senderMatches(f.senders, n.senderAddress))
          this.notify(sub, NOTIFICATION_METHODS.newTransactions, {
            ...withProofFacts(n.transaction, f.includeProofFacts),
            finality_status: n.finalityStatus,
          });
    }
  }

  /** REORG_DATA to every subscription of every kind. */
  publishReorg(reorg: JsonObject): void {
    for (const sub of this.byId.values()) this.notify(sub, NOTIFICATION_METHODS.reorg, reorg);
  }

  // --- subscribe handlers ------------------------------------------------------------------

  private async subscribeNewHeads(p: RpcParams, ctx: RpcContext): Promise<string> {
    const blockId = p.block_id === undefined ? undefined : parseSubscriptionBlockId(p.block_id);
    const source = this.source.newHeadsSince;
    const sub = this.create(ctx, { kind: "newHeads" }, source !== undefined);
    if (source) {
      await this.withBackfill(sub, ctx, async () => {
        const headers = await source.call(this.source, blockId ?? { kind: "tag", tag: "latest" });
        return headers.map((h) => ({ method: NOTIFICATION_METHODS.newHeads, result: h as unknown }));
      }, (held, backfilled) => {
        // A head published while backfilling may already be in the backfill: keep newer ones only.
        const last = backfilled.length ? (backfilled[backfilled.length - 1]!.result as JsonObject).block_number : undefined;
        return held.filter((h) => typeof last !== "number" || (h.result as JsonObject).block_number as number > last);
      });
    }
    return sub.id;
  }

  private async subscribeEvents(p: RpcParams, ctx: RpcContext): Promise<string> {
    const filter: EventsSubscriptionFilter = {
      keys: p.keys === undefined ? [] : parseEventKeys(p.keys, "keys", this.limits.maxKeys),
      finality: parseEventsFinality(p.finality_status),
    };
    if (p.from_address !== undefined) filter.addresses = parseAddressOrList(p.from_address, "from_address");
    const blockId = p.block_id === undefined ? undefined : parseSubscriptionBlockId(p.block_id);
    const source = this.source.eventsSince;
    const full: Filter = { kind: "events", ...filter };
    // Without block_id the spec's default is "latest": backfill the latest block's events.
    const sub = this.create(ctx, full, source !== undefined);
    if (source) {
      await this.withBackfill(sub, ctx, async () => {
        const notices = await source.call(this.source, filter, blockId ?? { kind: "tag", tag: "latest" });
        return notices
          .filter((n) => eventMatches(full as Filter & { kind: "events" }, BigInt(n.event.from_address as string), (n.event.keys as string[]).map((k) => BigInt(k)), n.finalityStatus))
          .map((n) => ({ method: NOTIFICATION_METHODS.events, result: { ...n.event, finality_status: n.finalityStatus } as unknown }));
      }, (held, backfilled) => {
        const seen = new Set(backfilled.map((b) => eventKey(b.result as JsonObject)));
        return held.filter((h) => !seen.has(eventKey(h.result as JsonObject)));
      });
    }
    return sub.id;
  }

  private async subscribeTransactionStatus(p: RpcParams, ctx: RpcContext): Promise<string> {
    const transactionHash = parseFeltParam(p.transaction_hash, "transaction_hash");
    const source = this.source.transactionStatus;
    const sub = this.create(ctx, { kind: "transactionStatus", transactionHash }, source !== undefined);
    if (source) {
      await this.withBackfill(sub, ctx, async () => {
        const status = await source.call(this.source, transactionHash);
        if (status === undefined) return [];
        return [{ method: NOTIFICATION_METHODS.transactionStatus, result: { transaction_hash: toHex(transactionHash), status } as unknown }];
      }, (held) => held);
    }
    return sub.id;
  }

  private async subscribeReceipts(p: RpcParams, ctx: RpcContext): Promise<string> {
    const senders = parseSenderAddressFilter(p.sender_address, "sender_address", this.limits.maxAddresses);
    const filter: Filter = {
      kind: "newTransactionReceipts",
      finality: new Set(parseReceiptsFinality(p.finality_status)),
      ...(senders && { senders: new Set(senders) }),
    };
    return this.create(ctx, filter, false).id;
  }

  private async subscribeTransactions(p: RpcParams, ctx: RpcContext): Promise<string> {
    const senders = parseSenderAddressFilter(p.sender_address, "sender_address", this.limits.maxAddresses);
    const filter: Filter = {
      kind: "newTransactions",
      finality: new Set(parseTransactionsFinality(p.finality_status)),
      includeProofFacts: parseSubscriptionTags(p.tags).includes("INCLUDE_PROOF_FACTS"),
      ...(senders && { senders: new Set(senders) }),
    };
    return this.create(ctx, filter, false).id;
  }

  private unsubscribe(p: RpcParams, ctx: RpcContext): boolean {
    const id = p.subscription_id;
    // SUBSCRIPTION_ID is a string in 0.10; accept a number for clients of older drafts.
    const key = typeof id === "number" ? String(id) : id;
    const subs = ctx.connectionId === undefined ? undefined : this.byConnection.get(ctx.connectionId);
    if (typeof key !== "string" || !subs?.has(key))
      throw new InvalidSubscriptionIdError(`no subscription ${describeValue(id)} on this connection`);
    subs.delete(key);
    this.byId.delete(key);
    return true;
  }

  // --- internals ---------------------------------------------------------------------------

  private create(ctx: RpcContext, filter: Filter, holdLive: boolean): Subscription {
    const conn = ctx.connectionId === undefined ? undefined : this.connections.get(ctx.connectionId);
    const subs = ctx.connectionId === undefined ? undefined : this.byConnection.get(ctx.connectionId);
    if (!conn || !subs) throw new Error("subscription requested outside a WebSocket connection");
    if (subs.size >= this.limits.maxSubscriptionsPerConnection)
      throw new OverloadedError(`at most ${this.limits.maxSubscriptionsPerConnection} subscriptions per connection`);
    const sub: Subscription = { id: String(this.nextId++), conn, filter, held: holdLive ? [] : null };
    this.byId.set(sub.id, sub);
    subs.set(sub.id, sub);
    return sub;
  }

  /**
   * Compute the backfill before answering (so BLOCK_NOT_FOUND / TOO_MANY_BLOCKS_BACK become the
   * subscribe error), while live notifications are already held on the subscription. Once the
   * response is queued: send the backfill, then what was held (after `dedupe`), then go live.
   */
  private async withBackfill(
    sub: Subscription,
    ctx: RpcContext,
    compute: () => Promise<Notification[]>,
    dedupe: (held: Notification[], backfilled: Notification[]) => Notification[],
  ): Promise<void> {
    let items: Notification[];
    try {
      items = await compute();
    } catch (err) {
      this.remove(sub);
      throw err;
    }
    const release = () => {
      const held = sub.held ?? [];
      sub.held = null;
      if (!this.byId.has(sub.id)) return;
      for (const it of items) this.send(sub, it.method, it.result);
      for (const it of dedupe(held, items)) this.send(sub, it.method, it.result);
    };
    if (ctx.afterResponse) ctx.afterResponse(release);
    else release();
  }

  private remove(sub: Subscription): void {
    this.byId.delete(sub.id);
    this.byConnection.get(sub.conn.id)?.delete(sub.id);
  }

  private notify(sub: Subscription, method: string, result: unknown): void {
    if (sub.held) sub.held.push({ method, result });
    else this.send(sub, method, result);
  }

  private send(sub: Subscription, method: string, result: unknown): void {
    if (sub.conn.send(serialize({ jsonrpc: "2.0", method, params: { subscription_id: sub.id, result } }))) this.sent++;
  }
}

function toHex(v: Felt): string {
  return "0x" + v.toString(16);
}

function eventMatches(
  f: EventsSubscriptionFilter,
  from: bigint,
  keys: bigint[],
  finality: TxnFinalityStatus,
): boolean {
  if (f.finality === "ACCEPTED_ON_L2" && finality === "PRE_CONFIRMED") return false;
  if (f.addresses && !f.addresses.includes(from)) return false;
  for (let i = 0; i < f.keys.length; i++) {
    const accepted = f.keys[i]!;
    if (accepted.length === 0) continue;
    if (i >= keys.length || !accepted.includes(keys[i]!)) return false;
  }
  return true;
}

function senderMatches(senders: Set<Felt> | undefined, sender: Felt | undefined): boolean {
  return senders === undefined || (sender !== undefined && senders.has(sender));
}

function eventKey(e: JsonObject): string {
  return `${String(e.transaction_hash)}:${String(e.event_index)}:${String(e.finality_status)}`;
}

/** INCLUDE_PROOF_FACTS: invoke v3 transactions carry proof_facts ([] when none); otherwise never. */
function withProofFacts(tx: JsonObject, include: boolean): JsonObject {
  if (include) {
    if (tx.type === "INVOKE" && tx.version === "0x3" && tx.proof_facts === undefined) return { ...tx, proof_facts: [] };
    return tx;
  }
  if (tx.proof_facts === undefined) return tx;
  const { proof_facts: _omit, ...rest } = tx;
  return rest;
}
