// Cluster values and keys without etcd: records round-trip through msgpack and a malformed
// one is refused naming the field; keys sort numerically; the retention floor keeps every
// block a live member still needs and the window below the head.

import { pack } from "msgpackr";
import { describe, expect, it } from "vitest";
import { blockKey, blockNumberOfKey, chainPrefix, memberKey, prefixEnd, txBatchKey } from "../../sequencer/cluster/cluster-keys.js";
import { decodeBlockRecord, decodeMemberRecord, decodeTxBatchRecord, encodeRecord, type ClusterBlockRecord } from "../../sequencer/cluster/cluster-records.js";
import { retentionFloor } from "../../sequencer/cluster/retention.js";
import { fakeTx } from "../cluster/fake-block.js";

const block: ClusterBlockRecord = {
  block_number: 7,
  block_hash: "0x7aa",
  parent_hash: "0x6aa",
  state_root: "0x1234",
  timestamp_s: 1_700_000_007,
  token: "42",
  header_inputs: {
    sequencer_address: "0x1000",
    gas_prices_fri: { l1_gas: "0x174876e800", l1_data_gas: "0xf4240", l2_gas: "0x3b9aca00" },
    gas_prices_wei: { l1_gas: "0x1a13b8600", l1_data_gas: "0xbb8", l2_gas: "0x4c4b40" },
    unvalidated_senders: ["0x64"],
  },
  txs: [{ ...fakeTx("0x7"), signature: [1n, 2n ** 250n], nonce: 5n }],
};

describe("cluster records", () => {
  it("a block record round-trips through its msgpack bytes", () => {
    expect(decodeBlockRecord(encodeRecord(block))).toEqual(block);
  });

  it("refuses a block record with a malformed field, naming it", () => {
    expect(() => decodeBlockRecord(encodeRecord({ ...block, block_hash: "7aa" }))).toThrow("etcd block: field block_hash is missing or malformed");
    expect(() => decodeBlockRecord(encodeRecord({ ...block, token: "0" }))).toThrow("field token is missing or malformed");
    expect(() => decodeBlockRecord(pack([1, 2]))).toThrow("etcd block: not a record");
    const { gas_prices_wei: _, ...noWei } = block.header_inputs;
    expect(() => decodeBlockRecord(encodeRecord({ ...block, header_inputs: noWei as never }))).toThrow("etcd block: header_inputs: field gas_prices_wei is missing or malformed");
    expect(() => decodeBlockRecord(encodeRecord({ ...block, header_inputs: { ...block.header_inputs, unvalidated_senders: "some" as never } }))).toThrow("field unvalidated_senders is missing or malformed");
    expect(() => decodeBlockRecord(Buffer.from([0x85]))).toThrow(/etcd block: not msgpack/);
    // Transactions are typed values (felts as bigints), not JSON.
    expect(() => decodeBlockRecord(encodeRecord({ ...block, txs: [{ type: "INVOKE", version: "0x3", nonce: "0x0", signature: [] }] as never }))).toThrow("field txs is missing or malformed");
  });

  it("refuses a member record with an unknown role and a tx batch entry without a hash", () => {
    const m = { node_id: "n1", rpc_url: "http://127.0.0.1:1/rpc", role: "leader", applied_height: 3, applied_hash: "0x3" };
    expect(decodeMemberRecord(encodeRecord(m as never))).toEqual(m);
    expect(() => decodeMemberRecord(pack({ ...m, role: "boss" }))).toThrow("field role is missing or malformed");
    expect(() => decodeTxBatchRecord(pack({ token: "5", txs: [{ raw: {} }] }))).toThrow("etcd tx batch: malformed transaction entry");
    const batch = { token: "5", txs: [{ hash: "0x5", tx: fakeTx("0x5") }] };
    expect(decodeTxBatchRecord(encodeRecord(batch))).toEqual(batch);
  });
});

describe("cluster keys", () => {
  it("block keys sort in block order and parse back", () => {
    const keys = [10, 9, 100, 1].map(blockKey);
    expect([...keys].sort()).toEqual([1, 9, 10, 100].map(blockKey));
    expect(blockNumberOfKey(blockKey(123_456))).toBe(123_456);
    expect(txBatchKey("42", 3) < txBatchKey("142", 0)).toBe(true);
    expect(prefixEnd("blocks/")).toBe("blocks0");
  });

  it("refuses names that would escape the chain prefix", () => {
    expect(chainPrefix("SN_SEPOLIA")).toBe("/perpchain/SN_SEPOLIA/");
    expect(() => chainPrefix("a/b")).toThrow(RangeError);
    expect(() => memberKey("n 1")).toThrow(RangeError);
    expect(() => blockKey(-1)).toThrow(RangeError);
  });
});

describe("retention floor", () => {
  const member = (applied_height: number, role: "leader" | "follower" | "halted" = "follower") => ({ applied_height, role });

  it("keeps every block a live member has not applied", () => {
    expect(retentionFloor(1_000, [member(1_000, "leader"), member(400)], 100)).toBe(401);
  });

  it("keeps the retention window below the head when every member is caught up", () => {
    expect(retentionFloor(1_000, [member(1_000, "leader"), member(1_000)], 100)).toBe(901);
  });

  it("a halted member does not pin the chain; the floor never passes the head nor goes below 1", () => {
    expect(retentionFloor(1_000, [member(5, "halted"), member(1_000)], 10)).toBe(991);
    expect(retentionFloor(3, [], 100)).toBe(1);
    expect(retentionFloor(50, [member(80)], 1)).toBe(50);
    expect(() => retentionFloor(10, [], 0)).toThrow(RangeError);
  });
});
