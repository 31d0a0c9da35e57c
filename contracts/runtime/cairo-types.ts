// Cairo 1 types as seen from outside a contract: their ABI names, the ABI entries
// (structs/enums) they need, and their calldata serde (how starknet.js `CallData`
// encodes them). Values on the TypeScript side:
//   felt252/uN/ContractAddress/ClassHash → bigint, bool → boolean, u256 → bigint,
//   iN → signed bigint (encoded as P − |x| when negative), ByteArray → string,
//   Array/Span → T[], Option<T> → T | null, struct → object, enum → { variant, value }.
// Decoding never trusts its input: a malformed value throws CalldataError, which the
// runtime turns into Cairo's 'Failed to deserialize param #N' panic.

import { ADDR_BOUND, P, type Felt, fromSignedFelt, toSignedFelt } from "../../state/felt.js";

/** One item of a Cairo 1 ABI (function, interface, impl, struct, enum, event, constructor). */
export type AbiEntry = Record<string, unknown> & { type: string; name: string };

/** Thrown by decoders when felts do not form a valid value of the type. */
export class CalldataError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "CalldataError";
  }
}

/** Sequential reader over a felt list. */
export class FeltReader {
  private pos = 0;
  constructor(private readonly felts: readonly Felt[]) {}
  next(): Felt {
    if (this.pos >= this.felts.length) throw new CalldataError("calldata too short");
    return this.felts[this.pos++]!;
  }
  get remaining(): number {
    return this.felts.length - this.pos;
  }
}

export interface CairoType<T> {
  /** Type name as it appears in a compiled Cairo 1 ABI, e.g. "core::integer::u256". */
  readonly abiName: string;
  /** Struct/enum entries this type needs in the ABI (itself and nested ones). */
  readonly abiEntries: readonly AbiEntry[];
  /** Number of felts the value occupies in storage; undefined when not storable. */
  readonly storageSize: number | undefined;
  encode(value: T, out: Felt[]): void;
  decode(reader: FeltReader): T;
}

/** TypeScript value type carried by a CairoType. */
export type ValueOf<C> = C extends CairoType<infer T> ? T : never;

export function encodeValue<T>(type: CairoType<T>, value: T): Felt[] {
  const out: Felt[] = [];
  type.encode(value, out);
  return out;
}

export function decodeValue<T>(type: CairoType<T>, felts: readonly Felt[]): T {
  const r = new FeltReader(felts);
  const v = type.decode(r);
  if (r.remaining !== 0) throw new CalldataError(`${r.remaining} unexpected trailing felt(s)`);
  return v;
}

function assertFelt(v: bigint, what: string): Felt {
  if (typeof v !== "bigint") throw new TypeError(`${what}: expected bigint, got ${typeof v}`);
  if (v < 0n || v >= P) throw new RangeError(`${what}: value out of felt range`);
  return v;
}

function unsigned(bits: number): CairoType<bigint> {
  const bound = 1n << BigInt(bits);
  const name = `core::integer::u${bits}`;
  return {
    abiName: name,
    abiEntries: [],
    storageSize: 1,
    encode(v, out) {
      if (typeof v !== "bigint" || v < 0n || v >= bound) throw new RangeError(`${name}: value out of range: ${String(v)}`);
      out.push(v);
    },
    decode(r) {
      const v = r.next();
      if (v >= bound) throw new CalldataError(`${name}: value out of range`);
      return v;
    },
  };
}

function signed(bits: number): CairoType<bigint> {
  const max = (1n << BigInt(bits - 1)) - 1n;
  const min = -(1n << BigInt(bits - 1));
  const name = `core::integer::i${bits}`;
  return {
    abiName: name,
    abiEntries: [],
    storageSize: 1,
    encode(v, out) {
      if (typeof v !== "bigint" || v < min || v > max) throw new RangeError(`${name}: value out of range: ${String(v)}`);
      out.push(toSignedFelt(v));
    },
    decode(r) {
      const v = fromSignedFelt(r.next());
      if (v < min || v > max) throw new CalldataError(`${name}: value out of range`);
      return v;
    },
  };
}

function feltLike(name: string, bound: bigint): CairoType<Felt> {
  return {
    abiName: name,
    abiEntries: [],
    storageSize: 1,
    encode(v, out) {
      assertFelt(v, name);
      if (v >= bound) throw new RangeError(`${name}: value out of range`);
      out.push(v);
    },
    decode(r) {
      const v = r.next();
      if (v >= bound) throw new CalldataError(`${name}: value out of range`);
      return v;
    },
  };
}

const U128 = 1n << 128n;

const u256: CairoType<bigint> = {
  abiName: "core::integer::u256",
  abiEntries: [
    {
      type: "struct",
      name: "core::integer::u256",
      members: [
        { name: "low", type: "core::integer::u128" },
        { name: "high", type: "core::integer::u128" },
      ],
    },
  ],
  storageSize: 2,
  encode(v, out) {
    if (typeof v !== "bigint" || v < 0n || v >= 1n << 256n) throw new RangeError(`u256: value out of range: ${String(v)}`);
    out.push(v % U128, v / U128);
  },
  decode(r) {
    const low = r.next();
    const high = r.next();
    if (low >= U128 || high >= U128) throw new CalldataError("u256: limb out of range");
    return high * U128 + low;
  },
};

const BOOL_ENTRY: AbiEntry = {
  type: "enum",
  name: "core::bool",
  variants: [
    { name: "False", type: "()" },
    { name: "True", type: "()" },
  ],
};

const bool: CairoType<boolean> = {
  abiName: "core::bool",
  abiEntries: [BOOL_ENTRY],
  storageSize: 1,
  encode(v, out) {
    if (typeof v !== "boolean") throw new TypeError("bool: expected boolean");
    out.push(v ? 1n : 0n);
  },
  decode(r) {
    const v = r.next();
    if (v > 1n) throw new CalldataError("bool: value is not 0 or 1");
    return v === 1n;
  },
};

const BYTES31_BOUND = 1n << 248n;

const byteArray: CairoType<string> = {
  abiName: "core::byte_array::ByteArray",
  abiEntries: [
    {
      type: "struct",
      name: "core::byte_array::ByteArray",
      members: [
        { name: "data", type: "core::array::Array::<core::bytes_31::bytes31>" },
        { name: "pending_word", type: "core::felt252" },
        { name: "pending_word_len", type: "core::integer::u32" },
      ],
    },
  ],
  storageSize: undefined,
  encode(v, out) {
    if (typeof v !== "string") throw new TypeError("ByteArray: expected string");
    const bytes = new TextEncoder().encode(v);
    const full = Math.floor(bytes.length / 31);
    out.push(BigInt(full));
    for (let i = 0; i < full; i++) out.push(bytesToBig(bytes.subarray(i * 31, i * 31 + 31)));
    const rest = bytes.subarray(full * 31);
    out.push(bytesToBig(rest), BigInt(rest.length));
  },
  decode(r) {
    const n = r.next();
    if (n > BigInt(r.remaining)) throw new CalldataError("ByteArray: length exceeds calldata");
    const parts: Uint8Array[] = [];
    for (let i = 0n; i < n; i++) {
      const w = r.next();
      if (w >= BYTES31_BOUND) throw new CalldataError("ByteArray: word is not bytes31");
      parts.push(bigToBytes(w, 31));
    }
    const pending = r.next();
    const len = r.next();
    if (len > 30n) throw new CalldataError("ByteArray: pending_word_len above 30");
    if (pending >= 1n << (8n * len)) throw new CalldataError("ByteArray: pending word longer than its length");
    parts.push(bigToBytes(pending, Number(len)));
    const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return new TextDecoder().decode(all);
  },
};

function bytesToBig(b: Uint8Array): bigint {
  let x = 0n;
  for (const c of b) x = (x << 8n) | BigInt(c);
  return x;
}

function bigToBytes(x: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

function mergeEntries(...lists: (readonly AbiEntry[])[]): AbiEntry[] {
  const seen = new Map<string, AbiEntry>();
  for (const list of lists) for (const e of list) if (!seen.has(e.name)) seen.set(e.name, e);
  return [...seen.values()];
}

/** Largest Array/Span length we accept from calldata (bounded loops). */
export const MAX_ARRAY_LEN = 1_000_000;

function sequence<T>(kind: "Array" | "Span", item: CairoType<T>): CairoType<T[]> {
  const name = `core::array::${kind}::<${item.abiName}>`;
  const own: AbiEntry[] =
    kind === "Span"
      ? [{ type: "struct", name, members: [{ name: "snapshot", type: `@core::array::Array::<${item.abiName}>` }] }]
      : [];
  return {
    abiName: name,
    abiEntries: mergeEntries(own, item.abiEntries),
    storageSize: undefined,
    encode(v, out) {
      if (!Array.isArray(v)) throw new TypeError(`${name}: expected an array`);
      out.push(BigInt(v.length));
      for (const x of v) item.encode(x, out);
    },
    decode(r) {
      const n = r.next();
      if (n > BigInt(Math.min(r.remaining, MAX_ARRAY_LEN))) throw new CalldataError(`${name}: length exceeds calldata`);
      const res: T[] = [];
      for (let i = 0; i < Number(n); i++) res.push(item.decode(r));
      return res;
    },
  };
}

function option<T>(item: CairoType<T>): CairoType<T | null> {
  const name = `core::option::Option::<${item.abiName}>`;
  return {
    abiName: name,
    abiEntries: mergeEntries(
      [{ type: "enum", name, variants: [{ name: "Some", type: item.abiName }, { name: "None", type: "()" }] }],
      item.abiEntries,
    ),
    storageSize: item.storageSize === undefined ? undefined : item.storageSize + 1,
    encode(v, out) {
      if (v === null) {
        out.push(1n);
        // storage needs a fixed width; calldata of None is just the index
      } else {
        out.push(0n);
        item.encode(v, out);
      }
    },
    decode(r) {
      const tag = r.next();
      if (tag === 1n) return null;
      if (tag !== 0n) throw new CalldataError(`${name}: bad variant index`);
      return item.decode(r);
    },
  };
}

type StructMembers = Record<string, CairoType<any>>;
export type StructValue<M extends StructMembers> = { [K in keyof M]: ValueOf<M[K]> };

/** A Cairo struct with a fully qualified name, members serialized in declaration order. */
function struct<M extends StructMembers>(name: string, members: M): CairoType<StructValue<M>> {
  const keys = Object.keys(members);
  const sizes = keys.map((k) => members[k]!.storageSize);
  const storable = sizes.every((s) => s !== undefined);
  return {
    abiName: name,
    abiEntries: mergeEntries(
      [{ type: "struct", name, members: keys.map((k) => ({ name: k, type: members[k]!.abiName })) }],
      ...keys.map((k) => members[k]!.abiEntries),
    ),
    storageSize: storable ? sizes.reduce((a: number, b) => a + b!, 0) : undefined,
    encode(v, out) {
      if (v === null || typeof v !== "object") throw new TypeError(`${name}: expected an object`);
      for (const k of keys) members[k]!.encode((v as Record<string, unknown>)[k], out);
    },
    decode(r) {
      const res: Record<string, unknown> = {};
      for (const k of keys) res[k] = members[k]!.decode(r);
      return res as StructValue<M>;
    },
  };
}

/** Unit payload of an enum variant ("()" in the ABI). */
export const unit: CairoType<null> = {
  abiName: "()",
  abiEntries: [],
  storageSize: 0,
  encode() {},
  decode() {
    return null;
  },
};

type EnumVariants = Record<string, CairoType<any>>;
export type EnumValue<V extends EnumVariants> = { [K in keyof V]: { variant: K; value: ValueOf<V[K]> } }[keyof V];

/**
 * A Cairo enum: variant index then payload. In storage the width is 1 + the widest
 * payload (unused felts written as 0), so enums can live in storage vars.
 */
function enumType<V extends EnumVariants>(name: string, variants: V): CairoType<EnumValue<V>> {
  const keys = Object.keys(variants);
  const sizes = keys.map((k) => variants[k]!.storageSize);
  const storable = sizes.every((s) => s !== undefined);
  return {
    abiName: name,
    abiEntries: mergeEntries(
      [{ type: "enum", name, variants: keys.map((k) => ({ name: k, type: variants[k]!.abiName })) }],
      ...keys.map((k) => variants[k]!.abiEntries),
    ),
    storageSize: storable ? 1 + Math.max(0, ...(sizes as number[])) : undefined,
    encode(v, out) {
      const i = keys.indexOf(v?.variant as string);
      if (i < 0) throw new TypeError(`${name}: unknown variant ${String(v?.variant)}`);
      out.push(BigInt(i));
      variants[keys[i]!]!.encode(v.value, out);
    },
    decode(r) {
      const i = r.next();
      if (i >= BigInt(keys.length)) throw new CalldataError(`${name}: bad variant index`);
      const k = keys[Number(i)]!;
      return { variant: k, value: variants[k]!.decode(r) } as EnumValue<V>;
    },
  };
}

/** The Cairo type constructors. */
export const t = {
  felt252: feltLike("core::felt252", P),
  u8: unsigned(8),
  u16: unsigned(16),
  u32: unsigned(32),
  u64: unsigned(64),
  u128: unsigned(128),
  u256,
  i8: signed(8),
  i16: signed(16),
  i32: signed(32),
  i64: signed(64),
  i128: signed(128),
  bool,
  contractAddress: feltLike("core::starknet::contract_address::ContractAddress", ADDR_BOUND),
  classHash: feltLike("core::starknet::class_hash::ClassHash", ADDR_BOUND),
  byteArray,
  unit,
  array: <T>(item: CairoType<T>) => sequence("Array", item),
  span: <T>(item: CairoType<T>) => sequence("Span", item),
  option,
  struct,
  enum: enumType,
} as const;
