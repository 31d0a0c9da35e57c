import { describe, expect, it } from "vitest";
import { SPEC_METHODS, SPEC_VERSION } from "../../sequencer/rpc/spec-methods.js";
import { SpecSchemas } from "../support/schema-validator.js";

describe("spec method table", () => {
  const specs = SpecSchemas.load();

  it("matches the OpenRPC documents: every method, param names, order and optionality", () => {
    const expected: Record<string, { file: string; params: string[]; unexpectedError: boolean }> = {};
    for (const file of specs.files()) {
      for (const m of (specs.document(file).methods ?? []) as Record<string, unknown>[]) {
        const params = (m.params as { name: string; required?: boolean }[]).map((p) => p.name + (p.required ? "" : "?"));
        const errors = ((m.errors ?? []) as { $ref: string }[]).map((e) => e.$ref.split("/").pop());
        expected[m.name as string] = { file, params, unexpectedError: errors.includes("UNEXPECTED_ERROR") };
      }
    }
    const actual = Object.fromEntries(
      Object.entries(SPEC_METHODS).map(([k, v]) => [k, { file: v.file, params: [...v.params], unexpectedError: v.unexpectedError }]),
    );
    expect(actual).toEqual(expected);
    expect(Object.keys(actual)).toHaveLength(44);
  });

  it("states the spec version of the documents", () => {
    for (const file of specs.files()) expect((specs.document(file).info as { version: string }).version).toBe(SPEC_VERSION);
  });

  it("classifies WS methods: subscriptions and unsubscribe are WS-only, starknet_subscription* are notifications", () => {
    const ws = Object.entries(SPEC_METHODS).filter(([, m]) => m.kind === "ws").map(([k]) => k).sort();
    expect(ws).toEqual([
      "starknet_subscribeEvents",
      "starknet_subscribeNewHeads",
      "starknet_subscribeNewTransactionReceipts",
      "starknet_subscribeNewTransactions",
      "starknet_subscribeTransactionStatus",
      "starknet_unsubscribe",
    ]);
    const notifications = Object.entries(SPEC_METHODS).filter(([, m]) => m.kind === "notification").map(([k]) => k).sort();
    expect(notifications).toEqual([
      "starknet_subscriptionEvents",
      "starknet_subscriptionNewHeads",
      "starknet_subscriptionNewTransaction",
      "starknet_subscriptionNewTransactionReceipts",
      "starknet_subscriptionReorg",
      "starknet_subscriptionTransactionStatus",
    ]);
  });
});
