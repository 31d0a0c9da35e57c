// Transaction hashes and contract addresses against real Starknet transactions
// (vectors under test/vectors/tx-hash/, see PROVENANCE.md there) and against starknet.js.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { hash as sjHash } from "starknet";
import { encodeShortString, P, type Felt } from "../../state/felt.js";
import {
  calculateContractAddress,
  declareV3Hash,
  deployAccountAddress,
  deployAccountV3Hash,
  invokeV3Hash,
  packDataAvailabilityModes,
  TxHashInputError,
  type DataAvailabilityMode,
  type InvokeV3,
  type ResourceBound,
  type ResourceBounds,
  type DeployAccountV3,
} from "../../state/tx-hash.js";

const VECTORS = new URL("../vectors/tx-hash/", import.meta.url);
const readJson = (name: string) => JSON.parse(readFileSync(new URL(name, VECTORS), "utf8"));
const f = (x: string | number): Felt => BigInt(x);
const fs = (xs: readonly string[]): Felt[] => xs.map(f);
const SN_MAIN = encodeShortString("SN_MAIN");
const SN_INTEGRATION_SEPOLIA = encodeShortString("SN_INTEGRATION_SEPOLIA");

function bound(b: { max_amount: string; max_price_per_unit: string }): ResourceBound {
  return { maxAmount: f(b.max_amount), maxPricePerUnit: f(b.max_price_per_unit) };
}
function bounds(rb: Record<string, { max_amount: string; max_price_per_unit: string }>): ResourceBounds {
  const out: ResourceBounds = { l1Gas: bound(rb.L1_GAS!), l2Gas: bound(rb.L2_GAS!) };
  if (rb.L1_DATA_GAS) out.l1DataGas = bound(rb.L1_DATA_GAS);
  return out;
}
/** Feeder gateway writes DA modes as 0/1, starknet_api as "L1"/"L2". */
function da(m: string | number): DataAvailabilityMode {
  return m === "L1" || m === 0 ? "L1" : m === "L2" || m === 1 ? "L2" : (() => { throw new Error(`bad DA ${m}`); })();
}

// starknet_api resources/transaction_hash.json: real mainnet transactions, old (two-resource) v3 bounds.
const apiVectors: any[] = readJson("starknet-api-transaction-hash.json");
const apiV3 = (kind: string) => apiVectors.filter((v) => v.transaction[kind]?.V3);

function invokeFromApi(t: any, chainId: Felt): InvokeV3 {
  return {
    chainId,
    senderAddress: f(t.sender_address),
    nonce: f(t.nonce),
    tip: f(t.tip),
    resourceBounds: bounds(t.resource_bounds),
    paymasterData: fs(t.paymaster_data),
    nonceDataAvailabilityMode: da(t.nonce_data_availability_mode),
    feeDataAvailabilityMode: da(t.fee_data_availability_mode),
    calldata: fs(t.calldata),
    accountDeploymentData: fs(t.account_deployment_data),
    ...(t.proof_facts ? { proofFacts: fs(t.proof_facts) } : {}),
  };
}

describe("INVOKE v3 hash", () => {
  it("reproduces mainnet invoke v3 hashes and their query-version hashes (starknet_api vectors)", () => {
    const cases = apiV3("Invoke");
    expect(cases.length).toBe(2);
    for (const v of cases) {
      const tx = invokeFromApi(v.transaction.Invoke.V3, encodeShortString(v.chain_id));
      expect(invokeV3Hash(tx)).toBe(f(v.transaction_hash));
      expect(invokeV3Hash({ ...tx, query: true })).toBe(f(v.only_query_transaction_hash));
    }
  });

  it("reproduces the nine three-resource invoke v3 hashes of sepolia-integration 0.14.0 block 955821", () => {
    const block = readJson("sepolia-integration-955821.preconfirmed-block.json");
    const txs = block.transactions.filter((t: any) => t.type === "INVOKE_FUNCTION" && t.version === "0x3");
    expect(txs.length).toBe(9);
    for (const t of txs) {
      expect(t.resource_bounds.L1_DATA_GAS).toBeDefined();
      expect(invokeV3Hash(invokeFromApi(t, SN_INTEGRATION_SEPOLIA))).toBe(f(t.transaction_hash));
    }
  });

  it("reproduces the invoke v3 hash in sepolia-integration 0.13.4 block 63881", () => {
    const block = JSON.parse(readFileSync(new URL("../vectors/blocks/sepolia-integration-63881.block.json", import.meta.url), "utf8"));
    const t = block.transactions[1];
    expect(invokeV3Hash(invokeFromApi(t, SN_INTEGRATION_SEPOLIA))).toBe(f("0x2a7ab0b4f9df4d00b5459319bec5f5df84f88c2b61d09e3fbb80557bcb2ddc8"));
  });

  it("changes when the L1 data gas bound is present, even at zero", () => {
    const t = invokeFromApi(apiV3("Invoke")[0].transaction.Invoke.V3, SN_MAIN);
    const withData = invokeV3Hash({ ...t, resourceBounds: { ...t.resourceBounds, l1DataGas: { maxAmount: 0n, maxPricePerUnit: 0n } } });
    expect(withData).not.toBe(invokeV3Hash(t));
  });

  it("agrees with starknet.js on a three-resource invoke with tip, paymaster data, L2 DA modes and both versions", () => {
    const tx: InvokeV3 = {
      chainId: SN_MAIN,
      senderAddress: 0x69c0f9bcd79697bdceaf7748e3ff8f34aa39e4063ce44896af664c0c96f6c10n,
      nonce: 0x9dn,
      tip: 0x1234n,
      resourceBounds: {
        l1Gas: { maxAmount: 0xa9en, maxPricePerUnit: 0x7f2a1ad4f2f1n },
        l2Gas: { maxAmount: 0x5f5e100n, maxPricePerUnit: 0xba43b7400n },
        l1DataGas: { maxAmount: 0x2710n, maxPricePerUnit: 0x2d79883d20000n },
      },
      paymasterData: [7n, 8n],
      nonceDataAvailabilityMode: "L2",
      feeDataAvailabilityMode: "L1",
      calldata: [1n, 2n, 3n, P - 1n],
      accountDeploymentData: [9n],
    };
    for (const query of [false, true]) {
      const ours = invokeV3Hash({ ...tx, query });
      const theirs = sjHash.calculateInvokeTransactionHash({
        senderAddress: "0x" + tx.senderAddress.toString(16),
        version: query ? "0x100000000000000000000000000000003" : "0x3",
        compiledCalldata: tx.calldata.map((x) => x.toString()),
        chainId: "0x" + tx.chainId.toString(16),
        nonce: tx.nonce,
        accountDeploymentData: tx.accountDeploymentData.map((x) => x.toString()),
        nonceDataAvailabilityMode: 1,
        feeDataAvailabilityMode: 0,
        resourceBounds: {
          l1_gas: { max_amount: 0xa9en, max_price_per_unit: 0x7f2a1ad4f2f1n },
          l2_gas: { max_amount: 0x5f5e100n, max_price_per_unit: 0xba43b7400n },
          l1_data_gas: { max_amount: 0x2710n, max_price_per_unit: 0x2d79883d20000n },
        },
        tip: tx.tip,
        paymasterData: tx.paymasterData.map((x) => x.toString()),
      } as any);
      expect(ours).toBe(BigInt(theirs));
    }
  });

  it("rejects out-of-range fields with a TxHashInputError naming the field", () => {
    const t = invokeFromApi(apiV3("Invoke")[0].transaction.Invoke.V3, SN_MAIN);
    expect(() => invokeV3Hash({ ...t, tip: 1n << 64n })).toThrow(/tip: out of range/);
    expect(() => invokeV3Hash({ ...t, calldata: [1n, P] })).toThrow(TxHashInputError);
    expect(() => invokeV3Hash({ ...t, calldata: [1n, P] })).toThrow(/calldata\[1\]/);
    expect(() =>
      invokeV3Hash({ ...t, resourceBounds: { ...t.resourceBounds, l2Gas: { maxAmount: 0n, maxPricePerUnit: 1n << 128n } } }),
    ).toThrow(/resource_bounds.l2_gas.max_price_per_unit/);
    expect(() => invokeV3Hash({ ...t, feeDataAvailabilityMode: "L3" as DataAvailabilityMode })).toThrow(/fee_data_availability_mode/);
    expect(() => invokeV3Hash({ ...t, senderAddress: -1n })).toThrow(/sender_address/);
  });
});

describe("DEPLOY_ACCOUNT v3 hash", () => {
  function deployFromApi(t: any, chainId: Felt): DeployAccountV3 {
    return {
      chainId,
      nonce: f(t.nonce),
      tip: f(t.tip),
      resourceBounds: bounds(t.resource_bounds),
      paymasterData: fs(t.paymaster_data),
      nonceDataAvailabilityMode: da(t.nonce_data_availability_mode),
      feeDataAvailabilityMode: da(t.fee_data_availability_mode),
      classHash: f(t.class_hash),
      contractAddressSalt: f(t.contract_address_salt),
      constructorCalldata: fs(t.constructor_calldata),
    };
  }

  it("reproduces a mainnet deploy_account v3 hash and its query hash (starknet_api vector)", () => {
    const [v] = apiV3("DeployAccount");
    const tx = deployFromApi(v.transaction.DeployAccount.V3, SN_MAIN);
    expect(deployAccountV3Hash(tx)).toBe(f(v.transaction_hash));
    expect(deployAccountV3Hash({ ...tx, query: true })).toBe(f(v.only_query_transaction_hash));
  });

  it("agrees with starknet.js on a three-resource deploy_account", () => {
    const tx: DeployAccountV3 = {
      chainId: SN_INTEGRATION_SEPOLIA,
      nonce: 0n,
      tip: 5n,
      resourceBounds: {
        l1Gas: { maxAmount: 0x4cn, maxPricePerUnit: 0x8ab967606cb9n },
        l2Gas: { maxAmount: 0x100000n, maxPricePerUnit: 0x10n },
        l1DataGas: { maxAmount: 0x80n, maxPricePerUnit: 0x99n },
      },
      paymasterData: [],
      nonceDataAvailabilityMode: "L1",
      feeDataAvailabilityMode: "L1",
      classHash: 0x13bfe114fb1cf405bfc3a7f8dbe2d91db146c17521d40dcf57e16d6b59fa8e6n,
      contractAddressSalt: 0x1f218cfa725d1679ff028c53d094a765dfd1de632787cab37ffe10f3915dcc7n,
      constructorCalldata: [0x1f218cfa725d1679ff028c53d094a765dfd1de632787cab37ffe10f3915dcc7n, 4n],
    };
    const address = deployAccountAddress(tx);
    const theirsAddress = sjHash.calculateContractAddressFromHash(
      tx.contractAddressSalt, tx.classHash, tx.constructorCalldata.map((x) => x.toString()), 0,
    );
    expect(address).toBe(BigInt(theirsAddress));
    const theirs = sjHash.calculateDeployAccountTransactionHash({
      contractAddress: "0x" + address.toString(16),
      classHash: "0x" + tx.classHash.toString(16),
      compiledConstructorCalldata: tx.constructorCalldata.map((x) => x.toString()),
      salt: "0x" + tx.contractAddressSalt.toString(16),
      version: "0x3",
      chainId: "0x" + tx.chainId.toString(16),
      nonce: 0n,
      nonceDataAvailabilityMode: 0,
      feeDataAvailabilityMode: 0,
      resourceBounds: {
        l1_gas: { max_amount: 0x4cn, max_price_per_unit: 0x8ab967606cb9n },
        l2_gas: { max_amount: 0x100000n, max_price_per_unit: 0x10n },
        l1_data_gas: { max_amount: 0x80n, max_price_per_unit: 0x99n },
      },
      tip: 5n,
      paymasterData: [],
    } as any);
    expect(deployAccountV3Hash(tx)).toBe(BigInt(theirs));
  });
});

describe("DECLARE v3 hash", () => {
  it("reproduces a mainnet declare v3 hash and its query hash (starknet_api vector)", () => {
    const [v] = apiV3("Declare");
    const t = v.transaction.Declare.V3;
    const tx = {
      chainId: SN_MAIN,
      senderAddress: f(t.sender_address),
      nonce: f(t.nonce),
      tip: f(t.tip),
      resourceBounds: bounds(t.resource_bounds),
      paymasterData: fs(t.paymaster_data),
      nonceDataAvailabilityMode: da(t.nonce_data_availability_mode),
      feeDataAvailabilityMode: da(t.fee_data_availability_mode),
      classHash: f(t.class_hash),
      compiledClassHash: f(t.compiled_class_hash),
      accountDeploymentData: fs(t.account_deployment_data),
    };
    expect(declareV3Hash(tx)).toBe(f(v.transaction_hash));
    expect(declareV3Hash({ ...tx, query: true })).toBe(f(v.only_query_transaction_hash));
  });
});

describe("contract address", () => {
  it("matches starknet.js for a non-zero deployer and empty calldata", () => {
    const deployer = 0x41a78e741e5af2fec34b695679bc6891742439f7afb8484ecd7766661ad02bfn;
    for (const calldata of [[], [1n, 2n, 3n]] as Felt[][]) {
      const ours = calculateContractAddress(42n, 0x1234n, calldata, deployer);
      const theirs = sjHash.calculateContractAddressFromHash(42n, 0x1234n, calldata.map(String), deployer);
      expect(ours).toBe(BigInt(theirs));
    }
  });

  it("derives the mainnet deploy_account sender address whose hash the sequencer vectors attest", () => {
    // The deploy_account hash above commits to this address; check it against starknet.js too.
    const [v] = apiV3("DeployAccount");
    const t = v.transaction.DeployAccount.V3;
    const ours = calculateContractAddress(f(t.contract_address_salt), f(t.class_hash), fs(t.constructor_calldata), 0n);
    expect(ours).toBe(BigInt(sjHash.calculateContractAddressFromHash(t.contract_address_salt, t.class_hash, t.constructor_calldata, 0)));
  });

  it("rejects a salt that is not a felt", () => {
    expect(() => calculateContractAddress(P, 1n, [], 0n)).toThrow(/contract_address_salt/);
  });
});

describe("data availability packing", () => {
  it("packs nonce mode in the high 32 bits and fee mode in the low bits", () => {
    expect(packDataAvailabilityModes("L1", "L1")).toBe(0n);
    expect(packDataAvailabilityModes("L1", "L2")).toBe(1n);
    expect(packDataAvailabilityModes("L2", "L1")).toBe(1n << 32n);
  });
});
