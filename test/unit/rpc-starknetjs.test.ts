// Unmodified starknet.js 10 against our transport, with stub handlers (the node is not involved).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { HandlerRegistry } from "../../sequencer/rpc/registry.js";
import { RpcServer } from "../../sequencer/rpc/server.js";
import { sampleBlockHeader } from "../support/sample-header.js";

// starknet.js reads `WebSocket.OPEN` from the global WebSocket it finds at import time; Node 20 has
// none, so passing `websocket: WebSocket` alone leaves its readyState checks comparing to undefined.
// Install `ws` as the global before importing starknet (dynamic import below).
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
const { RpcProvider, WebSocketChannel } = await import("starknet");

const CHAIN_ID = "0x534e5f5345504f4c4941"; // "SN_SEPOLIA"
const header = sampleBlockHeader(42);

let server: RpcServer;
let port: number;

beforeAll(async () => {
  const registry = new HandlerRegistry();
  registry.register("starknet_specVersion", () => "0.10.3");
  registry.register("starknet_chainId", () => CHAIN_ID);
  registry.register("starknet_blockNumber", () => 42);
  server = new RpcServer({ registry });
  port = await server.start({ port: 0 });
});

afterAll(async () => {
  await server.stop();
});

describe("starknet.js RpcProvider", () => {
  it("reads spec version, chain id and block number", async () => {
    const provider = new RpcProvider({ nodeUrl: `http://127.0.0.1:${port}/rpc` });
    expect(await provider.getSpecVersion()).toBe("0.10.3");
    expect(await provider.getChainId()).toBe(CHAIN_ID);
    expect(await provider.getBlockNumber()).toBe(42);
  });

  it("works in batch mode (one HTTP request carrying several calls)", async () => {
    const provider = new RpcProvider({ nodeUrl: `http://127.0.0.1:${port}/rpc`, batch: 5 });
    const before = server.stats().requestsByMethod.get("starknet_blockNumber") ?? 0;
    const [n, chain, version] = await Promise.all([provider.getBlockNumber(), provider.getChainId(), provider.getSpecVersion()]);
    expect([n, chain, version]).toEqual([42, CHAIN_ID, "0.10.3"]);
    expect(server.stats().requestsByMethod.get("starknet_blockNumber")).toBe(before + 1);
  });

  it("surfaces our JSON-RPC errors as starknet.js RpcError with the code", async () => {
    const provider = new RpcProvider({ nodeUrl: `http://127.0.0.1:${port}/rpc` });
    await expect(provider.getBlockWithTxHashes("latest")).rejects.toMatchObject({ baseError: { code: -32601 } });
  });
});

describe("starknet.js WebSocketChannel", () => {
  it("subscribes to new heads, receives a published header, and unsubscribes", async () => {
    const channel = new WebSocketChannel({ nodeUrl: `ws://127.0.0.1:${port}/ws`, websocket: WebSocket as never, autoReconnect: false });
    await channel.waitForConnection();
    try {
      const sub = await channel.subscribeNewHeads();
      expect(typeof sub.id).toBe("string");
      expect(server.stats().subscriptions).toBe(1);
      const received = new Promise<unknown>((resolve) => sub.on((h) => resolve(h)));
      server.subscriptions.publishNewHead(header);
      expect(await received).toEqual(header);
      expect(await sub.unsubscribe()).toBe(true);
      expect(server.stats().subscriptions).toBe(0);
    } finally {
      channel.disconnect();
      await channel.waitForDisconnection();
    }
  });
});
