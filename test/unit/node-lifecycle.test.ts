// Node lifecycle and restart semantics (DESIGN §8), on a real LevelDB in a temp dir:
// a new epoch on every start, one process per data directory, no user transaction unless
// the node is ready, and a restart that continues the same chain.
//
// "Not ready" through the public API: PerpchainNode.open only resolves once the node is
// ready, and nothing is handed out before (no listener can be registered earlier), so the
// states before `ready` cannot be reached from outside. What can be reached is the other
// side of `ready`: a stopped node. It is tested through the node and through JSON-RPC; the
// Lifecycle class is tested directly for every state before `ready`.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectorFromName } from "../../state/crypto/hash.js";
import { selectHashBackend } from "../../state/crypto/select-backend.js";
import { toHex, type Felt } from "../../state/felt.js";
import { NodeNotReadyError, toJsonRpcError } from "../../sequencer/errors.js";
import { Lifecycle, type LifecycleState } from "../../sequencer/lifecycle.js";
import { PerpchainNode, type NodeOptions } from "../../sequencer/node.js";
import { HandlerRegistry } from "../../sequencer/rpc/registry.js";
import { RpcServer } from "../../sequencer/rpc/server.js";
import { registerStarknetMethods } from "../../sequencer/rpc/starknet-methods.js";
import { broadcastJson } from "../../sequencer/tx-intake.js";

const REPO = resolve(import.meta.dirname, "../..");
const dirs: string[] = [];
const open: PerpchainNode[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "perpchain-lifecycle-"));
  dirs.push(d);
  return d;
}

async function openNode(dbPath: string, extra: Partial<NodeOptions> = {}): Promise<PerpchainNode> {
  const node = await PerpchainNode.open({ dbPath, seed: 11, accounts: 2, blockGeneration: { mode: "demand" }, ...extra });
  open.push(node);
  return node;
}

/** A signed STRK transfer from predeployed account `i` (nonce = next free). */
function transfer(node: PerpchainNode, i: number, amount: bigint): Promise<Felt> {
  const strk = node.genesis.predeployed.find((p) => p.name === "STRK")!.address;
  const to = node.genesis.accounts[(i + 1) % node.genesis.accounts.length]!.address;
  return node.submitSignedInvoke(node.genesis.accounts[i]!.address, node.accountKeys[i]!.privateKey, [{ to: strk, selector: selectorFromName("transfer"), calldata: [to, amount, 0n] }]);
}

beforeAll(() => {
  selectHashBackend({ prefer: "auto" });
});

afterAll(async () => {
  for (const n of open) await n.stop().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("epoch", () => {
  it("takes a new epoch on every start of the same data directory", async () => {
    const dir = tempDir();
    const epochs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const node = await openNode(dir);
      epochs.push(node.epoch);
      await node.stop();
    }
    expect(epochs).toEqual([1, 2, 3]);
  });

  it("counts epochs per data directory", async () => {
    const a = await openNode(tempDir());
    const b = await openNode(tempDir());
    expect([a.epoch, b.epoch]).toEqual([1, 1]);
    await a.stop();
    await b.stop();
  });
});

describe("one node per data directory", () => {
  it("refuses a second PerpchainNode.open on a directory in use, with an 'in use' message", async () => {
    const dir = tempDir();
    const first = await openNode(dir);
    await expect(openNode(dir)).rejects.toThrow(`data directory ${dir} is in use by another perpchain process`);
    // The first node is unaffected and keeps its epoch; the refused open took none.
    expect(first.lifecycle.state).toBe("ready");
    await first.stop();
    const again = await openNode(dir);
    expect(again.epoch).toBe(2);
    await again.stop();
  });

  it("makes a second process on the same directory exit with the 'in use' message", async () => {
    const dir = tempDir();
    const holder = await openNode(dir);
    const child = spawn(process.execPath, [resolve(REPO, "node_modules/tsx/dist/cli.mjs"), resolve(REPO, "scripts/devnet.ts"), "--db", dir, "--port", "0", "--seed", "11", "--accounts", "2"], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const code = await new Promise<number | null>((res) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      child.once("exit", (c) => {
        clearTimeout(timer);
        res(c);
      });
    });
    expect(code).toBe(1);
    expect(stderr).toContain(`perpchain: data directory ${dir} is in use by another perpchain process`);
    await holder.stop();
  }, 20_000);
});

describe("not ready", () => {
  const before: LifecycleState[] = ["starting", "recovering", "catching-up"];

  it.each(before)("Lifecycle in %s refuses with NodeNotReadyError naming the state", (state) => {
    const l = new Lifecycle();
    l.advance(state);
    expect(l.isReady).toBe(false);
    expect(() => l.assertReady("transaction")).toThrow(NodeNotReadyError);
    try {
      l.assertReady("transaction");
    } catch (e) {
      expect((e as NodeNotReadyError).state).toBe(state);
      expect(toJsonRpcError(e)).toEqual({ code: -32001, message: "Node is not ready", data: { state, reason: `node state is ${state}` } });
    }
  });

  it("Lifecycle accepts only in ready and never goes back", () => {
    const l = new Lifecycle();
    const seen: LifecycleState[] = [];
    l.onChange((s) => seen.push(s));
    for (const s of ["recovering", "catching-up", "ready"] as const) l.advance(s);
    expect(() => l.assertReady("transaction")).not.toThrow();
    expect(() => l.advance("recovering")).toThrow("lifecycle cannot go from ready back to recovering");
    l.advance("draining");
    expect(() => l.assertReady("transaction")).toThrow(NodeNotReadyError);
    expect(seen).toEqual(["recovering", "catching-up", "ready", "draining"]);
  });

  it("a stopped node refuses transactions and blocks with NodeNotReadyError", async () => {
    const node = await openNode(tempDir());
    await node.stop();
    expect(node.lifecycle.state).toBe("stopped");
    await expect(transfer(node, 0, 1n)).rejects.toThrow(NodeNotReadyError);
    await expect(transfer(node, 0, 1n)).rejects.toMatchObject({ state: "stopped" });
    await expect(node.createBlock()).rejects.toMatchObject({ state: "stopped" });
  });

  it("over JSON-RPC, a node that is not ready answers addInvokeTransaction with NODE_NOT_READY (-32001)", async () => {
    const node = await openNode(tempDir());
    // Sign while ready (no block: demand mode), keep the raw tx, then stop the node.
    const hash = await transfer(node, 0, 5n);
    const raw = broadcastJson(node.mempool.get(hash)!.payload.tx.broadcast);
    await node.stop();
    const registry = new HandlerRegistry();
    registerStarknetMethods(registry, node);
    const server = new RpcServer({ registry, readiness: () => ({ ready: node.lifecycle.isReady, state: node.lifecycle.state }) });
    const port = await server.start({ host: "127.0.0.1", port: 0 });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "starknet_addInvokeTransaction", params: [{ ...raw, nonce: "0x1" }] }),
      });
      expect(await res.json()).toEqual({ jsonrpc: "2.0", id: 1, error: { code: -32001, message: "Node is not ready", data: { state: "stopped", reason: "node state is stopped" } } });
      const ready = await fetch(`http://127.0.0.1:${port}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ ready: false, state: "stopped" });
    } finally {
      await server.stop();
    }
  });
});

describe("restart continues the chain", () => {
  it("keeps head number, hash and roots across a restart, and new blocks extend it", async () => {
    const dir = tempDir();
    const first = await openNode(dir);
    for (let i = 0; i < 3; i++) {
      await transfer(first, i % 2, 100n + BigInt(i));
      await first.createBlock();
    }
    const head = first.world.head()!;
    expect(head.blockNumber).toBe(3);
    const nonce0 = first.world.getNonce(first.genesis.accounts[0]!.address);
    await first.stop();

    const second = await openNode(dir);
    expect(second.epoch).toBe(2);
    expect(second.world.head()).toEqual(head);
    expect(second.world.getNonce(second.genesis.accounts[0]!.address)).toBe(nonce0);
    const tx = await transfer(second, 0, 7n);
    const block = await second.createBlock();
    expect(block.header.block_number).toBe(4);
    expect(block.header.parent_hash).toBe(toHex(head.blockHash));
    expect(block.txHashes).toEqual([toHex(tx)]);
    expect((await second.chain.getBlock(3))!.header.block_hash).toBe(toHex(head.blockHash));
    expect(second.world.getNonce(second.genesis.accounts[0]!.address)).toBe(nonce0 + 1n);
    await second.stop();
  });
});

describe("block log", () => {
  it("logs one 'block' event a block (the --verbose line) with its transactions and timings", async () => {
    const events: Array<{ event: string; fields?: Record<string, unknown> }> = [];
    const node = await openNode(tempDir(), { log: (event, fields) => events.push({ event, ...(fields ? { fields } : {}) }) });
    await transfer(node, 0, 5n);
    await transfer(node, 1, 6n);
    const block = await node.createBlock();
    const lines = events.filter((e) => e.event === "block");
    expect(lines).toHaveLength(1);
    const f = lines[0]!.fields!;
    expect(f).toMatchObject({ number: block.header.block_number, txs: 2, dropped: 0, left_queued: 0 });
    expect(f.build_ms).toBeGreaterThanOrEqual(0);
    expect(f.total_ms).toBeGreaterThanOrEqual(f.build_ms as number);
  });
});
