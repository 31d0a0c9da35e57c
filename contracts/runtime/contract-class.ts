// Declaring a native contract class: storage, events, constructor and external
// functions grouped by Cairo interface. From the declaration we derive what a compiled
// Cairo 1 contract would expose — its ABI, its entry points (selector = sn_keccak(name)),
// the SIERRA class object starknet_getClass returns, and its class hash.
//
// Class hash: Starknet's Sierra formula, exactly as starknet.js
// `hash.computeContractClassHash(classObject)` evaluates it:
//   poseidon_many('CONTRACT_CLASS_V0.1.0', H(EXTERNAL), H(L1_HANDLER), H(CONSTRUCTOR),
//                 sn_keccak(abi_json), poseidon_many(sierra_program))
//   H(eps) = poseidon_many(selector_0, function_idx_0, selector_1, …)
// abi_json is JSON with ", " and ": " separators (how compilers and starknet.js format it),
// so hashing the string we serve equals hashing starknet.js's re-serialization of it.
// sierra_program is synthetic: ['perpchain-native', name in 31-char short strings…, version].
// The compiled class hash (CASM does not exist for native classes) is defined as
// poseidon_many('COMPILED_CLASS_V1', class_hash, 'perpchain-native') — documented, deterministic.

import { type Felt, encodeShortString, toHex } from "../../state/felt.js";
import { poseidonMany, selectorFromName, snKeccak } from "../../state/crypto/hash.js";
import { type AbiEntry, type CairoType, CalldataError, FeltReader, encodeValue } from "./cairo-types.js";
import type { ArgValues, CallContext, EventMember, EventSpec, FnSig, Inputs } from "./context.js";
import { ContractPanic, deserializePanic } from "./errors.js";
import { StorageLayout, type StorageSpec } from "./storage.js";

export type EntryPointType = "EXTERNAL" | "L1_HANDLER" | "CONSTRUCTOR";
export type StateMutability = "view" | "external";

/** A compiled entry point: raw felts in, raw felts out. */
export interface EntryPoint {
  readonly name: string;
  readonly selector: Felt;
  readonly type: EntryPointType;
  readonly mutability: StateMutability;
  run(ctx: CallContext<any, any>, calldata: readonly Felt[]): Felt[];
}

/** What starknet_getClass / starknet_getClassAt return for a Sierra class. */
export interface SierraClass {
  sierra_program: string[];
  contract_class_version: "0.1.0";
  entry_points_by_type: Record<EntryPointType, { selector: string; function_idx: number }[]>;
  abi: string;
}

export function fnSig<I extends Inputs, O = void>(name: string, inputs: I, output?: CairoType<O>): FnSig<I, O> {
  return { name, selector: selectorFromName(name), inputs, output };
}

/** Event member helpers: `key(t.contractAddress)` goes to keys, `data(t.u256)` to data. */
export function key<T>(type: CairoType<T>): EventMember<T> {
  return { type, key: true };
}
export function data<T>(type: CairoType<T>): EventMember<T> {
  return { type, key: false };
}

/** A registered native class: everything the runtime and the RPC need about it. */
export class ContractClass {
  readonly classHash: Felt;
  readonly compiledClassHash: Felt;
  readonly sierraClass: SierraClass;
  readonly abiJson: string;
  readonly entryPoints: ReadonlyMap<Felt, EntryPoint>;
  readonly constructorEntryPoint: EntryPoint | undefined;

  constructor(
    /** Cairo path of the contract module, e.g. "perpchain::erc20::ERC20". */
    readonly name: string,
    readonly version: number,
    readonly abi: readonly AbiEntry[],
    externals: readonly EntryPoint[],
    ctor: EntryPoint | undefined,
    /** Storage declaration (for tools that want to compute addresses). */
    readonly storage: StorageLayout<any>,
    /** Event declarations by name (keys[0] = sn_keccak(name)). */
    readonly events: Readonly<Record<string, EventSpec>>,
  ) {
    const eps = new Map<Felt, EntryPoint>();
    for (const ep of externals) {
      if (eps.has(ep.selector)) throw new TypeError(`${name}: duplicate entry point ${ep.name}`);
      eps.set(ep.selector, ep);
    }
    this.entryPoints = eps;
    this.constructorEntryPoint = ctor;
    this.abiJson = formatAbiJson(abi);

    const sorted = [...externals].sort((a, b) => (a.selector < b.selector ? -1 : a.selector > b.selector ? 1 : 0));
    const external = sorted.map((ep, i) => ({ selector: ep.selector, function_idx: i }));
    const constructor = ctor ? [{ selector: ctor.selector, function_idx: sorted.length }] : [];
    const program = syntheticSierraProgram(name, version);
    this.classHash = sierraClassHash({ external, l1Handler: [], constructor, abiJson: this.abiJson, program });
    this.compiledClassHash = poseidonMany([
      encodeShortString("COMPILED_CLASS_V1"),
      this.classHash,
      encodeShortString("perpchain-native"),
    ]);
    const hexEps = (l: { selector: Felt; function_idx: number }[]) =>
      l.map((e) => ({ selector: toHex(e.selector), function_idx: e.function_idx }));
    this.sierraClass = {
      sierra_program: program.map(toHex),
      contract_class_version: "0.1.0",
      entry_points_by_type: { CONSTRUCTOR: hexEps(constructor), EXTERNAL: hexEps(external), L1_HANDLER: [] },
      abi: this.abiJson,
    };
  }

  entryPoint(selector: Felt): EntryPoint | undefined {
    return this.entryPoints.get(selector);
  }
}

export interface SierraHashInput {
  external: readonly { selector: Felt; function_idx: number }[];
  l1Handler: readonly { selector: Felt; function_idx: number }[];
  constructor: readonly { selector: Felt; function_idx: number }[];
  abiJson: string;
  program: readonly Felt[];
}

export function sierraClassHash(c: SierraHashInput): Felt {
  const h = (l: SierraHashInput["external"]) => poseidonMany(l.flatMap((e) => [e.selector, BigInt(e.function_idx)]));
  return poseidonMany([
    encodeShortString("CONTRACT_CLASS_V0.1.0"),
    h(c.external),
    h(c.l1Handler),
    h(c.constructor),
    snKeccak(c.abiJson),
    poseidonMany(c.program),
  ]);
}

export function syntheticSierraProgram(name: string, version: number): Felt[] {
  const out = [encodeShortString("perpchain-native")];
  for (let i = 0; i < name.length; i += 31) out.push(encodeShortString(name.slice(i, i + 31)));
  out.push(BigInt(version));
  return out;
}

/** JSON with ", " and ": " outside strings (Python json.dumps default, as Cairo compilers emit). */
export function formatAbiJson(abi: readonly AbiEntry[]): string {
  const json = JSON.stringify(abi);
  let out = "";
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (c === '"' && json[i - 1] !== "\\") inString = !inString;
    out += c;
    if (!inString && (c === ":" || c === ",")) out += " ";
  }
  return out;
}

/** Deserialize calldata into named args; Cairo's panics on failure. */
export function decodeArgs<I extends Inputs>(inputs: I, calldata: readonly Felt[]): ArgValues<I> {
  const r = new FeltReader(calldata);
  const args: Record<string, unknown> = {};
  let i = 0;
  for (const [name, type] of Object.entries(inputs)) {
    i++;
    try {
      args[name] = type.decode(r);
    } catch (e) {
      if (e instanceof CalldataError) throw deserializePanic(i);
      throw e;
    }
  }
  if (r.remaining !== 0) throw ContractPanic.of("Input too long for arguments");
  return args as ArgValues<I>;
}

export function encodeArgs<I extends Inputs>(inputs: I, args: ArgValues<I>): Felt[] {
  const out: Felt[] = [];
  for (const [name, type] of Object.entries(inputs)) {
    if (!(name in (args as object))) throw new TypeError(`missing argument ${name}`);
    type.encode((args as Record<string, unknown>)[name], out);
  }
  return out;
}

interface ClassOptions<S, E> {
  storage: S;
  events: E;
  /** Bump when behaviour changes: it changes the class hash. */
  version?: number;
}

interface FnDecl {
  iface: string;
  sig: FnSig<Inputs, any>;
  mutability: StateMutability;
  run: (ctx: CallContext<any, any>, args: any) => unknown;
}

/**
 * Builder for a native class. Generic over the storage and event declarations so that
 * `ctx.storage.X` and `ctx.emit("Y", …)` are typed inside every function.
 */
export class ContractBuilder<S extends Record<string, StorageSpec>, E extends Record<string, EventSpec>> {
  private readonly fns: FnDecl[] = [];
  private ctor: { inputs: Inputs; run: (ctx: CallContext<S, E>, args: any) => void } | undefined;

  constructor(
    private readonly path: string,
    private readonly opts: ClassOptions<S, E>,
  ) {}

  constructor_<I extends Inputs>(inputs: I, run: (ctx: CallContext<S, E>, args: ArgValues<I>) => void): this {
    if (this.ctor) throw new TypeError(`${this.path}: constructor declared twice`);
    this.ctor = { inputs, run };
    return this;
  }

  /** A state-changing external function in Cairo interface `iface` (fully qualified path). */
  external<I extends Inputs, O>(iface: string, sig: FnSig<I, O>, run: (ctx: CallContext<S, E>, args: ArgValues<I>) => O): this {
    this.fns.push({ iface, sig, mutability: "external", run });
    return this;
  }

  /** A view function (same execution, `state_mutability: "view"` in the ABI). */
  view<I extends Inputs, O>(iface: string, sig: FnSig<I, O>, run: (ctx: CallContext<S, E>, args: ArgValues<I>) => O): this {
    this.fns.push({ iface, sig, mutability: "view", run });
    return this;
  }

  build(): ContractClass {
    const { path, opts } = this;
    const typeEntries = new Map<string, AbiEntry>();
    const addTypes = (type: CairoType<unknown>) => {
      for (const e of type.abiEntries) if (!typeEntries.has(e.name)) typeEntries.set(e.name, e);
    };

    const ifaceOrder: string[] = [];
    const ifaceItems = new Map<string, AbiEntry[]>();
    for (const f of this.fns) {
      if (!ifaceItems.has(f.iface)) {
        ifaceOrder.push(f.iface);
        ifaceItems.set(f.iface, []);
      }
      for (const type of Object.values(f.sig.inputs)) addTypes(type);
      if (f.sig.output) addTypes(f.sig.output);
      ifaceItems.get(f.iface)!.push({
        type: "function",
        name: f.sig.name,
        inputs: Object.entries(f.sig.inputs).map(([name, type]) => ({ name, type: type.abiName })),
        outputs: f.sig.output ? [{ type: f.sig.output.abiName }] : [],
        state_mutability: f.mutability,
      });
    }

    const abi: AbiEntry[] = [];
    for (const iface of ifaceOrder) {
      const short = iface.split("::").pop()!;
      abi.push({ type: "impl", name: `${short}Impl`, interface_name: iface });
      abi.push({ type: "interface", name: iface, items: ifaceItems.get(iface)! });
    }
    if (this.ctor) for (const type of Object.values(this.ctor.inputs)) addTypes(type);
    for (const spec of Object.values(opts.events)) for (const m of Object.values(spec)) addTypes(m.type);
    abi.push(...typeEntries.values());
    if (this.ctor) {
      abi.push({
        type: "constructor",
        name: "constructor",
        inputs: Object.entries(this.ctor.inputs).map(([name, type]) => ({ name, type: type.abiName })),
      });
    }
    const eventNames = Object.keys(opts.events);
    for (const ev of eventNames) {
      abi.push({
        type: "event",
        name: `${path}::${ev}`,
        kind: "struct",
        members: Object.entries(opts.events[ev]!).map(([name, m]) => ({
          name,
          type: m.type.abiName,
          kind: m.key ? "key" : "data",
        })),
      });
    }
    abi.push({
      type: "event",
      name: `${path}::Event`,
      kind: "enum",
      variants: eventNames.map((ev) => ({ name: ev, type: `${path}::${ev}`, kind: "nested" })),
    });

    const externals: EntryPoint[] = this.fns.map((f) => ({
      name: f.sig.name,
      selector: f.sig.selector,
      type: "EXTERNAL",
      mutability: f.mutability,
      run(ctx, calldata) {
        const args = decodeArgs(f.sig.inputs, calldata);
        const result = f.run(ctx, args);
        return f.sig.output ? encodeValue(f.sig.output, result) : [];
      },
    }));
    const c = this.ctor;
    const ctorEp: EntryPoint | undefined = c && {
      name: "constructor",
      selector: selectorFromName("constructor"),
      type: "CONSTRUCTOR",
      mutability: "external",
      run(ctx, calldata) {
        c.run(ctx as CallContext<S, E>, decodeArgs(c.inputs, calldata));
        return [];
      },
    };
    return new ContractClass(path, opts.version ?? 1, abi, externals, ctorEp, new StorageLayout(opts.storage), opts.events);
  }
}

/** Start declaring a native contract class at Cairo path `path`. */
export function defineContract<S extends Record<string, StorageSpec>, E extends Record<string, EventSpec>>(
  path: string,
  opts: ClassOptions<S, E>,
): ContractBuilder<S, E> {
  return new ContractBuilder(path, opts);
}
