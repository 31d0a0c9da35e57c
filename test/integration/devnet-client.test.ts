// starknet-devnet's own JS client (the `starknet-devnet` npm package, DevnetProvider, unmodified)
// drives every devnet_* method against an in-process in-memory devnet on 127.0.0.1, with
// provider.restart() before every case as a starknet-devnet test suite does.
import "./ws-global.js";

import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { Account, RpcProvider, WebSocketChannel, config } from "starknet";
import { DevnetProvider } from "starknet-devnet";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startDevnet, type Devnet } from "../../sequencer/devnet.js";
import { DEFAULT_GAS_PRICES } from "../../sequencer/node.js";
import seed0 from "../vectors/devnet/starknet-devnet-seed0-keys.json" with { type: "json" };

config.set("logLevel", "ERROR");
const execFileAsync = promisify(execFile);

const ETH = "0x49d36570d4e46f48e99674bd3fcc84644ddd6b96f7c741b1562b82f9e004dc7";
const STRK = "0x4718f5a0fc34cc1af16a1cdee98ffb20c31f5cd61d6ab07201858f4287c938d";
const INITIAL = 10n ** 21n;

let d: Devnet;
let devnet: DevnetProvider;
let provider: RpcProvider;
let dir: string;
let genesisHead: { block_number: number; block_hash: string };

async function rawRpc(method: string, paramsJson: string): Promise<{ result?: any; error?: { code: number; message: string; data?: unknown } }> {
  const res = await fetch(d.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: `{"jsonrpc":"2.0","id":1,"method":"${method}","params":${paramsJson}}` });
  return (await res.json()) as never;
}

async function erc20Balance(token: string, address: string): Promise<bigint> {
  const [low, high] = await provider.callContract({ contractAddress: token, entrypoint: "balance_of", calldata: [address] });
  return BigInt(low!) + (BigInt(high!) << 128n);
}

function account(i: number): Account {
  const a = d.accounts[i]!;
  return new Account({ provider, address: a.address, signer: a.private_key });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "perpchain-devnet-client-"));
  d = await startDevnet({ seed: 0, inMemory: true, allowAbsoluteDumpPaths: true });
  devnet = new DevnetProvider({ url: `http://127.0.0.1:${d.port}`, timeout: 30_000 });
  provider = new RpcProvider({ nodeUrl: d.rpcUrl, transactionRetryIntervalFallback: 20 });
  const h = await provider.getBlockLatestAccepted();
  genesisHead = { block_number: h.block_number, block_hash: h.block_hash };
});

afterAll(async () => {
  await d?.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await devnet.restart();
});

describe("liveness", () => {
  it("isAlive() is true and GET /is_alive answers the text Alive!!!", async () => {
    expect(await devnet.isAlive()).toBe(true);
    const res = await fetch(`http://127.0.0.1:${d.port}/is_alive`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("Alive!!!");
    expect((await fetch(`http://127.0.0.1:${d.port}/health`)).status).toBe(200);
  });
});

describe("predeployed accounts", () => {
  it("have starknet-devnet's keys for --seed 0, balance null unless asked", async () => {
    const accounts = await devnet.getPredeployedAccounts();
    expect(accounts).toHaveLength(10);
    expect(accounts.slice(0, 3).map((a) => ({ private_key: a.private_key, public_key: a.public_key }))).toEqual(seed0.accounts);
    for (const a of accounts) expect(a.balance).toBeNull();
    expect(accounts[0]!.initial_balance).toBe(INITIAL.toString());
  });

  it("with_balance gives the ETH (WEI) and STRK (FRI) balances", async () => {
    const accounts = await devnet.getPredeployedAccounts({ withBalance: true });
    expect(accounts[3]!.balance).toEqual({ eth: { amount: INITIAL.toString(), unit: "WEI" }, strk: { amount: INITIAL.toString(), unit: "FRI" } });
    expect(await erc20Balance(ETH, accounts[3]!.address)).toBe(INITIAL);
  });
});

describe("devnet_mint", () => {
  it("mints 10^30 WEI and 10^30 FRI sent as bare JSON numbers, exactly", async () => {
    const address = d.accounts[1]!.address;
    const amount = 10n ** 30n;
    const wei = await devnet.mint(address, amount, "WEI");
    expect(wei.unit).toBe("WEI");
    expect(wei.new_balance).toBe(INITIAL + amount);
    expect(wei.tx_hash).toMatch(/^0x[0-9a-f]+$/);
    expect((await provider.getTransactionReceipt(wei.tx_hash)).isSuccess()).toBe(true);
    const fri = await devnet.mint(address, amount);
    expect(fri.unit).toBe("FRI");
    expect(fri.new_balance).toBe(INITIAL + amount);
    expect(await erc20Balance(ETH, address)).toBe(INITIAL + amount);
    expect(await erc20Balance(STRK, address)).toBe(INITIAL + amount);
    // devnet_getAccountBalance, now and at the block before the mints.
    expect((await rawRpc("devnet_getAccountBalance", `{"address":"${address}","unit":"WEI"}`)).result).toEqual({ amount: (INITIAL + amount).toString(), unit: "WEI" });
    const before = `{"block_number":${genesisHead.block_number}}`;
    expect((await rawRpc("devnet_getAccountBalance", `{"address":"${address}","block_id":${before}}`)).result).toEqual({ amount: INITIAL.toString(), unit: "FRI" });
    expect((await rawRpc("devnet_getAccountBalance", `{"address":"${address}","block_id":{"block_number":99999}}`)).error).toMatchObject({ code: 24 });
  });

  it("takes decimal and hex strings, keeps USDC, refuses a bad unit or a negative amount", async () => {
    const address = d.accounts[2]!.address;
    const dec = await rawRpc("devnet_mint", `{"address":"${address}","amount":"123456789012345678901234567890","unit":"FRI"}`);
    expect(dec.result).toMatchObject({ new_balance: (INITIAL + 123456789012345678901234567890n).toString(), unit: "FRI" });
    const hex = await rawRpc("devnet_mint", `{"address":"${address}","amount":"0x10","unit":"USDC"}`);
    expect(hex.result).toMatchObject({ unit: "USDC" });
    expect(await rawRpc("devnet_mint", `{"address":"${address}","amount":1,"unit":"BTC"}`)).toMatchObject({ error: { code: -32602 } });
    expect(await rawRpc("devnet_mint", `{"address":"${address}","amount":-100000000000000000000}`)).toMatchObject({ error: { code: -32602 } });
  });
});

describe("blocks and time", () => {
  it("createBlock answers {block_hash} of the new latest block", async () => {
    const r = await devnet.createBlock();
    expect(r).toEqual({ block_hash: (await provider.getBlockLatestAccepted()).block_hash });
  });

  it("setTime without a block answers block_hash null and the next block carries the time", async () => {
    const t = 2_000_000_000;
    expect(await devnet.setTime(t)).toEqual({ block_timestamp: t, block_hash: null });
    const b = await devnet.createBlock();
    expect((await provider.getBlockWithTxHashes(b.block_hash)).timestamp).toBe(t);
    // The client's declared types say `time`; starknet-devnet's server answers block_timestamp, as we do.
    const r = (await devnet.setTime(t + 50, { generateBlock: true })) as unknown as { block_timestamp: number; block_hash: string };
    expect(r.block_timestamp).toBe(t + 50);
    expect((await provider.getBlockWithTxHashes("latest")).block_hash).toBe(r.block_hash);
  });

  it("increaseTime answers {timestamp_increased_by, block_hash} and moves the block time", async () => {
    await devnet.setTime(2_000_000_000);
    const r = (await devnet.increaseTime(3600)) as unknown as { timestamp_increased_by: number; block_hash: string };
    expect(Object.keys(r).sort()).toEqual(["block_hash", "timestamp_increased_by"]);
    expect(r.timestamp_increased_by).toBe(3600);
    const b = await provider.getBlockWithTxHashes("latest");
    expect(b.block_hash).toBe(r.block_hash);
    expect(b.timestamp).toBeGreaterThanOrEqual(2_000_003_600);
  });

  it("abortBlocks removes blocks down to the one given and answers their hashes, newest first", async () => {
    const b1 = await devnet.createBlock();
    const b2 = await devnet.createBlock();
    expect(await devnet.abortBlocks(b1.block_hash)).toEqual({ aborted: [b2.block_hash, b1.block_hash] });
    expect(await provider.getBlockLatestAccepted()).toEqual(genesisHead);
  });

  it("abortBlocks sent concurrently with each other and with restart never fails internally", async () => {
    // The fuzz test found it: the hashes were read block by block before the rollback, so a
    // concurrent abort removed them in between and the handler dereferenced a missing block.
    // One JSON-RPC batch: the server runs its calls concurrently.
    const batch = async (calls: Array<[string, unknown]>) => {
      const res = await fetch(d.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(calls.map(([method, params], id) => ({ jsonrpc: "2.0", id, method, params }))) });
      return ((await res.json()) as Array<{ id: number; result?: unknown; error?: { code: number; message: string } }>).sort((a, b) => a.id - b.id);
    };
    const b1 = await devnet.createBlock();
    const b2 = await devnet.createBlock();
    const abort = { starting_block_id: { block_number: genesisHead.block_number + 1 } };
    const [x, y] = await batch([["devnet_abortBlocks", abort], ["devnet_abortBlocks", { starting_block_id: { block_hash: b1.block_hash } }]]);
    // Exactly one of them removed both blocks; the other found them gone.
    expect([x!.result, y!.result].filter(Boolean)).toEqual([{ aborted: [b2.block_hash, b1.block_hash] }]);
    expect([x!.error, y!.error].filter(Boolean)).toEqual([{ code: -1, message: "No block found" }]);
    await devnet.createBlock();
    const raced = await batch([["devnet_abortBlocks", abort], ["devnet_restart", {}], ["devnet_abortBlocks", { starting_block_id: "latest" }]]);
    for (const r of raced) expect(r.error?.code).not.toBe(-32603);
    expect(await provider.getBlockLatestAccepted()).toEqual(genesisHead);
  });

  it("a block read while a rollback removes it answers BLOCK_NOT_FOUND, never an internal error", async () => {
    await devnet.mint(d.accounts[3]!.address, 5n);
    const head = d.node.headNumber();
    expect((await d.node.chain.getBlock(head))!.txHashes.length).toBeGreaterThan(0);
    // The rollback lands between reading the block and reading its transactions (the race the
    // fuzz test found), made certain by running it from inside the first getTxs.
    const chain = d.node.chain;
    const getTxs = chain.getTxs.bind(chain);
    chain.getTxs = async (hashes) => {
      chain.getTxs = getTxs;
      await d.node.rollbackTo(head - 1, "drop");
      return getTxs(hashes);
    };
    expect((await rawRpc("starknet_getBlockWithReceipts", `{"block_id":{"block_number":${head}}}`)).error).toMatchObject({ code: 24 });
    expect(chain.getTxs).toBe(getTxs);
  });

  it("abortBlocks of an unknown block or of genesis fails with starknet-devnet's errors", async () => {
    await expect(devnet.abortBlocks(10_000)).rejects.toEqual({ code: -1, message: "No block found" });
    await expect(devnet.abortBlocks("0x1234")).rejects.toEqual({ code: -1, message: "No block found" });
    await expect(devnet.abortBlocks(0)).rejects.toEqual({ code: -32600, message: "Genesis block can't be aborted" });
  });
});

describe("devnet_restart", () => {
  it("brings back the start-up chain: blocks, balances, nonces, time, gas prices, empty mempool", async () => {
    const sender = account(0);
    await devnet.setTime(2_100_000_000);
    await devnet.setGasPrice({ l2GasPrice: 2n * DEFAULT_GAS_PRICES.l2_gas });
    const { transaction_hash } = await sender.execute({ contractAddress: STRK, entrypoint: "transfer", calldata: [d.accounts[5]!.address, "1000", "0"] });
    await provider.waitForTransaction(transaction_hash);
    await devnet.mint(d.accounts[5]!.address, 7n);
    expect((await provider.getBlockLatestAccepted()).block_number).toBeGreaterThan(genesisHead.block_number);

    await devnet.restart({ restartL1ToL2Messaging: true });
    expect(await provider.getBlockLatestAccepted()).toEqual(genesisHead);
    expect(await erc20Balance(STRK, d.accounts[5]!.address)).toBe(INITIAL);
    expect(BigInt(await provider.getNonceForAddress(d.accounts[0]!.address))).toBe(0n);
    await expect(provider.getTransactionReceipt(transaction_hash)).rejects.toThrow(/29|hash not found/i);
    expect(d.node.mempool.size).toBe(0);
    const config = await devnet.getConfig();
    expect(config.l2_gas_price_fri).toBe(Number(DEFAULT_GAS_PRICES.l2_gas));
    const b = await devnet.createBlock();
    expect((await provider.getBlockWithTxHashes(b.block_hash)).timestamp).toBeLessThan(2_100_000_000);
  });

  it("tells WebSocket newHeads subscribers of the removed blocks with starknet_subscriptionReorg", async () => {
    const ws = new WebSocketChannel({ nodeUrl: d.wsUrl, websocket: WebSocket as never, autoReconnect: false });
    await ws.waitForConnection();
    try {
      const first = await devnet.createBlock();
      const last = await devnet.createBlock();
      const sub = await ws.subscribeNewHeads();
      const reorg = new Promise<Record<string, unknown>>((resolve) =>
        sub.on((r: unknown) => {
          if (r && typeof r === "object" && "starting_block_hash" in r) resolve(r as Record<string, unknown>);
        }),
      );
      await devnet.restart();
      expect(await reorg).toEqual({
        starting_block_hash: first.block_hash,
        starting_block_number: genesisHead.block_number + 1,
        ending_block_hash: last.block_hash,
        ending_block_number: genesisHead.block_number + 2,
      });
      await sub.unsubscribe();
    } finally {
      ws.disconnect();
      await ws.waitForDisconnection();
    }
  });
});

describe("market data across devnet_restart", () => {
  it("the guards start over from the restarted chain's oracle: the same update is accepted again", async () => {
    const update = {
      market: "ETH-USD-PERP",
      source: "feed-a",
      mark_price: "3401.00",
      index_price: "3401.00",
      funding_rate: "0.00001",
      funding_index: "87.25",
      // Newer than the genesis market data of block 1, fresh (30 s) and not ahead of the clock by more than 5 s.
      timestamp: Math.max(Number(d.marketData.onchain("ETH-USD-PERP").timestamp_s) + 2, d.node.nowS()),
      epoch: d.node.epoch,
      sequence: 1,
    };
    const first = await rawRpc("appchain_pushMarketData", JSON.stringify({ update }));
    expect(first.result, JSON.stringify(first)).toMatchObject({ accepted: true, transaction_hash: expect.any(String) });
    await provider.waitForTransaction(first.result.transaction_hash);
    expect(d.marketData.onchain("ETH-USD-PERP").mark_price_e6).toBe(3_401_000_000n);
    await devnet.restart();
    expect(d.marketData.onchain("ETH-USD-PERP").mark_price_e6).toBe(3_400_000_000n);
    const again = await rawRpc("appchain_pushMarketData", JSON.stringify({ update }));
    expect(again.result, JSON.stringify(again)).toMatchObject({ accepted: true, transaction_hash: expect.any(String) });
    await provider.waitForTransaction(again.result.transaction_hash);
    expect(d.marketData.onchain("ETH-USD-PERP").mark_price_e6).toBe(3_401_000_000n);
  });
});

describe("devnet_setGasPrice", () => {
  it("changes the prices admission, estimateFee and the next block use; generate_block makes that block", async () => {
    const l2 = 3n * DEFAULT_GAS_PRICES.l2_gas;
    const r = await devnet.setGasPrice({ l1GasPrice: 7n * 10n ** 11n, l2GasPrice: l2 }, true);
    expect(r).toEqual({ l1_gas_price: 7n * 10n ** 11n, l1_data_gas_price: DEFAULT_GAS_PRICES.l1_data_gas, l2_gas_price: l2 });
    const latest = await provider.getBlockWithTxHashes("latest");
    expect(BigInt(latest.l2_gas_price.price_in_fri)).toBe(l2);
    expect(BigInt(latest.l1_gas_price.price_in_fri)).toBe(7n * 10n ** 11n);
    const sender = account(1);
    const call = { contractAddress: STRK, entrypoint: "transfer", calldata: [d.accounts[2]!.address, "1", "0"] };
    const estimate = await sender.estimateInvokeFee(call);
    expect(BigInt(estimate.resourceBounds.l2_gas.max_price_per_unit)).toBeGreaterThanOrEqual(l2);
    const { transaction_hash } = await sender.execute(call);
    await provider.waitForTransaction(transaction_hash);
    // A transaction whose L2 price bound is below the new price is refused at admission.
    const cheap = await rawRpc(
      "devnet_setGasPrice",
      `{"l2_gas_price_fri": ${l2 * 10n}, "gas_price_wei": 123456789012345678901234567890}`,
    );
    expect(cheap.result).toMatchObject({ l2_gas_price_fri: Number(l2 * 10n), gas_price_wei: "123456789012345678901234567890" });
    await expect(sender.execute(call, { resourceBounds: estimate.resourceBounds })).rejects.toThrow(/53|resources/i);
  });

  it("refuses a zero price", async () => {
    expect(await rawRpc("devnet_setGasPrice", `{"l2_gas_price_fri": 0}`)).toMatchObject({ error: { code: -32602 } });
  });
});

describe("devnet_dump and devnet_load", () => {
  it("load replaces the running chain by a dump and subscribers see the reorg", async () => {
    const path = join(dir, "state.dump");
    const minted = await devnet.mint(d.accounts[4]!.address, 5n * 10n ** 18n, "WEI");
    const dumpedHead = await provider.getBlockLatestAccepted();
    await devnet.dump(path);
    expect(existsSync(path)).toBe(true);
    await devnet.mint(d.accounts[4]!.address, 1n, "WEI");
    await devnet.createBlock();
    await devnet.load(path);
    expect(await provider.getBlockLatestAccepted()).toEqual(dumpedHead);
    expect(await erc20Balance(ETH, d.accounts[4]!.address)).toBe(minted.new_balance);
    // The loaded chain goes on: a transaction on top of it.
    const { transaction_hash } = await account(4).execute({ contractAddress: ETH, entrypoint: "transfer", calldata: [d.accounts[6]!.address, "9", "0"] });
    await provider.waitForTransaction(transaction_hash);
    expect(await erc20Balance(ETH, d.accounts[6]!.address)).toBe(INITIAL + 9n);
  });

  it("dump without any path answers the dump itself; load of a missing file fails and changes nothing", async () => {
    const inline = (await devnet.dump()) as unknown as { format: string; encoding: string; data: string; head_block: number };
    expect(inline).toMatchObject({ format: "PERPCHAIN-DUMP-1", encoding: "base64", head_block: genesisHead.block_number });
    expect(Buffer.from(inline.data, "base64").subarray(0, 17).toString()).toBe("PERPCHAIN-DUMP-1\n");
    const head = await provider.getBlockLatestAccepted();
    await expect(devnet.load(join(dir, "missing.dump"))).rejects.toMatchObject({ code: expect.any(Number) });
    expect(await provider.getBlockLatestAccepted()).toEqual(head);
  });

  it("a chain of another --seed is refused, saying which flags it needs", async () => {
    const other = await startDevnet({ seed: 7, inMemory: true, bootstrapMarketData: false, triggerEngine: false });
    const path = join(dir, "seed7.dump");
    try {
      await other.dump(path);
    } finally {
      await other.stop();
    }
    await expect(devnet.load(path)).rejects.toMatchObject({ data: { reason: expect.stringContaining("--seed 7") } });
  });

  it("--dump-path with --dump-on exit: written on stop, loaded by the next in-memory devnet at start", async () => {
    const path = join(dir, "on-exit.dump");
    const a = await startDevnet({ seed: 0, inMemory: true, dumpPath: path, dumpOn: "exit" });
    let head: { block_hash: string };
    try {
      const p = new DevnetProvider({ url: `http://127.0.0.1:${a.port}` });
      await p.mint(a.accounts[0]!.address, 42n, "WEI");
      head = await new RpcProvider({ nodeUrl: a.rpcUrl }).getBlockLatestAccepted();
      await p.dump(); // the default path
      expect(existsSync(path)).toBe(true);
      await p.createBlock();
      head = await new RpcProvider({ nodeUrl: a.rpcUrl }).getBlockLatestAccepted();
    } finally {
      await a.stop();
    }
    const b = await startDevnet({ seed: 0, inMemory: true, dumpPath: path });
    try {
      expect((await new RpcProvider({ nodeUrl: b.rpcUrl }).getBlockLatestAccepted()).block_hash).toBe(head.block_hash);
      expect((await new DevnetProvider({ url: `http://127.0.0.1:${b.port}` }).getConfig()).dump_path).toBe(path);
    } finally {
      await b.stop();
    }
  });
});

describe("impersonation", () => {
  const stranger = "0x1234567890abcdef1234567890abcdef"; // a key that is no account's
  const transfer = (to: string, amount: string) => ({ contractAddress: STRK, entrypoint: "transfer", calldata: [to, amount, "0"] });

  it("impersonateAccount: the account's transactions skip the signature, nonce and fee still apply", async () => {
    const victim = d.accounts[7]!.address;
    const forged = new Account({ provider, address: victim, signer: stranger });
    await expect(forged.execute(transfer(d.accounts[8]!.address, "5"))).rejects.toThrow(/55|validat/i);
    await devnet.cheats.impersonateAccount(victim);
    const { transaction_hash } = await forged.execute(transfer(d.accounts[8]!.address, "5"));
    const receipt = await provider.waitForTransaction(transaction_hash);
    expect(receipt.isSuccess()).toBe(true);
    const fee = BigInt((receipt.value as { actual_fee: { amount: string } }).actual_fee.amount);
    expect(fee).toBeGreaterThan(0n);
    expect(await erc20Balance(STRK, victim)).toBe(INITIAL - 5n - fee);
    expect(BigInt(await provider.getNonceForAddress(victim))).toBe(1n);
    // A stale nonce is still refused.
    await expect(forged.execute(transfer(d.accounts[8]!.address, "5"), { nonce: 0 })).rejects.toThrow(/52|nonce/i);
    await devnet.cheats.stopImpersonateAccount(victim);
    await expect(forged.execute(transfer(d.accounts[8]!.address, "5"))).rejects.toThrow(/55|validat/i);
  });

  it("autoImpersonate covers every account until stopAutoImpersonate; restart ends it", async () => {
    const forged = new Account({ provider, address: d.accounts[9]!.address, signer: stranger });
    await devnet.cheats.autoImpersonate();
    await provider.waitForTransaction((await forged.execute(transfer(d.accounts[1]!.address, "1"))).transaction_hash);
    await devnet.cheats.stopAutoImpersonate();
    await expect(forged.execute(transfer(d.accounts[1]!.address, "1"))).rejects.toThrow(/55|validat/i);
    await devnet.cheats.autoImpersonate();
    await devnet.restart();
    await expect(forged.execute(transfer(d.accounts[1]!.address, "1"))).rejects.toThrow(/55|validat/i);
  });
});

describe("a --db chain (persistent: not a throw-away devnet)", () => {
  it("refuses impersonation; restart rolls back to genesis and re-bootstraps market data", async () => {
    const db = await startDevnet({ seed: 0, dbPath: join(dir, "db"), clock: () => 1_800_000_000_000 });
    try {
      const p = new DevnetProvider({ url: `http://127.0.0.1:${db.port}` });
      await expect(p.cheats.impersonateAccount(db.accounts[0]!.address)).rejects.toMatchObject({ code: -32009, data: { reason: expect.stringContaining("--in-memory") } });
      await expect(p.cheats.autoImpersonate()).rejects.toMatchObject({ code: -32009 });
      const start = await new RpcProvider({ nodeUrl: db.rpcUrl }).getBlockLatestAccepted();
      await p.mint(db.accounts[0]!.address, 99n, "WEI");
      await p.createBlock();
      await p.restart();
      const after = await new RpcProvider({ nodeUrl: db.rpcUrl }).getBlockLatestAccepted();
      expect(after.block_number).toBe(start.block_number);
      expect((await p.getPredeployedAccounts({ withBalance: true }))[0]!.balance.eth!.amount).toBe(INITIAL.toString());
      expect(db.marketData.onchain("BTC-USD-PERP").timestamp_s).toBeGreaterThan(0n);
    } finally {
      await db.stop();
    }
  });
});

describe("dumps written by others", () => {
  it("--dump-on block rewrites --dump-path after every block", async () => {
    const path = join(dir, "on-block.dump");
    const a = await startDevnet({ seed: 0, inMemory: true, dumpPath: path, dumpOn: "block" });
    let head: { block_hash: string };
    try {
      await new DevnetProvider({ url: `http://127.0.0.1:${a.port}` }).mint(a.accounts[0]!.address, 3n);
      head = await new RpcProvider({ nodeUrl: a.rpcUrl }).getBlockLatestAccepted();
    } finally {
      await a.stop(); // waits for the dump in progress; "block" writes nothing more on exit
    }
    await devnet.load(path);
    expect((await provider.getBlockLatestAccepted()).block_hash).toBe(head.block_hash);
  });

  it("a dump made by `npm run snapshot -- export` of a --db chain loads into the running devnet", async () => {
    const db = join(dir, "exported-db");
    const a = await startDevnet({ seed: 0, dbPath: db });
    let head: { block_hash: string };
    try {
      await new DevnetProvider({ url: `http://127.0.0.1:${a.port}` }).mint(a.accounts[2]!.address, 11n, "WEI");
      head = await new RpcProvider({ nodeUrl: a.rpcUrl }).getBlockLatestAccepted();
    } finally {
      await a.stop();
    }
    const file = join(dir, "exported.dump");
    const tsx = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));
    const script = fileURLToPath(new URL("../../scripts/snapshot.ts", import.meta.url));
    // Asynchronously: a blocked event loop would also block the in-process devnet's server.
    const r = await execFileAsync(process.execPath, [tsx, script, "export", file, "--db", db], { encoding: "utf8", timeout: 60_000 });
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ command: "export", head_hash: head.block_hash });
    await devnet.load(file);
    expect((await provider.getBlockLatestAccepted()).block_hash).toBe(head.block_hash);
    expect(await erc20Balance(ETH, d.accounts[2]!.address)).toBe(INITIAL + 11n);
  });
});

describe("a bad --dump-path at start", () => {
  it("fails the start with the dump's error", async () => {
    const path = join(dir, "garbage.dump");
    writeFileSync(path, "not a dump");
    await expect(startDevnet({ seed: 0, inMemory: true, dumpPath: path, port: 0 })).rejects.toThrow(/not a perpchain dump/);
  });
});

describe("devnet_getConfig", () => {
  it("has starknet-devnet's keys, plus ours", async () => {
    const c = await devnet.getConfig();
    expect(c).toMatchObject({
      seed: 0,
      total_accounts: 10,
      predeployed_accounts_initial_balance: INITIAL.toString(),
      gas_price_fri: Number(DEFAULT_GAS_PRICES.l1_gas),
      data_gas_price_fri: Number(DEFAULT_GAS_PRICES.l1_data_gas),
      l2_gas_price_fri: Number(DEFAULT_GAS_PRICES.l2_gas),
      chain_id: "SN_SEPOLIA",
      block_generation_on: "transaction",
      state_archive: "full",
      dump_on: null,
      dump_path: null,
      host: "127.0.0.1",
      port: d.port,
      eth_token_address: ETH,
      fee_token_address: STRK,
    });
    expect(c.account_contract_class_hash).toBe(d.contracts.Account0!.class_hash);
  });
});

describe("DECLARE", () => {
  it("is refused with 62: perpchain runs native contracts, not Cairo classes", async () => {
    const declare = {
      type: "DECLARE",
      version: "0x3",
      sender_address: d.accounts[0]!.address,
      compiled_class_hash: "0x1",
      signature: [],
      nonce: "0x0",
      contract_class: { sierra_program: [], contract_class_version: "0.1.0", entry_points_by_type: { CONSTRUCTOR: [], EXTERNAL: [], L1_HANDLER: [] }, abi: "[]" },
      resource_bounds: { l1_gas: { max_amount: "0x0", max_price_per_unit: "0x0" }, l1_data_gas: { max_amount: "0x0", max_price_per_unit: "0x0" }, l2_gas: { max_amount: "0x0", max_price_per_unit: "0x0" } },
      tip: "0x0",
      paymaster_data: [],
      account_deployment_data: [],
      nonce_data_availability_mode: "L1",
      fee_data_availability_mode: "L1",
    };
    const r = await rawRpc("starknet_addDeclareTransaction", JSON.stringify({ declare_transaction: declare }));
    expect(r.error).toEqual({ code: 62, message: "the contract class version is not supported" });
  });
});
