// The nesting pre-scan run before JSON.parse (sequencer/rpc/json-depth.ts).
import { describe, expect, it } from "vitest";
import { jsonNestsDeeperThan } from "../../sequencer/rpc/json-depth.js";

const nested = (d: number) => "[".repeat(d) + "]".repeat(d);

describe("jsonNestsDeeperThan", () => {
  it("counts arrays and objects", () => {
    expect(jsonNestsDeeperThan(nested(3), 3)).toBe(false);
    expect(jsonNestsDeeperThan(nested(4), 3)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":{"b":[{"c":1}]}}', 3)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":{"b":[{"c":1}]}}', 4)).toBe(false);
  });

  it("ignores brackets inside strings, including after escaped quotes and backslashes", () => {
    expect(jsonNestsDeeperThan(JSON.stringify({ s: "[[[[[[[[" }), 1)).toBe(false);
    expect(jsonNestsDeeperThan(JSON.stringify({ s: 'a"[[[[' }), 1)).toBe(false);
    expect(jsonNestsDeeperThan(JSON.stringify({ s: "a\\" }) + "", 1)).toBe(false);
    expect(jsonNestsDeeperThan('["a\\\\", [[1]]]', 2)).toBe(true);
  });

  it("does not flag a flat request or malformed text (JSON.parse reports that)", () => {
    expect(jsonNestsDeeperThan(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "m", params: [new Array(1000).fill("0x1")] }))).toBe(false);
    expect(jsonNestsDeeperThan('"unterminated [[[[')).toBe(false);
    expect(jsonNestsDeeperThan("]]]]")).toBe(false);
  });
});
