import { describe, expect, it } from "vitest";
import { InvalidParamsError, RpcError, toJsonRpcError } from "../../sequencer/errors.js";
import {
  QUERY_VERSION_3,
  parseBlockId,
  parseBroadcastedDeclareTxn,
  parseBroadcastedInvokeTxn,
  parseBroadcastedTxn,
  parseBroadcastedDeployAccountTxn,
  parseEstimateFeeFlags,
  parseEventFilter,
  parseFeltParam,
  parseFunctionCall,
  parseMsgFromL1,
  parseResourceBounds,
  parseSimulationFlags,
  parseStorageKey,
  parseStorageProofRequest,
  parseSubscriptionBlockId,
  parseU128,
  parseU64,
} from "../../sequencer/rpc/params.js";
import { SpecSchemas } from "../support/schema-validator.js";

const P = (1n << 251n) + 17n * (1n << 192n) + 1n;
const specs = SpecSchemas.load();

/** The JSON-RPC error object a throwing parse produces. */
function wire(fn: () => unknown): { code: number; message: string; data?: unknown } {
  try {
    fn();
  } catch (err) {
    if (err instanceof RpcError) return toJsonRpcError(err);
    throw err;
  }
  throw new Error("expected a throw");
}

const bounds = {
  l1_gas: { max_amount: "0x0", max_price_per_unit: "0x5af3107a4000" },
  l1_data_gas: { max_amount: "0x80", max_price_per_unit: "0x1" },
  l2_gas: { max_amount: "0xffffffffffffffff", max_price_per_unit: "0xffffffffffffffffffffffffffffffff" },
};

const invoke = {
  type: "INVOKE",
  version: "0x3",
  sender_address: "0x64b48806902a367c8598f4f95c305e8c1a1acba5f082d294a43793113115691",
  calldata: ["0x1", "0x2"],
  signature: ["0x3", "0x4"],
  nonce: "0x7",
  resource_bounds: bounds,
  tip: "0x0",
  paymaster_data: [],
  account_deployment_data: [],
  nonce_data_availability_mode: "L1",
  fee_data_availability_mode: "L1",
};

const deployAccount = {
  type: "DEPLOY_ACCOUNT",
  version: "0x3",
  signature: [],
  nonce: "0x0",
  contract_address_salt: "0x5",
  constructor_calldata: ["0x6"],
  class_hash: "0x7",
  resource_bounds: bounds,
  tip: "0x1",
  paymaster_data: [],
  nonce_data_availability_mode: "L2",
  fee_data_availability_mode: "L1",
};

describe("scalars", () => {
  it("parses felts with and without leading zeros and rejects values ≥ P", () => {
    expect(parseFeltParam("0x0", "f")).toBe(0n);
    expect(parseFeltParam("0x00000000000000000000000000000000000000000000000000000000000000ff", "f")).toBe(255n);
    expect(parseFeltParam("0x" + (P - 1n).toString(16), "f")).toBe(P - 1n);
    expect(wire(() => parseFeltParam("0x" + P.toString(16), "contract_address"))).toEqual({
      code: -32602,
      message: "Invalid params",
      data: "contract_address: felt is not below the field prime P",
    });
    expect(wire(() => parseFeltParam(5, "key")).data).toBe("key: expected a felt as a 0x-hex string, got number");
    expect(wire(() => parseFeltParam("12", "key")).data).toBe('key: expected a felt as 0x followed by 1 to 64 hex digits, got string "12"');
  });

  it("bounds storage keys to 2^251 and u64/u128 to their widths", () => {
    expect(parseStorageKey("0x" + ((1n << 251n) - 1n).toString(16), "key")).toBe((1n << 251n) - 1n);
    expect(wire(() => parseStorageKey("0x" + (1n << 251n).toString(16), "key")).data).toBe("key: storage key is not below 2^251");
    expect(parseU64("0xffffffffffffffff", "a")).toBe((1n << 64n) - 1n);
    expect(wire(() => parseU64("0x10000000000000000", "a")).data).toBe("a: value does not fit in u64");
    expect(parseU128("0xffffffffffffffffffffffffffffffff", "b")).toBe((1n << 128n) - 1n);
    expect(wire(() => parseU128("0x100000000000000000000000000000000", "b")).data).toBe("b: value does not fit in u128");
  });
});

describe("block ids", () => {
  it("parses the three 0.10 tags, block_number and block_hash", () => {
    expect(parseBlockId("latest")).toEqual({ kind: "tag", tag: "latest" });
    expect(parseBlockId("pre_confirmed")).toEqual({ kind: "tag", tag: "pre_confirmed" });
    expect(parseBlockId("l1_accepted")).toEqual({ kind: "tag", tag: "l1_accepted" });
    expect(parseBlockId({ block_number: 0 })).toEqual({ kind: "number", number: 0 });
    expect(parseBlockId({ block_hash: "0x1f" })).toEqual({ kind: "hash", hash: 31n });
  });

  it("rejects pending, negative numbers, both keys and empty objects with the field named", () => {
    expect(wire(() => parseBlockId("pending")).data).toBe('block_id: tag "pending" was renamed "pre_confirmed" in JSON-RPC 0.9');
    expect(wire(() => parseBlockId({ block_number: -1 })).data).toBe("block_id.block_number: expected a non-negative integer, got -1");
    expect(wire(() => parseBlockId({ block_number: 1, block_hash: "0x1" })).data).toBe(
      "block_id: give either block_number or block_hash, not both",
    );
    expect(wire(() => parseBlockId({}, "filter.from_block")).data).toBe(
      'filter.from_block: expected "latest", "pre_confirmed", "l1_accepted", {block_number} or {block_hash}',
    );
  });

  it("restricts subscription block ids to latest, numbers and hashes", () => {
    expect(parseSubscriptionBlockId("latest")).toEqual({ kind: "tag", tag: "latest" });
    expect(wire(() => parseSubscriptionBlockId("l1_accepted")).data).toBe('block_id: tag "l1_accepted" is not allowed for subscriptions');
  });
});

describe("transactions", () => {
  it("parses an INVOKE v3 into bigint fields", () => {
    const tx = parseBroadcastedInvokeTxn(invoke);
    expect(tx).toEqual({
      type: "INVOKE",
      version: 3n,
      isQuery: false,
      senderAddress: 0x64b48806902a367c8598f4f95c305e8c1a1acba5f082d294a43793113115691n,
      calldata: [1n, 2n],
      signature: [3n, 4n],
      nonce: 7n,
      resourceBounds: {
        l1Gas: { maxAmount: 0n, maxPricePerUnit: 0x5af3107a4000n },
        l1DataGas: { maxAmount: 0x80n, maxPricePerUnit: 1n },
        l2Gas: { maxAmount: (1n << 64n) - 1n, maxPricePerUnit: (1n << 128n) - 1n },
      },
      tip: 0n,
      paymasterData: [],
      accountDeploymentData: [],
      nonceDataAvailabilityMode: "L1",
      feeDataAvailabilityMode: "L1",
    });
    expect(specs.validateComponent(invoke, "BROADCASTED_INVOKE_TXN")).toEqual([]);
  });

  it("marks the query version 2^128 + 3", () => {
    const tx = parseBroadcastedInvokeTxn({ ...invoke, version: "0x100000000000000000000000000000003" });
    expect(tx.version).toBe(QUERY_VERSION_3);
    expect(tx.isQuery).toBe(true);
  });

  it("refuses versions other than 3 with UNSUPPORTED_TX_VERSION", () => {
    expect(wire(() => parseBroadcastedInvokeTxn({ ...invoke, version: "0x1" }))).toEqual({
      code: 61,
      message: "the transaction version is not supported",
    });
  });

  it("names the exact field that is missing or malformed", () => {
    const { tip: _tip, ...noTip } = invoke;
    expect(wire(() => parseBroadcastedInvokeTxn(noTip)).data).toBe("invoke_transaction.tip: missing required field");
    const badBound = { ...invoke, resource_bounds: { ...bounds, l2_gas: { max_amount: "0x10000000000000000", max_price_per_unit: "0x1" } } };
    expect(wire(() => parseBroadcastedInvokeTxn(badBound)).data).toBe(
      "invoke_transaction.resource_bounds.l2_gas.max_amount: value does not fit in u64",
    );
    expect(wire(() => parseBroadcastedInvokeTxn({ ...invoke, calldata: ["0x1", "zz"] })).data).toBe(
      'invoke_transaction.calldata[1]: expected a felt as 0x followed by 1 to 64 hex digits, got string "zz"',
    );
    expect(wire(() => parseBroadcastedInvokeTxn({ ...invoke, fee_data_availability_mode: "L3" })).data).toBe(
      'invoke_transaction.fee_data_availability_mode: expected one of L1, L2, got string "L3"',
    );
    expect(wire(() => parseBroadcastedInvokeTxn({ ...invoke, type: "DEPLOY_ACCOUNT" })).data).toBe(
      'invoke_transaction.type: expected "INVOKE", got string "DEPLOY_ACCOUNT"',
    );
    expect(wire(() => parseResourceBounds({ l1_gas: bounds.l1_gas }, "rb")).data).toBe("rb.l1_data_gas: missing required field");
  });

  it("parses a DEPLOY_ACCOUNT v3", () => {
    const tx = parseBroadcastedDeployAccountTxn(deployAccount);
    expect([tx.type, tx.contractAddressSalt, tx.constructorCalldata, tx.classHash, tx.tip, tx.nonceDataAvailabilityMode]).toEqual([
      "DEPLOY_ACCOUNT",
      5n,
      [6n],
      7n,
      1n,
      "L2",
    ]);
    expect(specs.validateComponent(deployAccount, "BROADCASTED_DEPLOY_ACCOUNT_TXN")).toEqual([]);
  });

  it("refuses DECLARE with 62 and dispatches BROADCASTED_TXN by type", () => {
    expect(wire(() => parseBroadcastedDeclareTxn({ type: "DECLARE" }))).toEqual({
      code: 62,
      message: "the contract class version is not supported",
    });
    expect(parseBroadcastedTxn(deployAccount, "request[0]").type).toBe("DEPLOY_ACCOUNT");
    expect(wire(() => parseBroadcastedTxn({ type: "DECLARE" }, "request[1]")).code).toBe(62);
    expect(wire(() => parseBroadcastedTxn({ type: "L1_HANDLER" }, "request[2]")).data).toBe(
      'request[2].type: expected "INVOKE", "DEPLOY_ACCOUNT" or "DECLARE", got string "L1_HANDLER"',
    );
  });
});

describe("calls, events, messages, proofs, flags", () => {
  it("parses a FUNCTION_CALL", () => {
    expect(parseFunctionCall({ contract_address: "0x1", entry_point_selector: "0x2", calldata: [] })).toEqual({
      contractAddress: 1n,
      entryPointSelector: 2n,
      calldata: [],
    });
    expect(wire(() => parseFunctionCall({ contract_address: "0x1", calldata: [] })).data).toBe("request.entry_point_selector: missing required field");
  });

  it("parses an event filter with page request and enforces page size and key limits", () => {
    const f = parseEventFilter({
      from_block: { block_number: 1 },
      to_block: "latest",
      address: "0x10",
      keys: [["0x1"], []],
      chunk_size: 100,
      continuation_token: "5-2",
    });
    expect(f).toEqual({
      fromBlock: { kind: "number", number: 1 },
      toBlock: { kind: "tag", tag: "latest" },
      addresses: [16n],
      keys: [[1n], []],
      chunkSize: 100,
      continuationToken: "5-2",
    });
    expect(parseEventFilter({ chunk_size: 1, address: ["0x1", "0x2"] }).addresses).toEqual([1n, 2n]);
    const limits = { maxChunkSize: 100, maxKeys: 2, maxAddresses: 10 };
    expect(wire(() => parseEventFilter({ chunk_size: 101 }, "filter", limits))).toEqual({ code: 31, message: "Requested page size is too big" });
    expect(wire(() => parseEventFilter({ chunk_size: 1, keys: [["0x1", "0x2"], ["0x3"]] }, "filter", limits))).toEqual({
      code: 34,
      message: "Too many keys provided in a filter",
    });
    expect(wire(() => parseEventFilter({ chunk_size: 0 })).data).toBe("filter.chunk_size: expected an integer ≥ 1, got 0");
    expect(wire(() => parseEventFilter({})).data).toBe("filter.chunk_size: missing required field");
  });

  it("parses MSG_FROM_L1 with a 160-bit Ethereum sender", () => {
    expect(
      parseMsgFromL1({ from_address: "0x" + "ab".repeat(20), to_address: "0x1", entry_point_selector: "0x2", payload: ["0x3"] }),
    ).toEqual({ fromAddress: BigInt("0x" + "ab".repeat(20)), toAddress: 1n, entryPointSelector: 2n, payload: [3n] });
    expect(wire(() => parseMsgFromL1({ from_address: "0x1", to_address: "0x1", entry_point_selector: "0x2", payload: [] })).data).toBe(
      'message.from_address: expected an Ethereum address (0x + 40 hex digits), got string "0x1"',
    );
  });

  it("parses storage-proof params and refuses pre_confirmed", () => {
    expect(
      parseStorageProofRequest({
        block_id: { block_number: 3 },
        contracts_storage_keys: [{ contract_address: "0x5", storage_keys: ["0x1", "0x2"] }],
      }),
    ).toEqual({
      blockId: { kind: "number", number: 3 },
      classHashes: [],
      contractAddresses: [],
      contractsStorageKeys: [{ contractAddress: 5n, storageKeys: [1n, 2n] }],
    });
    expect(wire(() => parseStorageProofRequest({ block_id: "pre_confirmed" })).data).toBe(
      'block_id: tag "pre_confirmed" is not allowed here',
    );
  });

  it("parses simulation flags per method and rejects unknown ones", () => {
    expect(parseEstimateFeeFlags(["SKIP_VALIDATE"])).toEqual(["SKIP_VALIDATE"]);
    expect(wire(() => parseEstimateFeeFlags(["SKIP_FEE_CHARGE"])).data).toBe(
      'simulation_flags[0]: expected one of SKIP_VALIDATE, got string "SKIP_FEE_CHARGE"',
    );
    expect(parseSimulationFlags(["SKIP_FEE_CHARGE", "SKIP_VALIDATE", "SKIP_VALIDATE"])).toEqual(["SKIP_FEE_CHARGE", "SKIP_VALIDATE"]);
  });

  it("throws InvalidParamsError instances carrying the field", () => {
    try {
      parseFeltParam(null, "transaction_hash");
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidParamsError);
      expect((err as InvalidParamsError).field).toBe("transaction_hash");
      return;
    }
    throw new Error("expected a throw");
  });
});
