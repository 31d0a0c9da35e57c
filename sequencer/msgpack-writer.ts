// A msgpack writer for the typed records (stored-records.ts) that writes felts fast. Its bytes
// are exactly those of msgpackr's `new Packr({ useBigIntExtension: true, useRecords: false })`,
// so records read back with msgpackr unchanged and the storage format does not move:
//   - plain objects as map16 (msgpackr's fixed header), arrays, numbers, booleans, null,
//     undefined, ASCII strings: written here, byte for byte as msgpackr writes them;
//   - bigints: int64/uint64 when they fit, else msgpackr's bigint extension (type 0x42: the
//     two's complement in big-endian 64-bit words). msgpackr builds that with a BigUint64Array
//     and a byte reversal per value (about 4 µs a felt); four DataView writes do it here;
//   - anything else (Map, Date, typed arrays, class instances, non-ASCII strings) is packed by
//     msgpackr itself and its bytes spliced in (msgpack is context-free without records).
// test/unit/msgpack-writer.test.ts compares the bytes with msgpackr's on random values.
// Never decodes; never changes what a value means.

import { Packr } from "msgpackr";

const fallback = new Packr({ useBigIntExtension: true, useRecords: false });

const EXT_BIGINT = 0x42;
const I64_MIN = -(1n << 63n);
const I64_END = 1n << 63n;
const U64_END = 1n << 64n;
const U127_END = 1n << 127n;
const U191_END = 1n << 191n;
const U255_END = 1n << 255n;

let buf = Buffer.allocUnsafeSlow(64 * 1024);
let view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
let pos = 0;

/** msgpack bytes of `value`, identical to msgpackr's Packr({ useBigIntExtension: true, useRecords: false }).pack(value). */
export function packRecord(value: unknown): Buffer {
  pos = 0;
  write(value);
  return Buffer.from(buf.subarray(0, pos));
}

function room(n: number): void {
  if (pos + n <= buf.length) return;
  let size = buf.length * 2;
  while (size < pos + n) size *= 2;
  const next = Buffer.allocUnsafeSlow(size);
  buf.copy(next, 0, 0, pos);
  buf = next;
  view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function write(value: unknown): void {
  switch (typeof value) {
    case "bigint":
      return writeBigInt(value);
    case "string":
      return writeString(value);
    case "number":
      return writeNumber(value);
    case "boolean":
      room(1);
      buf[pos++] = value ? 0xc3 : 0xc2;
      return;
    case "undefined":
      room(3);
      buf[pos++] = 0xd4;
      buf[pos++] = 0;
      buf[pos++] = 0;
      return;
    case "object":
      if (value === null) {
        room(1);
        buf[pos++] = 0xc0;
        return;
      }
      if (value.constructor === Array) return writeArray(value as unknown[]);
      if (value.constructor === Object) return writeObject(value as Record<string, unknown>);
      return splice(value);
    default:
      return splice(value);
  }
}

/** msgpackr's own bytes for a value this writer does not handle itself. */
function splice(value: unknown): void {
  const bytes = fallback.pack(value);
  room(bytes.length);
  buf.set(bytes, pos);
  pos += bytes.length;
}

function writeArray(a: unknown[]): void {
  const n = a.length;
  room(5);
  if (n < 0x10) buf[pos++] = 0x90 | n;
  else if (n < 0x10000) {
    buf[pos++] = 0xdc;
    buf[pos++] = n >> 8;
    buf[pos++] = n & 0xff;
  } else {
    buf[pos++] = 0xdd;
    view.setUint32(pos, n);
    pos += 4;
  }
  for (let i = 0; i < n; i++) write(a[i]);
}

function writeObject(o: Record<string, unknown>): void {
  // msgpackr (useRecords: false) always writes map16 and fills the count in afterwards; its
  // keys are the own enumerable ones, in for-in order.
  room(3);
  buf[pos++] = 0xde;
  const sizeAt = pos;
  pos += 2;
  let size = 0;
  for (const key in o) {
    if (!Object.prototype.hasOwnProperty.call(o, key)) continue;
    writeString(key);
    write(o[key]);
    size++;
  }
  if (size > 0xffff) throw new RangeError(`an object of ${size} keys does not fit a map16`);
  buf[sizeAt] = size >> 8;
  buf[sizeAt + 1] = size & 0xff;
}

function writeString(s: string): void {
  const n = s.length;
  room(n + 5);
  const header = n < 0x20 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
  let p = pos + header;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return splice(s); // multi-byte UTF-8: msgpackr's own encoder
    buf[p++] = c;
  }
  if (n < 0x20) buf[pos] = 0xa0 | n;
  else if (n < 0x100) {
    buf[pos] = 0xd9;
    buf[pos + 1] = n;
  } else if (n < 0x10000) {
    buf[pos] = 0xda;
    buf[pos + 1] = n >> 8;
    buf[pos + 2] = n & 0xff;
  } else {
    buf[pos] = 0xdb;
    view.setUint32(pos + 1, n);
  }
  pos = p;
}

function writeNumber(v: number): void {
  room(9);
  if (v >>> 0 === v) {
    if (v < 0x80) buf[pos++] = v;
    else if (v < 0x100) {
      buf[pos++] = 0xcc;
      buf[pos++] = v;
    } else if (v < 0x10000) {
      buf[pos++] = 0xcd;
      buf[pos++] = v >> 8;
      buf[pos++] = v & 0xff;
    } else {
      buf[pos++] = 0xce;
      view.setUint32(pos, v);
      pos += 4;
    }
  } else if (v >> 0 === v) {
    if (v >= -0x20) buf[pos++] = 0x100 + v;
    else if (v >= -0x80) {
      buf[pos++] = 0xd0;
      buf[pos++] = v + 0x100;
    } else if (v >= -0x8000) {
      buf[pos++] = 0xd1;
      view.setInt16(pos, v);
      pos += 2;
    } else {
      buf[pos++] = 0xd2;
      view.setInt32(pos, v);
      pos += 4;
    }
  } else {
    buf[pos++] = 0xcb;
    view.setFloat64(pos, v);
    pos += 8;
  }
}

function writeBigInt(v: bigint): void {
  if (v >= I64_MIN && v < I64_END) {
    room(9);
    buf[pos++] = 0xd3;
    view.setBigInt64(pos, v);
    pos += 8;
    return;
  }
  if (v > 0n && v < U64_END) {
    room(9);
    buf[pos++] = 0xcf;
    view.setBigUint64(pos, v);
    pos += 8;
    return;
  }
  // The extension: the fewest 64-bit words whose two's complement keeps the sign bit right.
  const words = v > 0n && v < U255_END ? (v < U127_END ? 2 : v < U191_END ? 3 : 4) : wordsOf(v);
  const length = words * 8;
  room(length + 4);
  if (length === 16) buf[pos++] = 0xd8;
  else if (length < 0x100) {
    buf[pos++] = 0xc7;
    buf[pos++] = length;
  } else if (length < 0x10000) {
    buf[pos++] = 0xc8;
    buf[pos++] = length >> 8;
    buf[pos++] = length & 0xff;
  } else {
    buf[pos++] = 0xc9;
    view.setUint32(pos, length);
    pos += 4;
  }
  buf[pos++] = EXT_BIGINT;
  // Low word last, big-endian. setBigUint64 keeps a value's low 64 bits (two's complement for
  // a negative one) by itself, and `>>` is arithmetic, so a felt's four words cost three
  // shifts and no BigInt.asUintN: half the bigints the store's encoder allocated before.
  let rest = v;
  for (let w = words - 1; ; w--) {
    view.setBigUint64(pos + 8 * w, rest);
    if (w === 0) break;
    rest >>= 64n;
  }
  pos += length;
}

/** Word count of msgpackr's bigint extension for any value outside the 64-bit forms. */
function wordsOf(v: bigint): number {
  const empty = v < 0n ? -1n : 0n;
  let words = 1;
  while (v >> 63n !== empty) {
    v >>= 64n;
    words++;
  }
  return words;
}
