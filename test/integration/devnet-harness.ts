// Shared set-up of the integration tests: a real devnet started in-process on 127.0.0.1,
// an unmodified starknet.js RpcProvider whose traffic is recorded for the conformance
// check, accounts and contracts built from what the node serves (getClassAt's ABI).
// Import "./ws-global.js" before this module in test files.

import { Account, Contract, RpcProvider, config, type Abi } from "starknet";
import { oracleFns } from "../../contracts/oracle.js";
import { encodeArgs } from "../../contracts/runtime/index.js";
import { startDevnet, type Devnet, type DevnetOptions } from "../../sequencer/devnet.js";
import { selectorFromName } from "../../state/crypto/hash.js";
import { encodeShortString } from "../../state/felt.js";
import { RpcRecorder } from "./rpc-recorder.js";

// starknet.js's tip analysis warns on every execute when there are fewer than 10 blocks of history.
config.set("logLevel", "ERROR");

export const BTC = encodeShortString("BTC-USD-PERP");
/** 100,000 USDC per BTC, price_e6. */
export const BTC_PRICE_E6 = 100_000_000_000n;

export interface Harness {
  devnet: Devnet;
  provider: RpcProvider;
  recorder: RpcRecorder;
  account(i: number): Account;
  contractAt(address: string, providerOrAccount?: RpcProvider | Account): Promise<Contract>;
  /** A raw JSON-RPC call over HTTP (recorded like the provider's). */
  rpc(method: string, params: unknown): Promise<{ result?: any; error?: { code: number; message: string; data?: unknown } }>;
  /** Operator's update_market_data for `market` at `mark_e6`, waited for; returns the receipt status. */
  setMarketData(market: bigint, mark_e6: bigint): Promise<string>;
  stop(): Promise<void>;
}

export async function startHarness(options: DevnetOptions): Promise<Harness> {
  const devnet = await startDevnet({ port: 0, ...options });
  const recorder = new RpcRecorder();
  const provider = new RpcProvider({ nodeUrl: devnet.rpcUrl, baseFetch: recorder.fetch, transactionRetryIntervalFallback: 20 });
  const abis = new Map<string, Abi>();
  let sequence = 0n;
  let timestamp_s = 1_700_000_000n;
  return {
    devnet,
    provider,
    recorder,
    account(i) {
      const a = devnet.accounts[i];
      if (a === undefined) throw new RangeError(`no predeployed account ${i}`);
      return new Account({ provider, address: a.address, signer: a.private_key });
    },
    async contractAt(address, providerOrAccount = provider) {
      let abi = abis.get(address);
      if (abi === undefined) {
        abi = ((await provider.getClassAt(address)) as { abi: Abi }).abi;
        abis.set(address, abi);
      }
      return new Contract({ abi, address, providerOrAccount });
    },
    async rpc(method, params) {
      const res = await recorder.fetch(devnet.rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      });
      return (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
    },
    async setMarketData(market, mark_e6) {
      sequence += 1n;
      timestamp_s += 60n;
      const calldata = encodeArgs(oracleFns.updateMarketData.inputs, {
        market,
        mark_price: mark_e6,
        index_price: mark_e6,
        funding_rate: 0n,
        funding_index: 0n,
        timestamp: timestamp_s,
        epoch: BigInt(devnet.node.epoch),
        sequence,
      });
      const oracle = BigInt(devnet.contracts.Oracle!.address);
      const hash = await devnet.node.submitOperatorInvoke([{ to: oracle, selector: selectorFromName("update_market_data"), calldata }]);
      const rec = await devnet.node.waitForTx(hash);
      return rec.receipt.execution_status;
    },
    stop: () => devnet.stop(),
  };
}

/** u256 {low, high} or bigint as returned by a starknet.js Contract view → bigint. */
export function u256(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  const o = v as { low: bigint; high: bigint };
  return BigInt(o.low) + (BigInt(o.high) << 128n);
}
