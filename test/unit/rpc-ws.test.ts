// JSON-RPC over WebSocket and the subscription manager, against a real server on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { BlockNotFoundError, TooManyBlocksBackError } from "../../sequencer/errors.js";
import { HandlerRegistry } from "../../sequencer/rpc/registry.js";
import { RpcServer } from "../../sequencer/rpc/server.js";
import type { EventNotice, JsonObject } from "../../sequencer/rpc/subscriptions.js";
import { SpecSchemas } from "../support/schema-validator.js";
import { sampleBlockHeader } from "../support/sample-header.js";

const specs = SpecSchemas.load();

const header = (n: number): JsonObject => sampleBlockHeader(n);

function event(from: string, keys: string[], index: number, finality: EventNotice["finalityStatus"] = "ACCEPTED_ON_L2"): EventNotice {
  return {
    event: {
      from_address: from,
      keys,
      data: ["0x7"],
      block_hash: "0x3e8",
      block_number: 10,
      transaction_hash: "0xabc",
      transaction_index: 0,
      event_index: index,
    },
    finalityStatus: finality,
  };
}

/** A raw WS client that collects every message. */
class Client {
  readonly messages: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];
  private nextId = 1;
  closeCode?: number;
  constructor(readonly ws: WebSocket) {
    ws.on("message", (d) => {
      this.messages.push(JSON.parse(d.toString()));
      this.waiters.splice(0).forEach((w) => w());
    });
    ws.on("close", (code) => {
      this.closeCode = code;
      this.waiters.splice(0).forEach((w) => w());
    });
  }
  static async open(url: string): Promise<Client> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new Client(ws);
  }
  /** Wait until `pred` holds over the messages (bounded by the test timeout). */
  async until(pred: () => boolean, timeout_ms = 2000): Promise<void> {
    const deadline = performance.now() + timeout_ms;
    while (!pred()) {
      if (performance.now() > deadline) throw new Error(`timed out; messages: ${JSON.stringify(this.messages).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
  async request(method: string, params?: unknown): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, ...(params !== undefined && { params }) }));
    await this.until(() => this.messages.some((m) => m.id === id));
    return this.messages.find((m) => m.id === id)!;
  }
  async subscribe(method: string, params?: unknown): Promise<string> {
    const res = await this.request(method, params);
    if (!("result" in res)) throw new Error(JSON.stringify(res));
    return res.result as string;
  }
  notifications(method?: string): { method: string; params: { subscription_id: string; result: JsonObject } }[] {
    return this.messages.filter((m) => m.method !== undefined && (method === undefined || m.method === method)) as never;
  }
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once("close", () => resolve());
      this.ws.close();
    });
  }
}

let server: RpcServer;
let url: string;
const latest = 12;

beforeAll(async () => {
  const registry = new HandlerRegistry();
  registry.register("starknet_blockNumber", () => latest);
  server = new RpcServer({ registry });
  server.subscriptions.setSource({
    newHeadsSince(blockId) {
      if (blockId.kind === "tag") return [header(latest)];
      if (blockId.kind === "hash") throw new BlockNotFoundError();
      if (blockId.number > latest) throw new BlockNotFoundError();
      if (latest - blockId.number > 3) throw new TooManyBlocksBackError();
      const out: JsonObject[] = [];
      for (let n = blockId.number; n <= latest; n++) out.push(header(n));
      return out;
    },
    eventsSince: () => [],
    transactionStatus: (hash) => (hash === 0xabcn ? { finality_status: "RECEIVED" } : undefined),
  });
  url = `ws://127.0.0.1:${await server.start({ port: 0 })}/ws`;
});

afterAll(async () => {
  await server.stop();
});

describe("WebSocket JSON-RPC", () => {
  it("answers ordinary methods and batches over WS", async () => {
    const c = await Client.open(url);
    expect(await c.request("starknet_blockNumber")).toEqual({ jsonrpc: "2.0", id: 1, result: 12 });
    c.ws.send(JSON.stringify([{ jsonrpc: "2.0", id: "a", method: "starknet_blockNumber" }, { jsonrpc: "2.0", id: "b", method: "nope" }]));
    await c.until(() => c.messages.some((m) => Array.isArray(m)));
    expect(c.messages.find((m) => Array.isArray(m))).toEqual([
      { jsonrpc: "2.0", id: "a", result: 12 },
      { jsonrpc: "2.0", id: "b", error: { code: -32601, message: "Method not found", data: "method 'nope' does not exist" } },
    ]);
    c.ws.send("{not json");
    await c.until(() => c.messages.some((m) => (m.error as { code?: number } | undefined)?.code === -32700));
    await c.close();
  });

  it("refuses upgrades on other paths", async () => {
    await expect(Client.open(url.replace("/ws", "/other"))).rejects.toThrow(/404/);
  });
});

describe("subscriptions", () => {
  it("newHeads: subscribe, backfill from block_id, live header, unsubscribe; all shapes per spec", async () => {
    const c = await Client.open(url);
    const id = await c.subscribe("starknet_subscribeNewHeads", { block_id: { block_number: 10 } });
    expect(specs.validateResult(id, "starknet_subscribeNewHeads")).toEqual([]);
    await c.until(() => c.notifications().length === 3);
    server.subscriptions.publishNewHead(header(13));
    await c.until(() => c.notifications().length === 4);
    const heads = c.notifications("starknet_subscriptionNewHeads");
    expect(heads.map((n) => n.params.result.block_number)).toEqual([10, 11, 12, 13]);
    for (const n of heads) {
      expect(n.params.subscription_id).toBe(id);
      expect(specs.validateParam(n.params.result, "starknet_subscriptionNewHeads", "result")).toEqual([]);
    }
    // The response to the subscribe request precedes every notification.
    const firstNotification = c.messages.findIndex((m) => m.method !== undefined);
    expect(c.messages.findIndex((m) => m.result === id)).toBeLessThan(firstNotification);
    const un = await c.request("starknet_unsubscribe", { subscription_id: id });
    expect(un.result).toBe(true);
    server.subscriptions.publishNewHead(header(14));
    const again = await c.request("starknet_unsubscribe", [id]);
    expect(again.error).toEqual({ code: 66, message: "Invalid subscription id" });
    expect(c.notifications()).toHaveLength(4);
    await c.close();
  });

  it("newHeads: backfill errors become the subscribe error (BLOCK_NOT_FOUND, TOO_MANY_BLOCKS_BACK)", async () => {
    const c = await Client.open(url);
    expect((await c.request("starknet_subscribeNewHeads", [{ block_number: 2 }])).error).toEqual({
      code: 68,
      message: "Cannot go back more than 1024 blocks",
    });
    expect((await c.request("starknet_subscribeNewHeads", [{ block_hash: "0x5" }])).error).toEqual({
      code: 24,
      message: "Block not found",
    });
    expect((await c.request("starknet_subscribeNewHeads", ["pre_confirmed"])).error).toEqual({
      code: -32602,
      message: "Invalid params",
      data: `block_id: tag "pre_confirmed" is not allowed for subscriptions`,
    });
    expect(server.stats().subscriptions).toBe(0);
    await c.close();
  });

  it("events: filters by from_address, keys and finality, one notification per matching event", async () => {
    const c = await Client.open(url);
    const byAddr = await c.subscribe("starknet_subscribeEvents", { from_address: "0x0000000000000000000000000000000000000000000000000000000000000001" });
    const byKey = await c.subscribe("starknet_subscribeEvents", { keys: [[], ["0x2", "0x3"]], finality_status: "PRE_CONFIRMED" });
    server.subscriptions.publishEvents([
      event("0x1", ["0x9", "0x2"], 0), // both
      event("0x1", ["0x9"], 1), // address only
      event("0x5", ["0x9", "0x3"], 2, "PRE_CONFIRMED"), // key only, pre-confirmed
      event("0x1", ["0x9", "0x3"], 3, "PRE_CONFIRMED"), // byKey only (byAddr wants ACCEPTED_ON_L2)
    ]);
    await c.until(() => c.notifications().length === 5);
    const got = (sub: string) =>
      c.notifications("starknet_subscriptionEvents").filter((n) => n.params.subscription_id === sub).map((n) => n.params.result.event_index);
    expect(got(byAddr)).toEqual([0, 1]);
    expect(got(byKey)).toEqual([0, 2, 3]);
    for (const n of c.notifications()) {
      expect(specs.validateParam(n.params.result, "starknet_subscriptionEvents", "result")).toEqual([]);
      expect(n.params.result.finality_status).toBeDefined();
    }
    await c.close();
  });

  it("events: too many keys in the filter is TOO_MANY_KEYS_IN_FILTER", async () => {
    const c = await Client.open(url);
    const keys = [Array.from({ length: 1025 }, (_, i) => "0x" + i.toString(16))];
    expect((await c.request("starknet_subscribeEvents", { keys })).error).toEqual({ code: 34, message: "Too many keys provided in a filter" });
    await c.close();
  });

  it("transactionStatus: current status first, then updates for that hash only", async () => {
    const c = await Client.open(url);
    const id = await c.subscribe("starknet_subscribeTransactionStatus", { transaction_hash: "0xabc" });
    await c.until(() => c.notifications().length === 1);
    server.subscriptions.publishTransactionStatus(0xdefn, { finality_status: "ACCEPTED_ON_L2", execution_status: "SUCCEEDED" });
    server.subscriptions.publishTransactionStatus(0xabcn, { finality_status: "ACCEPTED_ON_L2", execution_status: "SUCCEEDED" });
    await c.until(() => c.notifications().length === 2);
    const results = c.notifications("starknet_subscriptionTransactionStatus").map((n) => n.params.result);
    expect(results).toEqual([
      { transaction_hash: "0xabc", status: { finality_status: "RECEIVED" } },
      { transaction_hash: "0xabc", status: { finality_status: "ACCEPTED_ON_L2", execution_status: "SUCCEEDED" } },
    ]);
    for (const r of results) expect(specs.validateParam(r, "starknet_subscriptionTransactionStatus", "result")).toEqual([]);
    expect(c.notifications().every((n) => n.params.subscription_id === id)).toBe(true);
    await c.close();
  });

  it("newTransactionReceipts and newTransactions: finality and sender filters, proof_facts by tag", async () => {
    const c = await Client.open(url);
    const receipts = await c.subscribe("starknet_subscribeNewTransactionReceipts", { sender_address: ["0x11"] });
    const txs = await c.subscribe("starknet_subscribeNewTransactions", { finality_status: ["RECEIVED", "ACCEPTED_ON_L2"] });
    const txsWithProof = await c.subscribe("starknet_subscribeNewTransactions", { tags: ["INCLUDE_PROOF_FACTS"] });
    const receipt = (hash: string) => ({
      type: "INVOKE",
      transaction_hash: hash,
      actual_fee: { amount: "0x10", unit: "FRI" },
      finality_status: "ACCEPTED_ON_L2",
      messages_sent: [],
      events: [],
      execution_resources: { l1_gas: 0, l1_data_gas: 0, l2_gas: 100 },
      execution_status: "SUCCEEDED",
      block_hash: "0x1",
      block_number: 1,
    });
    server.subscriptions.publishTransactionReceipts([
      { receipt: receipt("0xa1"), finalityStatus: "ACCEPTED_ON_L2", senderAddress: 0x11n },
      { receipt: receipt("0xa2"), finalityStatus: "ACCEPTED_ON_L2", senderAddress: 0x12n },
      { receipt: receipt("0xa3"), finalityStatus: "PRE_CONFIRMED", senderAddress: 0x11n },
    ]);
    const tx = {
      type: "INVOKE",
      version: "0x3",
      transaction_hash: "0xb1",
      sender_address: "0x11",
      calldata: [],
      signature: [],
      nonce: "0x0",
      resource_bounds: {
        l1_gas: { max_amount: "0x0", max_price_per_unit: "0x0" },
        l1_data_gas: { max_amount: "0x0", max_price_per_unit: "0x0" },
        l2_gas: { max_amount: "0x10", max_price_per_unit: "0x1" },
      },
      tip: "0x0",
      paymaster_data: [],
      account_deployment_data: [],
      nonce_data_availability_mode: "L1",
      fee_data_availability_mode: "L1",
    };
    server.subscriptions.publishTransactions([
      { transaction: tx, finalityStatus: "RECEIVED", senderAddress: 0x11n },
      { transaction: { ...tx, transaction_hash: "0xb2" }, finalityStatus: "ACCEPTED_ON_L2", senderAddress: 0x11n },
    ]);
    await c.until(() => c.notifications().length === 4);
    const of = (sub: string) => c.notifications().filter((n) => n.params.subscription_id === sub);
    expect(of(receipts).map((n) => n.params.result.transaction_hash)).toEqual(["0xa1"]);
    expect(of(txs).map((n) => [n.params.result.transaction_hash, n.params.result.finality_status])).toEqual([
      ["0xb1", "RECEIVED"],
      ["0xb2", "ACCEPTED_ON_L2"],
    ]);
    expect(of(txs).every((n) => !("proof_facts" in n.params.result))).toBe(true);
    expect(of(txsWithProof).map((n) => [n.params.result.transaction_hash, n.params.result.proof_facts])).toEqual([["0xb2", []]]);
    expect(specs.validateParam(of(receipts)[0]!.params.result, "starknet_subscriptionNewTransactionReceipts", "result")).toEqual([]);
    for (const n of [...of(txs), ...of(txsWithProof)])
      expect(specs.validateParam(n.params.result, "starknet_subscriptionNewTransaction", "result")).toEqual([]);
    await c.close();
  });

  it("sender_address filter above the limit is TOO_MANY_ADDRESSES_IN_FILTER", async () => {
    const c = await Client.open(url);
    const sender_address = Array.from({ length: 1025 }, (_, i) => "0x" + (i + 1).toString(16));
    expect((await c.request("starknet_subscribeNewTransactionReceipts", { sender_address })).error).toEqual({
      code: 67,
      message: "Too many addresses in filter sender_address filter",
    });
    await c.close();
  });

  it("reorg goes to every subscription of every connection", async () => {
    const a = await Client.open(url);
    const b = await Client.open(url);
    const s1 = await a.subscribe("starknet_subscribeNewTransactionReceipts");
    const s2 = await b.subscribe("starknet_subscribeNewTransactions");
    const reorg = { starting_block_hash: "0x10", starting_block_number: 5, ending_block_hash: "0x12", ending_block_number: 7 };
    server.subscriptions.publishReorg(reorg);
    await a.until(() => a.notifications().length === 1);
    await b.until(() => b.notifications().length === 1);
    expect(a.notifications()[0]).toEqual({ jsonrpc: "2.0", method: "starknet_subscriptionReorg", params: { subscription_id: s1, result: reorg } });
    expect(b.notifications()[0]!.params.subscription_id).toBe(s2);
    expect(specs.validateParam(reorg, "starknet_subscriptionReorg", "result")).toEqual([]);
    await a.close();
    await b.close();
  });

  it("a connection cannot unsubscribe another connection's subscription", async () => {
    const a = await Client.open(url);
    const b = await Client.open(url);
    const id = await a.subscribe("starknet_subscribeNewHeads");
    expect((await b.request("starknet_unsubscribe", [id])).error).toEqual({ code: 66, message: "Invalid subscription id" });
    expect((await a.request("starknet_unsubscribe", [id])).result).toBe(true);
    await a.close();
    await b.close();
  });

  it("drops a closed connection's subscriptions", async () => {
    const c = await Client.open(url);
    await c.subscribe("starknet_subscribeNewTransactions");
    await c.subscribe("starknet_subscribeNewTransactions");
    expect(server.stats().subscriptions).toBe(2);
    await c.close();
    const deadline = performance.now() + 2000;
    while (server.stats().subscriptions !== 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(server.stats().subscriptions).toBe(0);
    expect(server.stats().wsConnections).toBe(0);
  });
});

describe("bounded queues and shutdown", () => {
  it("disconnects a subscriber whose outgoing queue overflows (1008) and counts it", async () => {
    const registry = new HandlerRegistry();
    const s = new RpcServer({ registry, wsLimits: { maxQueuedMessages: 20, maxInFlight: 4 } });
    const port = await s.start({ port: 0 });
    const c = await Client.open(`ws://127.0.0.1:${port}/ws`);
    await c.subscribe("starknet_subscribeNewHeads");
    for (let n = 0; n < 100; n++) s.subscriptions.publishNewHead(header(n));
    await c.until(() => c.closeCode !== undefined);
    expect(c.closeCode).toBe(1008);
    expect(s.stats().wsOverflowDisconnects).toBe(1);
    expect(c.notifications().length).toBeLessThan(100);
    await s.stop();
  });

  it("stop() closes WS clients with 1001 promptly", async () => {
    const registry = new HandlerRegistry();
    const s = new RpcServer({ registry });
    const port = await s.start({ port: 0 });
    const c = await Client.open(`ws://127.0.0.1:${port}/ws`);
    await c.subscribe("starknet_subscribeNewHeads");
    const t0 = performance.now();
    await s.stop();
    expect(performance.now() - t0).toBeLessThan(1000);
    await c.until(() => c.closeCode !== undefined);
    expect(c.closeCode).toBe(1001);
  });
});
