// The devnet as a test harness starts it: `npm start`'s script as a child process on
// 127.0.0.1 with starknet-devnet's flags (--seed=0 form included), driven by starknet-devnet's
// JS client; SIGTERM ends it and --dump-on exit leaves the chain in --dump-path.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DevnetProvider } from "starknet-devnet";
import { afterAll, describe, expect, it } from "vitest";
import seed0 from "../vectors/devnet/starknet-devnet-seed0-keys.json" with { type: "json" };

const tsx = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));
const script = fileURLToPath(new URL("../../scripts/devnet.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "perpchain-devnet-process-"));
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves with the RPC base URL the banner prints (bounded: 60 s). */
function started(c: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no JSON-RPC line within 60 s:\n${out}`)), 60_000);
    c.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /JSON-RPC: (http:\/\/127\.0\.0\.1:\d+)\/rpc/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    c.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`devnet exited with ${code}:\n${out}`));
    });
  });
}

function exited(c: ChildProcess): Promise<number | null> {
  if (c.exitCode !== null) return Promise.resolve(c.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("devnet did not exit within 30 s of SIGTERM")), 30_000);
    c.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe("npm start as a child process", () => {
  it("serves starknet-devnet's client: isAlive, accounts, mint, blocks, restart, config; dumps on exit", async () => {
    const dumpPath = join(dir, "exit.dump");
    child = spawn(process.execPath, [tsx, script, "--port", "0", "--in-memory", "--seed=0", "--accounts=3", "--dump-path", dumpPath, "--dump-on", "exit", "--l2-gas-price-fri", "2000000000"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const url = await started(child);
    const devnet = new DevnetProvider({ url, timeout: 30_000 });
    expect(await devnet.isAlive()).toBe(true);
    const accounts = await devnet.getPredeployedAccounts({ withBalance: true });
    expect(accounts.map((a) => ({ private_key: a.private_key, public_key: a.public_key }))).toEqual(seed0.accounts);
    const minted = await devnet.mint(accounts[0]!.address, 10n ** 40n, "WEI");
    expect(minted.new_balance).toBe(10n ** 21n + 10n ** 40n);
    const config = await devnet.getConfig();
    expect(config).toMatchObject({ seed: 0, total_accounts: 3, l2_gas_price_fri: 2_000_000_000, dump_on: "exit", dump_path: dumpPath });
    const { block_hash } = await devnet.createBlock();
    expect(block_hash).toMatch(/^0x[0-9a-f]+$/);
    await devnet.restart();
    expect((await devnet.getPredeployedAccounts({ withBalance: true }))[0]!.balance.eth!.amount).toBe((10n ** 21n).toString());
    await devnet.mint(accounts[1]!.address, 5n);
    child.kill("SIGTERM");
    expect(await exited(child)).toBe(0);
    expect(existsSync(dumpPath)).toBe(true);
  });

  it("refuses an unknown flag with exit code 2 and one line", async () => {
    const c = spawn(process.execPath, [tsx, script, "--fork-network", "http://example.invalid"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    c.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    expect(await exited(c)).toBe(2);
    expect(err).toMatch(/^error: .*--fork-network.*\(see --help\)\n$/);
  });
});
