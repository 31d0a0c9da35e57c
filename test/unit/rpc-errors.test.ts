import { describe, expect, it } from "vitest";
import {
  BlockNotFoundError,
  ContractError,
  DeclareNotSupportedError,
  InvalidParamsError,
  InvalidTransactionNonceError,
  JSON_RPC_ERRORS,
  NoTraceAvailableError,
  NodeNotReadyError,
  OPERATOR_ERRORS,
  PRIVATE_CODE_MAX,
  PRIVATE_CODE_MIN,
  RollbackRefusedError,
  RpcError,
  STARKNET_ERRORS,
  TransactionExecutionError,
  UnexpectedError,
  ValidationFailureError,
  toJsonRpcError,
  type ErrorLogger,
} from "../../sequencer/errors.js";
import { SpecSchemas } from "../support/schema-validator.js";

const specs = SpecSchemas.load();

function specErrorTable(): Map<string, { code: number; message: string }> {
  const out = new Map<string, { code: number; message: string }>();
  for (const f of specs.files()) {
    const errors = ((specs.document(f).components as Record<string, unknown>)?.errors ?? {}) as Record<
      string,
      { code: number; message: string }
    >;
    for (const [name, e] of Object.entries(errors)) out.set(name, { code: e.code, message: e.message });
  }
  return out;
}

function capture(): ErrorLogger & { records: { event: string; fields: Record<string, unknown> }[] } {
  const records: { event: string; fields: Record<string, unknown> }[] = [];
  return { records, error: (event, fields) => void records.push({ event, fields }) };
}

describe("error table", () => {
  it("has exactly the spec's error names, codes and messages", () => {
    const spec = specErrorTable();
    expect(spec.size).toBe(35);
    expect(Object.keys(STARKNET_ERRORS).sort()).toEqual([...spec.keys()].sort());
    for (const [name, e] of spec) expect(STARKNET_ERRORS[name as keyof typeof STARKNET_ERRORS]).toEqual(e);
  });

  it("uses unique codes, operator codes inside the documented private range", () => {
    const all = [...Object.values(STARKNET_ERRORS), ...Object.values(JSON_RPC_ERRORS), ...Object.values(OPERATOR_ERRORS)];
    expect(new Set(all.map((e) => e.code)).size).toBe(all.length);
    for (const e of Object.values(OPERATOR_ERRORS)) {
      expect(e.code).toBeGreaterThanOrEqual(PRIVATE_CODE_MIN);
      expect(e.code).toBeLessThanOrEqual(PRIVATE_CODE_MAX);
    }
  });

  it("answers a spec error with its code and message, detail only in Error.message", () => {
    const err = new BlockNotFoundError("block 42 does not exist");
    expect(err).toBeInstanceOf(RpcError);
    expect(err.message).toBe("Block not found: block 42 does not exist");
    expect(toJsonRpcError(err)).toEqual({ code: 24, message: "Block not found" });
  });

  it("puts data in the spec's shape for errors that define data", () => {
    const revert = { contract_address: "0x1", class_hash: "0x2", selector: "0x3", error: "assert failed" };
    const cases: [RpcError, string][] = [
      [new ContractError(revert), "CONTRACT_ERROR"],
      [new TransactionExecutionError(2, "out of gas"), "TRANSACTION_EXECUTION_ERROR"],
      [new NoTraceAvailableError("RECEIVED"), "NO_TRACE_AVAILABLE"],
      [new InvalidTransactionNonceError("expected 3, got 2"), "INVALID_TRANSACTION_NONCE"],
      [new ValidationFailureError("invalid signature"), "VALIDATION_FAILURE"],
      [new UnexpectedError("boom"), "UNEXPECTED_ERROR"],
    ];
    for (const [err, name] of cases) {
      const wire = toJsonRpcError(err);
      expect(wire.code).toBe(STARKNET_ERRORS[name as keyof typeof STARKNET_ERRORS].code);
      expect(specs.validateErrorData(wire.data, name)).toEqual([]);
    }
    expect(toJsonRpcError(new TransactionExecutionError(2, "out of gas"))).toEqual({
      code: 41,
      message: "Transaction execution error",
      data: { transaction_index: 2, execution_error: "out of gas" },
    });
  });

  it("validator rejects data of the wrong shape for an error", () => {
    expect(specs.validateErrorData({ transaction_index: -1 }, "TRANSACTION_EXECUTION_ERROR").length).toBeGreaterThan(0);
    expect(specs.validateErrorData(7, "VALIDATION_FAILURE")).toEqual([{ path: "$", message: "expected string, got integer" }]);
  });

  it("answers DECLARE with 62 UNSUPPORTED_CONTRACT_CLASS_VERSION", () => {
    expect(toJsonRpcError(new DeclareNotSupportedError())).toEqual({
      code: 62,
      message: "the contract class version is not supported",
    });
  });

  it("answers invalid params with -32602 naming the field", () => {
    expect(toJsonRpcError(new InvalidParamsError("block_id", "missing required param"))).toEqual({
      code: -32602,
      message: "Invalid params",
      data: "block_id: missing required param",
    });
  });

  it("answers operator errors in the private range with structured data", () => {
    expect(toJsonRpcError(new NodeNotReadyError("recovering"))).toEqual({
      code: -32001,
      message: "Node is not ready",
      data: { state: "recovering", reason: "node state is recovering" },
    });
    expect(toJsonRpcError(new RollbackRefusedError("block 9 is above the head 3"))).toEqual({
      code: -32003,
      message: "Rollback refused",
      data: { reason: "block 9 is above the head 3" },
    });
  });

  it("turns an unknown exception into -32603 without leaking its message or stack, and logs it", () => {
    const log = capture();
    const wire = toJsonRpcError(new TypeError("secret /home/path detail"), { method: "starknet_call", logger: log });
    expect(wire.code).toBe(-32603);
    expect(wire.message).toBe("Internal error");
    expect(JSON.stringify(wire)).not.toContain("secret");
    expect(JSON.stringify(wire)).not.toContain("at ");
    expect(log.records).toHaveLength(1);
    expect(log.records[0]!.event).toBe("rpc.unexpected_exception");
    expect(log.records[0]!.fields.method).toBe("starknet_call");
    expect(JSON.stringify(log.records[0]!.fields.error)).toContain("secret /home/path detail");
    const incident = log.records[0]!.fields.incident as number;
    expect(wire.data).toBe(`internal error, see node log (incident ${incident})`);
  });

  it("turns an unknown exception in a write method into 63 UNEXPECTED_ERROR with string data", () => {
    const log = capture();
    const wire = toJsonRpcError("not even an Error", { unexpectedErrorIsSpecified: true, logger: log });
    expect(wire.code).toBe(63);
    expect(wire.message).toBe("An unexpected error occurred");
    expect(specs.validateErrorData(wire.data, "UNEXPECTED_ERROR")).toEqual([]);
    expect(log.records[0]!.fields.error).toBe("not even an Error");
  });
});
