// Field elements of the Starknet prime field, as bigint in [0, P).
// Validation happens here, at the edge; everything deeper trusts a Felt.
// Never reads the clock, randomness or the environment.

export type Felt = bigint;

/** P = 2^251 + 17·2^192 + 1, the Stark field prime. */
export const P: Felt = (1n << 251n) + 17n * (1n << 192n) + 1n;
/** Largest storage key / address value + 1 (keys live in [0, 2^251)). */
export const ADDR_BOUND: Felt = 1n << 251n;

const HEX_RE = /^0x[0-9a-fA-F]{1,64}$/;

/** A felt parse failure; `field` names the offending input for messages. */
export class FeltError extends RangeError {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "FeltError";
  }
}

/**
 * Parse a felt from a 0x-hex string, a decimal string, a bigint or a safe integer.
 * Throws FeltError naming `field` when the value is malformed or not < P.
 */
export function parseFelt(value: unknown, field = "felt"): Felt {
  let v: bigint;
  if (typeof value === "bigint") v = value;
  else if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new FeltError(field, `not a safe integer: ${value}`);
    v = BigInt(value);
  } else if (typeof value === "string") {
    if (HEX_RE.test(value)) v = BigInt(value);
    else if (/^[0-9]{1,78}$/.test(value)) v = BigInt(value);
    else throw new FeltError(field, `not a 0x-hex felt: ${JSON.stringify(value).slice(0, 80)}`);
  } else {
    throw new FeltError(field, `expected a hex string, got ${value === null ? "null" : typeof value}`);
  }
  if (v < 0n) throw new FeltError(field, "negative value");
  if (v >= P) throw new FeltError(field, "value is not below the field prime P");
  return v;
}

/** Parse a felt that must also be a valid address / storage key (< 2^251). */
export function parseAddress(value: unknown, field = "address"): Felt {
  const v = parseFelt(value, field);
  if (v >= ADDR_BOUND) throw new FeltError(field, "value is not below 2^251");
  return v;
}

/** Spec FELT form: lowercase 0x-hex without leading zeros ("0x0" for zero). */
export function toHex(v: Felt): string {
  return "0x" + v.toString(16);
}

/** 0x-hex padded to 64 nibbles (how addresses are often displayed). */
export function toHex64(v: Felt): string {
  return "0x" + v.toString(16).padStart(64, "0");
}

/** Big-endian 32-byte encoding. */
export function feltToBytes32(v: Felt): Uint8Array {
  const out = new Uint8Array(32);
  let x = v;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** Big-endian bytes to bigint (no range check). */
export function bytesToBigint(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = 0; i < b.length; i++) x = (x << 8n) | BigInt(b[i]!);
  return x;
}

/** Cairo signed convention: negative x stored as P − |x|. */
export function toSignedFelt(x: bigint): Felt {
  if (x >= 0n) {
    if (x >= P) throw new RangeError("signed value out of range");
    return x;
  }
  if (-x >= P) throw new RangeError("signed value out of range");
  return P + x;
}

/** Inverse of toSignedFelt: values above P/2 read as negative. */
export function fromSignedFelt(v: Felt): bigint {
  return v > P / 2n ? v - P : v;
}

/** Starknet short string (≤ 31 ASCII chars) → felt, as Cairo's 'literal'. */
export function encodeShortString(s: string): Felt {
  if (s.length > 31) throw new RangeError(`short string longer than 31 chars: ${s}`);
  let v = 0n;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) throw new RangeError(`short string is not ASCII: ${s}`);
    v = (v << 8n) | BigInt(c);
  }
  return v;
}

/** Felt → short string (inverse of encodeShortString; leading zero bytes dropped). */
export function decodeShortString(v: Felt): string {
  let s = "";
  let x = v;
  while (x > 0n) {
    s = String.fromCharCode(Number(x & 0xffn)) + s;
    x >>= 8n;
  }
  return s;
}
