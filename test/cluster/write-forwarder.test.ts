// Where a write goes across a leader change (write-forwarder.ts), with stand-in leaders on
// loopback HTTP and a scripted routing (who leads when): a forward to a dead leader waits for
// the next one and goes there; a resent transaction the new leader already holds (DUPLICATE_TX)
// is answered with its hash; a write refused locally by a leader handing over goes to the next
// leader; a node that became the leader while waiting takes the write itself; a mint whose
// forward may have been delivered is not sent twice.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { WriteTarget } from "../../sequencer/cluster/cluster-controller.js";
import { acceptedResult, writeForwarder, type WriteRouting } from "../../sequencer/cluster/write-forwarder.js";
import { NotLeaderError } from "../../sequencer/errors.js";
import type { RpcContext } from "../../sequencer/rpc/registry.js";
import { signedTransfer, type PredeployedAccount } from "../crash/child-node.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

type Answer = { result?: unknown; error?: { code: number; message: string; data?: unknown } } | "hang-up";

/** A stand-in leader answering every JSON-RPC call with `answer(method)`; records the calls. */
async function leader(answer: (method: string) => Answer): Promise<{ url: string; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const { id, method } = JSON.parse(body) as { id: number; method: string };
      calls.push(method);
      const a = answer(method);
      if (a === "hang-up") return req.socket.destroy();
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ jsonrpc: "2.0", id, ...a }));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/rpc`, calls };
}

/** A URL nobody listens on (a killed leader); call it after starting the live stand-ins (ports get reused). */
async function deadUrl(): Promise<string> {
  const l = await leader(() => ({ result: null }));
  const s = servers.pop()!;
  await new Promise((r) => s.close(r));
  return l.url;
}

/** Routing scripted as a list of (leader, from time) steps; tokens are the step index. */
class ScriptedRouting implements WriteRouting {
  /** The script starts with the first routing question. */
  private t0: number | null = null;
  writing = false;
  forgotten: string[] = [];
  constructor(private readonly steps: Array<{ at_ms: number; target: "none" | "self" | string }>) {}
  private current(): { target: string; token: string } {
    this.t0 ??= performance.now();
    const elapsed = performance.now() - this.t0;
    let i = 0;
    for (let k = 0; k < this.steps.length; k++) if (this.steps[k]!.at_ms <= elapsed) i = k;
    return { target: this.steps[i]!.target, token: String(i) };
  }
  get knownLeaderToken(): string | null {
    const c = this.current();
    return c.target === "none" || c.target === "self" ? null : c.token;
  }
  async writeTarget(until: number, avoidToken: string | null): Promise<WriteTarget> {
    for (;;) {
      const c = this.current();
      this.writing = c.target === "self";
      if (c.target === "self") return { local: true };
      if (c.target !== "none" && c.token !== avoidToken) return { local: false, url: c.target, token: c.token };
      if (performance.now() > until) throw new NotLeaderError("no cluster leader to take the write");
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  forgetLeader(url: string): void {
    this.forgotten.push(url);
  }
}

const ctx: RpcContext = { transport: "http", remoteAddress: "127.0.0.1", isLoopback: true };
const CHAIN_ID = 0x534e5f5345504f4c4941n;
const ACCOUNT: PredeployedAccount = { address: "0x1234", private_key: "0x5678" };

function aTransfer(): { params: unknown[]; hash: string } {
  const t = signedTransfer({ from: ACCOUNT, to: "0x99", token: "0x4718f5a0fc34cc1af16a1cdee98ffb20c31f5cd61d6ab07201858f4287c938d", amount: 5n, nonce: 3n, chainId: "0x" + CHAIN_ID.toString(16) });
  return { params: [t.tx], hash: t.hash };
}

const noLocal = async (): Promise<unknown> => {
  throw new Error("the local handler must not run on a follower");
};

describe("writes across a leader change", () => {
  it("a forward to a dead leader waits for the next leader and goes there", async () => {
    const next = await leader(() => ({ result: { transaction_hash: "0xabc" } }));
    const dead = await deadUrl();
    const routing = new ScriptedRouting([
      { at_ms: 0, target: dead },
      { at_ms: 150, target: "none" },
      { at_ms: 400, target: next.url },
    ]);
    const f = writeForwarder(routing, { wait_ms: 3_000, chainId: CHAIN_ID });
    const { params } = aTransfer();
    await expect(f("starknet_addInvokeTransaction", params, ctx, noLocal)).resolves.toEqual({ transaction_hash: "0xabc" });
    expect(next.calls).toEqual(["starknet_addInvokeTransaction"]);
    expect(routing.forgotten).toContain(dead);
  });

  it("a resent transaction the new leader already holds (DUPLICATE_TX) is answered with its hash", async () => {
    // The old leader took it (replicated) and hung up before answering; the new leader adopted it.
    const old = await leader(() => "hang-up");
    const next = await leader(() => ({ error: { code: 59, message: "A transaction with the same hash already exists in the mempool" } }));
    const routing = new ScriptedRouting([
      { at_ms: 0, target: old.url },
      { at_ms: 200, target: next.url },
    ]);
    const f = writeForwarder(routing, { wait_ms: 3_000, chainId: CHAIN_ID });
    const { params, hash } = aTransfer();
    expect(acceptedResult("starknet_addInvokeTransaction", params, CHAIN_ID)).toEqual({ transaction_hash: hash });
    await expect(f("starknet_addInvokeTransaction", params, ctx, noLocal)).resolves.toEqual({ transaction_hash: hash });
    expect(old.calls.length).toBeGreaterThanOrEqual(1);
    expect(next.calls).toEqual(["starknet_addInvokeTransaction"]);
  });

  it("a client's own duplicate (first attempt) is the leader's answer, unchanged", async () => {
    const l = await leader(() => ({ error: { code: 59, message: "A transaction with the same hash already exists in the mempool" } }));
    const f = writeForwarder(new ScriptedRouting([{ at_ms: 0, target: l.url }]), { wait_ms: 1_000, chainId: CHAIN_ID });
    await expect(f("starknet_addInvokeTransaction", aTransfer().params, ctx, noLocal)).rejects.toMatchObject({ code: 59 });
  });

  it("a write refused locally by a leader handing over goes to the next leader", async () => {
    const next = await leader(() => ({ result: { transaction_hash: "0xdef" } }));
    const routing = new ScriptedRouting([
      { at_ms: 0, target: "self" },
      { at_ms: 100, target: "none" },
      { at_ms: 300, target: next.url },
    ]);
    let localCalls = 0;
    const local = async () => {
      localCalls++;
      await new Promise((r) => setTimeout(r, 120));
      throw new NotLeaderError("transaction: this node is handing over or pausing its leadership (step-down or cluster rollback in progress)");
    };
    const f = writeForwarder(routing, { wait_ms: 3_000, chainId: CHAIN_ID });
    await expect(f("starknet_addInvokeTransaction", aTransfer().params, ctx, local)).resolves.toEqual({ transaction_hash: "0xdef" });
    expect(localCalls).toBe(1);
  });

  it("a node that becomes the leader while the write waits takes it itself", async () => {
    const routing = new ScriptedRouting([
      { at_ms: 0, target: "none" },
      { at_ms: 200, target: "self" },
    ]);
    const f = writeForwarder(routing, { wait_ms: 3_000, chainId: CHAIN_ID });
    await expect(f("devnet_createBlock", [], ctx, async () => ({ block_hash: "0x1" }))).resolves.toEqual({ block_hash: "0x1" });
  });

  it("a mint whose forward may have been delivered is not sent again; one refused with NOT_LEADER is", async () => {
    const hangs = await leader(() => "hang-up");
    const next = await leader(() => ({ result: { new_balance: "1" } }));
    const f1 = writeForwarder(new ScriptedRouting([{ at_ms: 0, target: hangs.url }, { at_ms: 100, target: next.url }]), { wait_ms: 3_000, chainId: CHAIN_ID });
    await expect(f1("devnet_mint", [], ctx, noLocal)).rejects.toMatchObject({ code: -32013 });
    expect(next.calls).toEqual([]);

    const refuses = await leader(() => ({ error: { code: -32013, message: "Node is not the cluster leader", data: { reason: "node is follower" } } }));
    const f2 = writeForwarder(new ScriptedRouting([{ at_ms: 0, target: refuses.url }, { at_ms: 100, target: next.url }]), { wait_ms: 3_000, chainId: CHAIN_ID });
    await expect(f2("devnet_mint", [], ctx, noLocal)).resolves.toEqual({ new_balance: "1" });
  });

  it("gives up after wait_ms with the last refusal (which names the unreachable leader)", async () => {
    const dead = await deadUrl();
    const f = writeForwarder(new ScriptedRouting([{ at_ms: 0, target: dead }]), { wait_ms: 300, chainId: CHAIN_ID });
    await expect(f("starknet_addInvokeTransaction", aTransfer().params, ctx, noLocal)).rejects.toMatchObject({ code: -32013, data: { reason: expect.stringContaining(dead) } });
  });

  it("reads are never routed", () => {
    const f = writeForwarder(new ScriptedRouting([{ at_ms: 0, target: "none" }]), { wait_ms: 100, chainId: CHAIN_ID });
    expect(f("starknet_getNonce", [], ctx, noLocal)).toBeNull();
  });
});
