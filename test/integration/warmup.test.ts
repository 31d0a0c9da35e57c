// The JIT warm-up beside a ready devnet (sequencer/warmup.ts):
//   - it sends its transactions to a throwaway chain and they are included there; the real
//     chain, its accounts and its store do not change; /ready reports it;
//   - a client's first write ends it; reads do not;
//   - stopping the devnet during a warm-up ends it, and nothing of it is left running;
//   - with the JS crypto backend there is none (its signing would hold the event loop).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hashBackend, setHashBackend } from "../../state/crypto/hash.js";
import { selectHashBackend } from "../../state/crypto/select-backend.js";
import { startDevnet, type Devnet } from "../../sequencer/devnet.js";
import { isReadOnlyMethod } from "../../sequencer/warmup.js";

let previous: ReturnType<typeof hashBackend>;
beforeAll(() => {
  previous = hashBackend();
  selectHashBackend({ prefer: "native" });
});
afterAll(() => setHashBackend(previous));

const running: Devnet[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function rpc(d: Devnet, method: string, params: unknown = {}): Promise<{ result?: unknown; error?: unknown }> {
  const r = await fetch(d.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  return (await r.json()) as { result?: unknown; error?: unknown };
}

async function readyBody(d: Devnet): Promise<{ ready: boolean; warmup?: string }> {
  return (await (await fetch(d.rpcUrl.replace(/\/rpc$/, "/ready"))).json()) as { ready: boolean; warmup?: string };
}

describe("JIT warm-up", () => {
  it("runs its load on a throwaway chain: included there, nothing on the real chain", async () => {
    const dir = mkdtempSync(join(tmpdir(), "perpchain-warmup-test-"));
    dirs.push(dir);
    const d = await startDevnet({ seed: 5, accounts: 2, dbPath: join(dir, "db"), warmupTxs: 150 });
    running.push(d);
    const head = d.node.headNumber();
    expect((await readyBody(d)).warmup).toBe("running");
    const r = await d.warmup!.done;
    expect(r.end).toBe("done");
    // 32 deposits, then 150 rounded up to whole rounds over 32 accounts: 160.
    expect(r.sent).toBe(32 + 160);
    expect(r.included).toBeGreaterThanOrEqual(r.sent);
    expect((await readyBody(d)).warmup).toBe("done");
    expect(d.node.headNumber()).toBe(head);
    for (const a of d.accounts) expect(d.node.world.getNonce(BigInt(a.address))).toBe(0n);
    expect(d.node.stats.txsIncluded).toBeLessThan(32);
  });

  it("ends at a client's first write; reads leave it running", async () => {
    const d = await startDevnet({ seed: 6, accounts: 2, inMemory: true, warmupTxs: 20_000 });
    running.push(d);
    expect((await rpc(d, "starknet_blockNumber", [])).result).toBeTypeOf("number");
    expect((await rpc(d, "devnet_getPredeployedAccounts")).result).toHaveLength(2);
    expect((await readyBody(d)).warmup).toBe("running");
    const head = d.node.headNumber();
    const minted = await rpc(d, "devnet_mint", { address: d.accounts[0]!.address, amount: 5, unit: "FRI" });
    expect(minted.error).toBeUndefined();
    const r = await d.warmup!.done;
    expect(r.end).toBe("client");
    expect(r.sent).toBeLessThan(20_000);
    expect((await readyBody(d)).warmup).toBe("client");
    // Only the client's mint landed on the real chain.
    expect(d.node.headNumber()).toBe(head + 1);
  });

  it("stops with the devnet", async () => {
    const d = await startDevnet({ seed: 7, accounts: 2, inMemory: true, warmupTxs: 20_000 });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    await d.stop();
    expect(performance.now() - t0).toBeLessThan(10_000);
    const r = await d.warmup!.done;
    expect(r.end).toBe("stopped");
  });

  it("does not run with the JS crypto backend", async () => {
    selectHashBackend({ prefer: "js" });
    try {
      const d = await startDevnet({ seed: 8, accounts: 2, inMemory: true, warmupTxs: 100 });
      running.push(d);
      expect(d.warmup).toBeNull();
      expect((await readyBody(d)).warmup).toBeUndefined();
    } finally {
      selectHashBackend({ prefer: "native" });
    }
  });

  it("tells reads from writes", () => {
    for (const m of ["starknet_getNonce", "starknet_call", "starknet_blockNumber", "devnet_getConfig", "devnet_getPredeployedAccounts", "appchain_getStatus"]) expect(isReadOnlyMethod(m)).toBe(true);
    for (const m of ["starknet_addInvokeTransaction", "starknet_addDeclareTransaction", "devnet_mint", "devnet_createBlock", "devnet_restart", "appchain_rollback", "appchain_pushMarketData", "anything_else"]) expect(isReadOnlyMethod(m)).toBe(false);
  });
});
