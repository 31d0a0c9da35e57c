// Storage layout as Cairo 1 computes it:
//   storage var       → sn_keccak(name)
//   map entry         → pedersen(…pedersen(sn_keccak(name), k1)…, kn) mod (2^251 − 256)
//                        where k1..kn are the serialized key felts (a u256 key is low, high)
//   multi-felt values → consecutive addresses base, base+1, … (u256: low then high)

import type { Felt } from "../../state/felt.js";
import { hashBackend, pedersen, snKeccak } from "../../state/crypto/hash.js";
import { type CairoType, FeltReader, encodeValue } from "./cairo-types.js";

/** Storage addresses live below 2^251 − 256 (Cairo's storage_base_address range). */
export const STORAGE_ADDRESS_BOUND: Felt = (1n << 251n) - 256n;

export function storageVarAddress(name: string): Felt {
  return snKeccak(name);
}

/** Address of a map entry from already-serialized key felts. */
export function storageMapAddress(name: string, keyFelts: readonly Felt[]): Felt {
  return mapEntryAddress(snKeccak(name), keyFelts);
}

/**
 * Map entry address from the variable's base address and serialized key felts.
 * Memoized (bounded): the same balances and positions are addressed by every transaction
 * that touches them, and the address is a pure function of its inputs.
 */
export function mapEntryAddress(base: Felt, keyFelts: readonly Felt[]): Felt {
  if (keyFelts.length === 1) return singleKeyAddress(base, keyFelts[0]!);
  // Radix 32: a power of two prints a bigint without divisions (radix 36 was 10x slower).
  let memoKey = base.toString(32);
  for (const k of keyFelts) memoKey += ":" + k.toString(32);
  const hit = addressMemo.get(memoKey);
  if (hit !== undefined) return hit;
  let h = base;
  for (const k of keyFelts) h = pedersen(h, k);
  const addr = h % STORAGE_ADDRESS_BOUND;
  if (addressMemo.size >= ADDRESS_MEMO_LIMIT) addressMemo.delete(addressMemo.keys().next().value!);
  addressMemo.set(memoKey, addr);
  return addr;
}

const ADDRESS_MEMO_LIMIT = 200_000;
const addressMemo = new Map<string, Felt>();

/**
 * mapEntryAddress(base, [key]) (balances, nonces, orders: most maps have one key felt),
 * memoized by the felts themselves, no string built. The exchange's slot addresses
 * (contracts/perp/slot-address.ts) use this memo too.
 */
export function singleKeyAddress(base: Felt, key: Felt): Felt {
  const hit = singleKeyMemo.get(base)?.get(key);
  if (hit !== undefined) return hit;
  const addr = pedersen(base, key) % STORAGE_ADDRESS_BOUND;
  rememberSingleKey(base, key, addr);
  return addr;
}

/** The memoized singleKeyAddress(base, key), or undefined when it has not been computed. */
export function knownSingleKeyAddress(base: Felt, key: Felt): Felt | undefined {
  return singleKeyMemo.get(base)?.get(key);
}

/**
 * Computes the addresses of base's entries at `keys` in one Pedersen batch, into the memo:
 * with the native backend a batch of 64 or more takes the addon's affine path (~2 µs a hash
 * against ~14 µs for a single call). A hint only: with a backend without a batch path (the JS
 * reference, where a batch costs its single hashes) it does nothing, and the addresses are
 * computed when asked for. The addresses are those singleKeyAddress computes.
 */
export function prefetchSingleKeyAddresses(base: Felt, keys: readonly Felt[]): void {
  const backend = hashBackend();
  if (backend.name !== "native") return;
  const todo = keys.filter((k) => knownSingleKeyAddress(base, k) === undefined);
  if (todo.length === 0) return;
  const hashes = backend.pedersenBatch(new Array<Felt>(todo.length).fill(base), todo);
  todo.forEach((k, i) => rememberSingleKey(base, k, hashes[i]! % STORAGE_ADDRESS_BOUND));
}

/** One-key addresses by base, then key; cleared whole when it holds SINGLE_KEY_MEMO_LIMIT. */
const SINGLE_KEY_MEMO_LIMIT = 1 << 20;
const singleKeyMemo = new Map<Felt, Map<Felt, Felt>>();
let singleKeyEntries = 0;

/** Adds a new (not memoized) address. */
function rememberSingleKey(base: Felt, key: Felt, addr: Felt): void {
  if (singleKeyEntries >= SINGLE_KEY_MEMO_LIMIT) {
    singleKeyMemo.clear();
    singleKeyEntries = 0;
  }
  let byKey = singleKeyMemo.get(base);
  if (byKey === undefined) singleKeyMemo.set(base, (byKey = new Map()));
  byKey.set(key, addr);
  singleKeyEntries++;
}

/** A declared storage variable: a single value at sn_keccak(name). */
export interface StorageVarSpec<T> {
  readonly kind: "var";
  readonly type: CairoType<T>;
}

/** A declared storage map from a key tuple to a value. */
export interface StorageMapSpec<K extends readonly CairoType<any>[], T> {
  readonly kind: "map";
  readonly keys: K;
  readonly type: CairoType<T>;
}

export type StorageSpec = StorageVarSpec<any> | StorageMapSpec<readonly CairoType<any>[], any>;

export function storageVar<T>(type: CairoType<T>): StorageVarSpec<T> {
  requireStorable(type);
  return { kind: "var", type };
}

export function storageMap<K extends readonly CairoType<any>[], T>(keys: K, type: CairoType<T>): StorageMapSpec<K, T> {
  requireStorable(type);
  if (keys.length === 0) throw new TypeError("storageMap needs at least one key type");
  return { kind: "map", keys, type };
}

function requireStorable(type: CairoType<unknown>): void {
  if (type.storageSize === undefined) throw new TypeError(`type ${type.abiName} cannot be stored (no fixed size)`);
}

type KeyValues<K extends readonly CairoType<any>[]> = { [I in keyof K]: K[I] extends CairoType<infer V> ? V : never };

export interface VarAccessor<T> {
  readonly address: Felt;
  read(): T;
  write(value: T): void;
}

export interface MapAccessor<K extends readonly CairoType<any>[], T> {
  address(...keys: KeyValues<K>): Felt;
  read(...keys: KeyValues<K>): T;
  write(...args: [...KeyValues<K>, T]): void;
}

export type StorageAccessors<S extends Record<string, StorageSpec>> = {
  [N in keyof S]: S[N] extends StorageMapSpec<infer K, infer T>
    ? MapAccessor<K, T>
    : S[N] extends StorageVarSpec<infer T>
      ? VarAccessor<T>
      : never;
};

/** Raw felt storage of one contract, as the runtime exposes it to accessors. */
export interface RawStorage {
  read(key: Felt): Felt;
  write(key: Felt, value: Felt): void;
  /** Charged for the hashes a map address needs. */
  chargeHashes(n: number): void;
}

/** `base + i` for a value's i-th felt; the first is `base` itself (no bigint made for it). */
export function fieldAddress(base: Felt, i: number): Felt {
  return i === 0 ? base : base + (FIELD_OFFSETS[i] ?? BigInt(i));
}
const FIELD_OFFSETS: readonly bigint[] = Array.from({ length: 32 }, (_, i) => BigInt(i));

export function readTyped<T>(raw: RawStorage, base: Felt, type: CairoType<T>): T {
  const n = type.storageSize!;
  const felts: Felt[] = new Array(n);
  for (let i = 0; i < n; i++) felts[i] = raw.read(fieldAddress(base, i));
  return type.decode(new FeltReader(felts));
}

export function writeTyped<T>(raw: RawStorage, base: Felt, type: CairoType<T>, value: T): void {
  const felts = encodeValue(type, value);
  const n = type.storageSize!;
  while (felts.length < n) felts.push(0n);
  for (let i = 0; i < n; i++) raw.write(fieldAddress(base, i), felts[i]!);
}

/** Precomputed per-class layout: variable base addresses, so accessors are cheap to build. */
export class StorageLayout<S extends Record<string, StorageSpec>> {
  private readonly bases = new Map<string, Felt>();
  /**
   * The class of this layout's accessors objects: one getter per variable on its prototype,
   * which builds the variable's accessor on first use and keeps it in the object's slot for it.
   * A call frame reads one or two variables of a contract, so building all of them per frame
   * was most of a small view call's cost (a fee balance read). Every object has the same two
   * fields from its constructor on (an earlier version added each accessor as an own property
   * when first read, which turned every frame's object into a dictionary).
   */
  private readonly Accessors: new (raw: RawStorage) => object;

  constructor(readonly specs: S) {
    for (const name of Object.keys(specs)) this.bases.set(name, storageVarAddress(name));
    const count = Object.keys(specs).length;
    class Accessors {
      readonly [RAW]: RawStorage;
      readonly [BUILT]: unknown[];
      constructor(raw: RawStorage) {
        this[RAW] = raw;
        this[BUILT] = new Array(count);
      }
    }
    Object.entries(specs).forEach(([name, spec], i) => {
      const base = this.bases.get(name)!;
      Object.defineProperty(Accessors.prototype, name, {
        get(this: Accessors) {
          return (this[BUILT][i] ??= spec.kind === "var" ? new VarAccess(this[RAW], base, spec.type) : new MapAccess(this[RAW], base, spec));
        },
        enumerable: true,
        configurable: true,
      });
    });
    this.Accessors = Accessors;
  }

  accessors(raw: RawStorage): StorageAccessors<S> {
    return new this.Accessors(raw) as unknown as StorageAccessors<S>;
  }

  /** Accessors that read `address`'s storage in `state` without a call frame (a write through them is a bug and throws). */
  readOnly(state: StorageSource, address: Felt): StorageAccessors<S> {
    return this.accessors(new ReadOnlyStorage(state, address));
  }
}

/** Whatever can read a contract's storage felt (a state reader). */
export interface StorageSource {
  getStorage(address: Felt, key: Felt): Felt;
}

class ReadOnlyStorage implements RawStorage {
  constructor(
    private readonly state: StorageSource,
    private readonly address: Felt,
  ) {}
  read(key: Felt): Felt {
    return this.state.getStorage(this.address, key);
  }
  write(): void {
    throw new Error("invariant violated: a storage read outside a call frame wrote storage");
  }
  chargeHashes(): void {}
}

const RAW = Symbol("raw storage");
const BUILT = Symbol("accessors built");

class VarAccess<T> implements VarAccessor<T> {
  constructor(
    private readonly raw: RawStorage,
    readonly address: Felt,
    private readonly type: CairoType<T>,
  ) {}

  read(): T {
    return readTyped(this.raw, this.address, this.type);
  }

  write(value: T): void {
    writeTyped(this.raw, this.address, this.type, value);
  }
}

class MapAccess {
  constructor(
    private readonly raw: RawStorage,
    private readonly base: Felt,
    private readonly spec: StorageMapSpec<readonly CairoType<any>[], any>,
  ) {}

  address(...keys: unknown[]): Felt {
    return this.addressOf(keys);
  }

  read(...keys: unknown[]): unknown {
    return readTyped(this.raw, this.addressOf(keys), this.spec.type);
  }

  write(...args: unknown[]): void {
    const nk = this.spec.keys.length;
    writeTyped(this.raw, this.addressOf(args), this.spec.type, args[nk]);
  }

  /** The entry of the map's first `spec.keys.length` values (a write's value comes after them). */
  private addressOf(keys: readonly unknown[]): Felt {
    const keyFelts: Felt[] = [];
    const types = this.spec.keys;
    for (let i = 0; i < types.length; i++) types[i]!.encode(keys[i], keyFelts);
    this.raw.chargeHashes(keyFelts.length);
    return mapEntryAddress(this.base, keyFelts);
  }
}
