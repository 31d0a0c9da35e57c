// parseJsonExact: JSON text with integer literals of any size kept exact (bigint), the rest
// exactly as JSON.parse reads it.

import { describe, expect, it } from "vitest";
import { parseJsonExact } from "../../sequencer/rpc/json-bigint.js";

describe("parseJsonExact", () => {
  it("keeps integers from 2^53 up exact as bigint, smaller ones as numbers", () => {
    const v = parseJsonExact('{"a": 1000000000000000000000000000000, "b": [9007199254740991, 9007199254740992, -123456789012345678901], "c": 5}');
    expect(v).toEqual({ a: 10n ** 30n, b: [9007199254740991, 9007199254740992n, -123456789012345678901n], c: 5 });
  });

  it("reads fractions, exponents, strings with escapes, booleans and null as JSON.parse does", () => {
    const text = '{"x": 12345678901234567.5, "y": 1e21, "s": "a\\"b\\\\c\\u00e9 [:, 12345678901234567890]", "t": true, "f": false, "n": null, "e": {}, "l": []}';
    expect(parseJsonExact(text)).toEqual(JSON.parse(text));
  });

  it("leaves digits inside strings alone", () => {
    expect(parseJsonExact('["x:12345678901234567890", 12345678901234567890]')).toEqual(["x:12345678901234567890", 12345678901234567890n]);
  });

  it("makes __proto__ an own property, as JSON.parse does", () => {
    const v = parseJsonExact('{"__proto__": {"p": 1}, "n": 12345678901234567890}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(["__proto__", "n"]);
  });

  it("refuses what JSON.parse refuses", () => {
    for (const bad of ["[12345678901234567890,]", '{"a": 12345678901234567890', "[012345678901234567890]", "[12345678901234567890] x", '["\n", 12345678901234567890]', "[+12345678901234567890]"]) {
      expect(() => parseJsonExact(bad), bad).toThrow(SyntaxError);
      expect(() => JSON.parse(bad.replace(/\d{16,}/g, (m) => m.slice(0, 2))), bad).toThrow(SyntaxError);
    }
  });
});
