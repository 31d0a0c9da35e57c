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

/** 2023-11-14T22:13:20Z */
export const FIXED_CLOCK_MS = 1_700_000_000_000;
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
  /** Operator's update_market_data for `market` at `mark_e6`, waited for; returns the status (and revert reason). */
  setMarketData(market: bigint, mark_e6: bigint): Promise<string>;
  stop(): Promise<void>;
}

export async function startHarness(options: DevnetOptions): Promise<Harness> {
  // A fixed injected clock: block timestamps (and so block hashes) are the same on every run.
  const devnet = await startDevnet({ port: 0, clock: () => FIXED_CLOCK_MS, ...options });
  const recorder = new RpcRecorder();
  const provider = new RpcProvider({ nodeUrl: devnet.rpcUrl, baseFetch: recorder.fetch, transactionRetryIntervalFallback: 20 });
  const abis = new Map<string, Abi>();
  const harness: Harness = {
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
      // The devnet bootstraps genesis market data in block 1; an update must come after it
      // (later timestamp, higher sequence, funding index kept so the step is 0).
      const oracle = devnet.contracts.Oracle!.address;
      const prev = (await (await harness.contractAt(oracle)).get_market_data(market)) as Record<string, bigint>;
      const epoch = BigInt(devnet.node.epoch);
      const calldata = encodeArgs(oracleFns.updateMarketData.inputs, {
        market,
        mark_price: mark_e6,
        index_price: mark_e6,
        funding_rate: 0n,
        funding_index: prev.funding_index!,
        timestamp: prev.timestamp! + 60n,
        epoch,
        sequence: prev.epoch === epoch ? prev.sequence! + 1n : 1n,
      });
      const hash = await devnet.node.submitOperatorInvoke([{ to: BigInt(oracle), selector: selectorFromName("update_market_data"), calldata }]);
      const rec = await devnet.node.waitForTx(hash);
      return rec.receipt.revert_reason === undefined ? rec.receipt.execution_status : `${rec.receipt.execution_status}: ${String(rec.receipt.revert_reason)}`;
    },
    stop: () => devnet.stop(),
  };
  return harness;
}

/** u256 {low, high} or bigint as returned by a starknet.js Contract view → bigint. */
export function u256(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  const o = v as { low: bigint; high: bigint };
  return BigInt(o.low) + (BigInt(o.high) << 128n);
}
