// The spec schema validator itself: known-good samples pass, known-bad ones fail with the path named.
import { describe, expect, it } from "vitest";
import { SpecSchemas } from "../support/schema-validator.js";

const specs = SpecSchemas.load();

const price = { price_in_fri: "0x3b9aca00", price_in_wei: "0x2540be400" };
const header = {
  block_hash: "0x4a5b2e8f0c1d",
  parent_hash: "0x1c2d",
  block_number: 812_345,
  new_root: "0x7f3e",
  timestamp: 1_732_000_000,
  sequencer_address: "0x1176a1bd84444c89232ec27754698e5d2e7e1a7f1539f12027f28b23ec9f3d8",
  l1_gas_price: price,
  l2_gas_price: price,
  l1_data_gas_price: price,
  l1_da_mode: "BLOB",
  starknet_version: "0.14.0",
  event_commitment: "0x1",
  transaction_commitment: "0x2",
  receipt_commitment: "0x3",
  state_diff_commitment: "0x4",
  event_count: 3,
  transaction_count: 2,
  state_diff_length: 5,
};
const receipt = {
  type: "INVOKE",
  transaction_hash: "0x6a1",
  actual_fee: { amount: "0x2386f26fc10000", unit: "FRI" },
  finality_status: "ACCEPTED_ON_L2",
  messages_sent: [],
  events: [{ from_address: "0x49d", keys: ["0x99cd"], data: ["0x1", "0x2"] }],
  execution_resources: { l1_gas: 0, l1_data_gas: 192, l2_gas: 880_000 },
  execution_status: "REVERTED",
  revert_reason: "Error in the called contract",
  block_hash: "0x4a5b2e8f0c1d",
  block_number: 812_345,
};

describe("schema validator", () => {
  it("accepts a valid BLOCK_HEADER and rejects each kind of violation with its path", () => {
    expect(specs.validateComponent(header, "BLOCK_HEADER")).toEqual([]);
    const { l1_da_mode: _m, ...missing } = header;
    expect(specs.validateComponent(missing, "BLOCK_HEADER")).toEqual([{ path: "$", message: 'missing required property "l1_da_mode"' }]);
    expect(specs.validateComponent({ ...header, block_number: -1 }, "BLOCK_HEADER")).toEqual([
      { path: "$.block_number", message: "-1 < minimum 0" },
    ]);
    expect(specs.validateComponent({ ...header, block_number: 1.5 }, "BLOCK_HEADER")).toEqual([
      { path: "$.block_number", message: "expected integer, got number" },
    ]);
    expect(specs.validateComponent({ ...header, new_root: "0x07f3e" }, "BLOCK_HEADER")).toEqual([
      { path: "$.new_root", message: '"0x07f3e" does not match ^0x(0|[a-fA-F1-9]{1}[a-fA-F0-9]{0,62})$' },
    ]);
    expect(specs.validateComponent({ ...header, l1_da_mode: "BLOBS" }, "BLOCK_HEADER")).toEqual([
      { path: "$.l1_da_mode", message: 'expected one of ["BLOB","CALLDATA"], got "BLOBS"' },
    ]);
    expect(specs.validateComponent({ ...header, l2_gas_price: { price_in_fri: "0x1" } }, "BLOCK_HEADER")).toEqual([
      { path: "$.l2_gas_price", message: 'missing required property "price_in_wei"' },
    ]);
  });

  it("follows $refs across files: a WS notification param refers into the main API document", () => {
    expect(specs.validateParam(header, "starknet_subscriptionNewHeads", "result")).toEqual([]);
    expect(specs.validateParam({ ...header, timestamp: "now" }, "starknet_subscriptionNewHeads", "result")).toEqual([
      { path: "$.timestamp", message: "expected integer, got string" },
    ]);
  });

  it("validates a receipt through allOf/oneOf (SUCCEEDED vs REVERTED branches)", () => {
    expect(specs.validateResult(receipt, "starknet_getTransactionReceipt")).toEqual([]);
    const { revert_reason: _r, ...noReason } = receipt;
    const issues = specs.validateResult(noReason, "starknet_getTransactionReceipt");
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe("$");
    expect(issues[0]!.message).toMatch(/^matches no oneOf branch/);
    expect(issues[0]!.message).toContain('missing required property "revert_reason"');
  });

  it("checks `not`: subscription block ids exclude pre_confirmed and l1_accepted", () => {
    expect(specs.validateParam("latest", "starknet_subscribeNewHeads", "block_id")).toEqual([]);
    expect(specs.validateParam({ block_number: 3 }, "starknet_subscribeNewHeads", "block_id")).toEqual([]);
    expect(specs.validateParam("l1_accepted", "starknet_subscribeNewHeads", "block_id")).toEqual([
      { path: "$", message: 'must not match {"type":"string","enum":["l1_accepted","pre_confirmed"]}' },
    ]);
  });

  it("unwraps the {name, schema} content-descriptor form (SUBSCRIPTION_ID)", () => {
    expect(specs.validateResult("17", "starknet_subscribeEvents")).toEqual([]);
    expect(specs.validateResult(17, "starknet_subscribeEvents")).toEqual([{ path: "$", message: "expected string, got integer" }]);
  });

  it("reports overlapping oneOf branches in strict mode, accepts them in lenient mode", () => {
    // A confirmed block also satisfies PRE_CONFIRMED_BLOCK_WITH_TX_HASHES: the spec's oneOf is not exclusive.
    const block = { ...header, status: "ACCEPTED_ON_L2", transactions: ["0x6a1"] };
    expect(specs.validateResult(block, "starknet_getBlockWithTxHashes")).toEqual([
      { path: "$", message: "matches 2 oneOf branches, exactly one expected" },
    ]);
    expect(specs.validateResult(block, "starknet_getBlockWithTxHashes", { oneOf: "lenient" })).toEqual([]);
    expect(specs.validateResult({ ...block, transactions: [5] }, "starknet_getBlockWithTxHashes", { oneOf: "lenient" })).toHaveLength(1);
  });

  it("validates array items with their index in the path", () => {
    expect(specs.validateResult(["0x1", "0x02"], "starknet_call")).toEqual([
      { path: "$[1]", message: '"0x02" does not match ^0x(0|[a-fA-F1-9]{1}[a-fA-F0-9]{0,62})$' },
    ]);
  });

  it("resolves every $ref of every document and knows every keyword they use", () => {
    // Visit every schema position of every document (components, method params and results) and
    // validate null against it: an unresolvable $ref or an unsupported keyword throws.
    let visited = 0;
    const refs = new Set<string>();
    const visit = (schema: unknown, file: string): void => {
      if (typeof schema !== "object" || schema === null) return;
      const s = schema as Record<string, unknown>;
      visited++;
      specs.validateSchema(null, s, file);
      if (typeof s.$ref === "string") refs.add(s.$ref);
      for (const v of Object.values((s.properties ?? {}) as Record<string, unknown>)) visit(v, file);
      for (const k of ["items", "not", "schema", "additionalProperties"]) visit(s[k], file);
      for (const k of ["allOf", "oneOf", "anyOf"]) for (const v of (s[k] ?? []) as unknown[]) visit(v, file);
    };
    for (const file of specs.files()) {
      const doc = specs.document(file);
      for (const m of (doc.methods ?? []) as { params: { schema: unknown }[]; result?: { schema: unknown } }[]) {
        for (const p of m.params) visit(p.schema, file);
        if (m.result) visit(m.result.schema, file);
      }
      const components = doc.components as { schemas?: Record<string, unknown>; errors?: Record<string, { data?: unknown }> };
      for (const s of Object.values(components.schemas ?? {})) visit(s, file);
      for (const e of Object.values(components.errors ?? {})) if (typeof e.data === "object") visit(e.data, file);
    }
    expect(visited).toBeGreaterThan(1000);
    expect([...refs].filter((r) => r.startsWith("./api/")).length).toBeGreaterThan(10);
  });
});
