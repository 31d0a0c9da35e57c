// devnet_dump / devnet_load path safety against a real devnet on 127.0.0.1: operator-only,
// relative to the dump directory, no escape, absolute paths only when enabled, and every
// file error answered as a typed RPC error while the node keeps running.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStore } from "../../sequencer/chain-dump.js";
import { startDevnet, type Devnet } from "../../sequencer/devnet.js";
import { OPERATOR_ERRORS } from "../../sequencer/errors.js";
import { MemoryKvStore } from "../../state/kv-store.js";

const INVALID_PARAMS = -32602;
const FILE_ERROR = OPERATOR_ERRORS.FILE_ERROR.code;
const UNAUTHORIZED = OPERATOR_ERRORS.UNAUTHORIZED.code;

let root: string;
let dumpDir: string;
let d: Devnet;
let abs: Devnet;

async function rpc(dev: Devnet, method: string, params: unknown): Promise<{ result?: any; error?: { code: number; message: string; data?: any } }> {
  const res = await fetch(dev.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  return (await res.json()) as never;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "perpchain-dump-paths-"));
  dumpDir = join(root, "dumps");
  d = await startDevnet({ seed: 1, inMemory: true, dumpDir, triggerEngine: false });
  abs = await startDevnet({ seed: 2, inMemory: true, dumpDir: join(root, "dumps2"), allowAbsoluteDumpPaths: true, triggerEngine: false });
});

afterAll(async () => {
  await d?.stop();
  await abs?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("devnet_dump paths", () => {
  it("writes a relative path inside the dump directory, creating sub-directories, and the dump loads", async () => {
    const r = await rpc(d, "devnet_dump", { path: "nightly/chain.dump" });
    expect(r.error).toBeUndefined();
    expect(r.result.head_block).toBe(d.node.headNumber());
    const file = join(dumpDir, "nightly", "chain.dump");
    expect(readdirSync(join(dumpDir, "nightly"))).toEqual(["chain.dump"]); // no partial file left
    const loaded = await loadStore(file, new MemoryKvStore());
    expect(loaded.global_root).toBe(r.result.global_root);
  });

  it("refuses an absolute path unless enabled, with invalid params (the node that crashed on it keeps serving)", async () => {
    const r = await rpc(d, "devnet_dump", { path: "/nonexistent/dir/x.json" });
    expect(r.error?.code).toBe(INVALID_PARAMS);
    expect(r.error?.data).toMatch(/absolute paths are disabled/);
    expect((await rpc(d, "starknet_blockNumber", [])).result).toBe(d.node.headNumber());
  });

  it.each(["../x.dump", "a/../../x.dump", "..", "a\\..\\..\\x", "", "x\0y", "."])("refuses %j", async (path) => {
    const r = await rpc(d, "devnet_dump", { path });
    expect(r.error?.code).toBe(INVALID_PARAMS);
  });

  it("refuses a non-string path", async () => {
    // (null is an absent optional param: the dump comes back in the answer, as without a path)
    for (const path of [1, {}, ["x"], true]) expect((await rpc(d, "devnet_dump", { path })).error?.code).toBe(INVALID_PARAMS);
  });

  it("refuses a path that leaves the dump directory through a symbolic link", async () => {
    const outside = join(root, "outside");
    mkdirSync(outside, { recursive: true });
    mkdirSync(dumpDir, { recursive: true });
    symlinkSync(outside, join(dumpDir, "escape"));
    const r = await rpc(d, "devnet_dump", { path: "escape/x.dump" });
    expect(r.error?.code).toBe(INVALID_PARAMS);
    expect(r.error?.data).toMatch(/symbolic link/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it("answers EISDIR and ENOTDIR as typed file errors", async () => {
    mkdirSync(join(dumpDir, "adir"), { recursive: true });
    const isDir = await rpc(d, "devnet_dump", { path: "adir" });
    expect(isDir.error?.code).toBe(FILE_ERROR);
    expect(isDir.error?.data).toMatchObject({ path: "adir", errno: "EISDIR" });
    writeFileSync(join(dumpDir, "afile"), "x");
    const notDir = await rpc(d, "devnet_dump", { path: "afile/x.dump" });
    expect(notDir.error?.code).toBe(FILE_ERROR);
    expect(notDir.error?.data).toMatchObject({ path: "afile/x.dump", errno: expect.stringMatching(/^(ENOTDIR|EEXIST)$/) });
    expect(readdirSync(join(dumpDir, "adir"))).toEqual([]);
  });

  it("with absolute paths enabled: a missing directory is ENOENT, nothing is created, the node keeps serving", async () => {
    const r = await rpc(abs, "devnet_dump", { path: "/nonexistent/dir/x.json" });
    expect(r.error?.code).toBe(FILE_ERROR);
    expect(r.error?.data).toMatchObject({ path: "/nonexistent/dir/x.json", errno: "ENOENT" });
    expect(existsSync("/nonexistent")).toBe(false);
    const ok = await rpc(abs, "devnet_dump", { path: join(root, "abs.dump") });
    expect(ok.result.entries).toBeGreaterThan(0);
    expect((await rpc(abs, "starknet_blockNumber", [])).result).toBe(abs.node.headNumber());
  });

  it("is an operator method: a non-loopback client without the admin token is refused", async () => {
    const ctx = { transport: "http" as const, remoteAddress: "10.1.2.3", isLoopback: false };
    await expect(d.registry.dispatch("devnet_dump", { path: "x.dump" }, ctx)).rejects.toMatchObject({ code: UNAUTHORIZED });
    await expect(d.registry.dispatch("devnet_load", { path: "x.dump" }, ctx)).rejects.toMatchObject({ code: UNAUTHORIZED });
    expect(existsSync(join(dumpDir, "x.dump"))).toBe(false);
  });
});

describe("devnet_load paths", () => {
  it("checks the path like devnet_dump, then loads the dump into the running node", async () => {
    expect((await rpc(d, "devnet_load", { path: "../x" })).error?.code).toBe(INVALID_PARAMS);
    expect((await rpc(d, "devnet_load", { path: "/etc/passwd" })).error?.code).toBe(INVALID_PARAMS);
    expect((await rpc(d, "devnet_load", { path: "nightly/chain.dump" })).result).toMatchObject({ head_block: expect.any(Number) });
  });
});

describe("devnet_load while a past-block read is in flight", () => {
  it("answers BLOCK_NOT_FOUND for a block of the replaced chain, never an internal error", async () => {
    const dev = await startDevnet({ seed: 1, dbPath: join(root, "race-db"), dumpDir: join(root, "race-dumps"), triggerEngine: false });
    try {
      for (let i = 0; i < 2; i++) await dev.node.createBlock();
      expect((await rpc(dev, "devnet_dump", { path: "race.dump" })).error).toBeUndefined();
      const dumped = dev.node.headNumber();
      for (let i = 0; i < 3; i++) await dev.node.createBlock();
      // The load lands while the read of block dumped+1 (a block only the running chain has)
      // waits, made certain by running it from inside the read; on --db it rewrites the store
      // under the world state being read.
      const world = dev.node.world;
      const readerAt = world.readerAt.bind(world);
      world.readerAt = async (n) => {
        world.readerAt = readerAt;
        expect((await rpc(dev, "devnet_load", { path: "race.dump" })).error).toBeUndefined();
        return readerAt(n);
      };
      const strk = dev.contracts.STRK!.address;
      const answer = await rpc(dev, "starknet_getStorageAt", [strk, "0x1", { block_number: dumped + 1 }]);
      expect(answer.error).toMatchObject({ code: 24 });
      expect(dev.node.headNumber()).toBe(dumped);
    } finally {
      await dev.stop();
    }
  });
});
