// Block hashes and header commitments reproduced from real sepolia-integration blocks
// (0.13.2 and 0.13.4 formulas); vectors and provenance in test/vectors/blocks/.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Felt } from "../../state/felt.js";
import {
  blockHash,
  computeBlockHeader,
  gasPricesHash,
  starknetVersionFelt,
  type BlockHeaderInput,
  type ExecutedTransactionForBlock,
  type GasPrice,
} from "../../state/block-hash.js";
import { CommitmentInputError, type StateDiffForCommitment } from "../../state/commitments.js";

const readVector = (name: string) => JSON.parse(readFileSync(new URL(`../vectors/blocks/${name}`, import.meta.url), "utf8"));
const f = (x: string | number): Felt => BigInt(x);

function gasPrice(p: { price_in_wei: string; price_in_fri: string } | undefined): GasPrice {
  return p ? { priceInWei: f(p.price_in_wei), priceInFri: f(p.price_in_fri) } : { priceInWei: 0n, priceInFri: 0n };
}

/** Feeder-gateway state_update.state_diff → our state diff shape. */
function stateDiffFromFeeder(sd: any): StateDiffForCommitment {
  const diff: StateDiffForCommitment = { storage: new Map(), nonces: new Map(), deployed: new Map(), declared: new Map() };
  for (const [addr, writes] of Object.entries<any[]>(sd.storage_diffs)) {
    diff.storage.set(f(addr), new Map(writes.map((w) => [f(w.key), f(w.value)])));
  }
  for (const [addr, nonce] of Object.entries<string>(sd.nonces)) diff.nonces.set(f(addr), f(nonce));
  for (const d of sd.deployed_contracts) diff.deployed.set(f(d.address), f(d.class_hash));
  for (const r of sd.replaced_classes) diff.deployed.set(f(r.address ?? r.contract_address), f(r.class_hash));
  for (const c of sd.declared_classes) diff.declared.set(f(c.class_hash), f(c.compiled_class_hash));
  diff.deprecatedDeclared = sd.old_declared_contracts.map(f);
  return diff;
}

/** Feeder-gateway block + state update → header input. */
function headerInputFromFeeder(block: any, stateUpdate: any): BlockHeaderInput {
  const receipts = new Map<string, any>(block.transaction_receipts.map((r: any) => [r.transaction_hash, r]));
  const transactions: ExecutedTransactionForBlock[] = block.transactions.map((t: any) => {
    const r = receipts.get(t.transaction_hash);
    return {
      hash: f(t.transaction_hash),
      signature: (t.signature ?? []).map(f),
      events: r.events.map((e: any) => ({ fromAddress: f(e.from_address), keys: e.keys.map(f), data: e.data.map(f) })),
      actualFee: f(r.actual_fee),
      messagesSent: r.l2_to_l1_messages.map((m: any) => ({ fromAddress: f(m.from_address), toAddress: f(m.to_address), payload: m.payload.map(f) })),
      ...(r.execution_status === "REVERTED" ? { revertReason: r.revert_error ?? "" } : {}),
      l1Gas: f(r.execution_resources.total_gas_consumed.l1_gas),
      l1DataGas: f(r.execution_resources.total_gas_consumed.l1_data_gas),
    };
  });
  return {
    blockNumber: block.block_number,
    parentHash: f(block.parent_block_hash),
    stateRoot: f(block.state_root),
    sequencerAddress: f(block.sequencer_address),
    timestamp: block.timestamp,
    l1DaMode: block.l1_da_mode,
    l1GasPrice: gasPrice(block.l1_gas_price),
    l1DataGasPrice: gasPrice(block.l1_data_gas_price),
    l2GasPrice: gasPrice(block.l2_gas_price),
    starknetVersion: block.starknet_version,
    transactions,
    stateDiff: stateDiffFromFeeder(stateUpdate.state_diff),
  };
}

describe.each([
  ["0.13.4 (STARKNET_BLOCK_HASH1, gas prices hashed with L2 gas)", "sepolia-integration-63881"],
  ["0.13.2 (STARKNET_BLOCK_HASH0, four raw gas prices)", "sepolia-integration-35748"],
])("real block %s", (_label, name) => {
  const block = readVector(`${name}.block.json`);
  const stateUpdate = readVector(`${name}.state-update.json`);

  it("reproduces every header commitment, the counts and the block hash", async () => {
    const header = await computeBlockHeader(headerInputFromFeeder(block, stateUpdate));
    expect(header.transactionCommitment).toBe(f(block.transaction_commitment));
    expect(header.eventCommitment).toBe(f(block.event_commitment));
    expect(header.receiptCommitment).toBe(f(block.receipt_commitment));
    expect(header.stateDiffCommitment).toBe(f(block.state_diff_commitment));
    expect(header.stateDiffLength).toBe(block.state_diff_length);
    expect(header.transactionCount).toBe(block.transactions.length);
    expect(header.blockHash).toBe(f(block.block_hash));
    expect(stateUpdate.block_hash).toBe(block.block_hash);
  });

  it("changes the hash when any header field changes", async () => {
    const input = headerInputFromFeeder(block, stateUpdate);
    const header = await computeBlockHeader(input);
    expect(blockHash({ ...header, timestamp: header.timestamp + 1 })).not.toBe(header.blockHash);
    expect(blockHash({ ...header, parentHash: header.parentHash + 1n })).not.toBe(header.blockHash);
    expect(blockHash({ ...header, l1DaMode: header.l1DaMode === "BLOB" ? "CALLDATA" : "BLOB" })).not.toBe(header.blockHash);
  });
});

describe("block hash details", () => {
  it("hashes the L2 gas price from 0.13.4 on and ignores it before", async () => {
    const block = readVector("sepolia-integration-35748.block.json");
    const stateUpdate = readVector("sepolia-integration-35748.state-update.json");
    const header = await computeBlockHeader(headerInputFromFeeder(block, stateUpdate));
    const l2GasPrice = { priceInWei: 5n, priceInFri: 6n };
    expect(blockHash({ ...header, l2GasPrice })).toBe(header.blockHash);
    const v1 = { ...header, starknetVersion: "0.14.0" };
    expect(blockHash({ ...v1, l2GasPrice })).not.toBe(blockHash(v1));
  });

  it("encodes the version as an ASCII felt and the gas-price hash with its prefix", () => {
    expect(starknetVersionFelt("0.13.4")).toBe(0x302e31332e34n);
    const a = gasPricesHash({ priceInWei: 1n, priceInFri: 2n }, { priceInWei: 3n, priceInFri: 4n }, { priceInWei: 5n, priceInFri: 6n });
    const b = gasPricesHash({ priceInWei: 1n, priceInFri: 2n }, { priceInWei: 3n, priceInFri: 4n }, { priceInWei: 6n, priceInFri: 5n });
    expect(a).not.toBe(b);
  });

  it("rejects versions older than 0.13.2 and malformed input with CommitmentInputError", async () => {
    const block = readVector("sepolia-integration-63881.block.json");
    const stateUpdate = readVector("sepolia-integration-63881.state-update.json");
    const input = headerInputFromFeeder(block, stateUpdate);
    await expect(computeBlockHeader({ ...input, starknetVersion: "0.13.1" })).rejects.toThrow(CommitmentInputError);
    await expect(computeBlockHeader({ ...input, starknetVersion: "v0.14" })).rejects.toThrow(/starknet_version/);
    await expect(computeBlockHeader({ ...input, timestamp: -1 })).rejects.toThrow(/timestamp/);
    await expect(computeBlockHeader({ ...input, l1GasPrice: { priceInWei: 1n << 128n, priceInFri: 0n } })).rejects.toThrow(/l1_gas_price.price_in_wei/);
  });
});
