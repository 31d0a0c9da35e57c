// The native contract runtime: TypeScript contracts that look, to every client, like
// compiled Cairo 1 contracts (ABI, selectors, calldata, storage addresses, events,
// reverts), executed deterministically against a StateReader. Never reads the clock,
// randomness or the environment: block/tx info and keys come in as inputs.
//
// ─── How to write a contract ───────────────────────────────────────────────────────
//
//   import { defineContract, fnSig, key, data, storageVar, storageMap, t } from "../runtime/index.js";
//
//   // Signatures are values: use them to define a function and to call it from elsewhere.
//   export const getCount = fnSig("get_count", { owner: t.contractAddress }, t.u64);
//   export const increment = fnSig("increment", { by: t.u64 });            // returns nothing
//
//   export const CounterClass = defineContract("perpchain::counter::Counter", {
//     storage: {
//       admin: storageVar(t.contractAddress),                            // at sn_keccak("admin")
//       counts: storageMap([t.contractAddress], t.u64),                  // pedersen(sn_keccak("counts"), owner)
//     },
//     events: {
//       Incremented: { owner: key(t.contractAddress), by: data(t.u64) }, // keys: [sn_keccak("Incremented"), owner]
//     },
//   })
//     .constructor_({ admin: t.contractAddress }, (ctx, a) => ctx.storage.admin.write(a.admin))
//     .view("perpchain::counter::ICounter", getCount, (ctx, a) => ctx.storage.counts.read(a.owner))
//     .external("perpchain::counter::ICounter", increment, (ctx, a) => {
//       ctx.assert(a.by > 0n, "Counter: zero increment");               // panics with that short string
//       const owner = ctx.caller;
//       ctx.storage.counts.write(owner, ctx.storage.counts.read(owner) + a.by);
//       ctx.emit("Incremented", { owner, by: a.by });
//     })
//     .build();                                                           // → ContractClass (class hash, ABI, Sierra class)
//
//   Calling another contract from inside a function (a panic there reverts and propagates):
//     const ok = ctx.callFn(tokenAddress, erc20.transferFrom, { sender, recipient, amount });
//     const raw = ctx.call(address, selectorFromName("foo"), [1n, 2n]);
//
// Values: felt252/uN/ContractAddress → bigint, u256 → bigint (low/high in calldata and
// storage), iN → signed bigint (P − |x| on the wire), bool → boolean, ByteArray → string,
// Array/Span → T[], Option → T | null, t.struct(path, {...}) → object,
// t.enum(path, {A: t.unit, B: t.u8}) → { variant, value }.
//
// Running: register classes in a ClassRegistry, then use the transaction executor
// (executeTransaction / callView / estimate in transaction-executor.ts), or an
// ExecutionEngine over a JournaledState for lower-level work (tests, genesis).
// Gas costs live in gas.ts; error classes with their RPC codes in errors.ts.

export { t, CalldataError, FeltReader, encodeValue, decodeValue, unit } from "./cairo-types.js";
export type { AbiEntry, CairoType, ValueOf, StructValue, EnumValue } from "./cairo-types.js";
export {
  storageVar,
  storageMap,
  storageVarAddress,
  storageMapAddress,
  mapEntryAddress,
  singleKeyAddress,
  knownSingleKeyAddress,
  prefetchSingleKeyAddresses,
  fieldAddress,
  STORAGE_ADDRESS_BOUND,
  StorageLayout,
} from "./storage.js";
export type { StorageSpec, StorageAccessors, VarAccessor, MapAccessor } from "./storage.js";
export {
  defineContract,
  fnSig,
  key,
  data,
  ContractClass,
  ContractBuilder,
  sierraClassHash,
  formatAbiJson,
  decodeArgs,
  encodeArgs,
} from "./contract-class.js";
export type { EntryPoint, EntryPointType, SierraClass, StateMutability } from "./contract-class.js";
export { decodeEvent, type DecodedEvent } from "./event-codec.js";
export type {
  CallContext,
  BlockInfo,
  TxInfo,
  ResourceBounds,
  ResourceBound,
  FnSig,
  Inputs,
  ArgValues,
  EventSpec,
  EventMember,
  EventValues,
} from "./context.js";
export { ClassRegistry } from "./class-registry.js";
export { JournaledState, DiffStateReader, stateDiffSize } from "./journaled-state.js";
export type { EmittedEvent } from "./journaled-state.js";
export { ExecutionEngine, EMPTY_TX_INFO, MAX_CALL_DEPTH } from "./execution.js";
export type { FunctionInvocation, OrderedEvent, CallRequest, ExecutionEnv } from "./execution.js";
export { computeContractAddress, CONTRACT_ADDRESS_BOUND } from "./address.js";
export { GAS, L1_DATA_GAS_PER_FELT, computeFee, l1DataGasFor, stateDiffFelts, GasMeter } from "./gas.js";
export type { GasVector, GasPrices } from "./gas.js";
export * from "./errors.js";
