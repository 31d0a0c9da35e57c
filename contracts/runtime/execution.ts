// The call engine: runs entry points of native classes against a JournaledState,
// one checkpoint per call (a panicking call reverts its own writes and events and
// the panic propagates to the caller, as Cairo 1 call_contract does), charging the
// gas schedule and recording a call trace in the starknet_trace FUNCTION_INVOCATION
// shape (felts as bigint; the RPC layer renders hex).

import { type Felt, encodeShortString } from "../../state/felt.js";
import { hashBackend, pedersen, poseidonMany, selectorFromName } from "../../state/crypto/hash.js";
import { computeContractAddress } from "./address.js";
import { decodeValue } from "./cairo-types.js";
import type { ClassRegistry } from "./class-registry.js";
import { type ContractClass, type EntryPoint, type EntryPointType, encodeArgs } from "./contract-class.js";
import type { ArgValues, BlockInfo, CallContext, EventSpec, FnSig, Inputs, TxInfo } from "./context.js";
import { ClassHashNotFoundError, ContractNotFoundError, ContractPanic, EntrypointNotFoundError, isExecutionFailure } from "./errors.js";
import { GAS, GasMeter } from "./gas.js";
import type { JournaledState } from "./journaled-state.js";
import type { RawStorage } from "./storage.js";

export interface OrderedEvent {
  order: number;
  keys: Felt[];
  data: Felt[];
}

/** One call in a trace (spec FUNCTION_INVOCATION). */
export interface FunctionInvocation {
  contract_address: Felt;
  entry_point_selector: Felt;
  calldata: Felt[];
  caller_address: Felt;
  class_hash: Felt;
  entry_point_type: EntryPointType;
  call_type: "CALL";
  result: Felt[];
  calls: FunctionInvocation[];
  events: OrderedEvent[];
  messages: never[];
  execution_resources: { l1_gas: bigint; l2_gas: bigint };
  is_reverted: boolean;
}

export interface CallRequest {
  to: Felt;
  selector: Felt;
  calldata: readonly Felt[];
  caller: Felt;
  entryPointType?: EntryPointType;
}

/** Largest call depth (Starknet's is 100 too). */
export const MAX_CALL_DEPTH = 100;

/** Block and tx info every call in one transaction (or one starknet_call) shares. */
export interface ExecutionEnv {
  block: BlockInfo;
  tx: TxInfo;
}

export const EMPTY_TX_INFO: TxInfo = {
  version: 0n,
  accountAddress: 0n,
  transactionHash: 0n,
  chainId: 0n,
  nonce: 0n,
  signature: [],
  resourceBounds: {
    l1Gas: { maxAmount: 0n, maxPricePerUnit: 0n },
    l1DataGas: { maxAmount: 0n, maxPricePerUnit: 0n },
    l2Gas: { maxAmount: 0n, maxPricePerUnit: 0n },
  },
  tip: 0n,
  paymasterData: [],
  accountDeploymentData: [],
};

const OUT_OF_GAS = encodeShortString("Out of gas");

export class ExecutionEngine {
  private eventOrder = 0;
  private depth = 0;

  constructor(
    readonly state: JournaledState,
    readonly registry: ClassRegistry,
    readonly env: ExecutionEnv,
    readonly meter: GasMeter,
  ) {}

  charge(amount: bigint): void {
    if (!this.meter.charge(amount)) throw new ContractPanic([OUT_OF_GAS]);
  }

  classAt(address: Felt): ContractClass {
    const classHash = this.state.getClassHash(address);
    if (classHash === 0n) throw ContractNotFoundError.at(address);
    const cls = this.registry.get(classHash);
    if (!cls) throw ClassHashNotFoundError.of(classHash);
    return cls;
  }

  /**
   * Run an entry point. On success the call's writes stay (merged into the caller's
   * checkpoint); on any error they are reverted and the error is rethrown, with this
   * frame added to a ContractPanic's stack.
   */
  call(req: CallRequest, parentCalls?: FunctionInvocation[]): FunctionInvocation {
    const cls = this.classAt(req.to);
    const type = req.entryPointType ?? "EXTERNAL";
    const ep = type === "CONSTRUCTOR" ? cls.constructorEntryPoint : cls.entryPoint(req.selector);
    if (!ep) throw EntrypointNotFoundError.of(req.to, req.selector);
    return this.runEntryPoint(cls, ep, req, parentCalls);
  }

  /** deploy_syscall: set the class at the derived address, then run the constructor. */
  deploy(
    deployer: Felt,
    classHash: Felt,
    salt: Felt,
    calldata: readonly Felt[],
    deployFromZero: boolean,
    parentCalls?: FunctionInvocation[],
  ): { address: Felt; invocation: FunctionInvocation | undefined } {
    const address = computeContractAddress(deployFromZero ? 0n : deployer, salt, classHash, calldata);
    return this.deployAt(address, deployer, classHash, calldata, parentCalls);
  }

  /**
   * Deploy at a given address (the deploy syscall after address derivation; genesis uses
   * it directly for fixed predeploy addresses). `caller` is the constructor's caller.
   */
  deployAt(
    address: Felt,
    caller: Felt,
    classHash: Felt,
    calldata: readonly Felt[],
    parentCalls?: FunctionInvocation[],
  ): { address: Felt; invocation: FunctionInvocation | undefined } {
    this.charge(GAS.DEPLOY);
    const cls = this.registry.get(classHash);
    if (!cls) throw ClassHashNotFoundError.of(classHash);
    if (this.state.getClassHash(address) !== 0n) throw ContractPanic.of("CONTRACT_ALREADY_DEPLOYED");
    this.state.checkpoint();
    try {
      this.state.setClassHash(address, classHash);
      let invocation: FunctionInvocation | undefined;
      const ep = cls.constructorEntryPoint;
      if (ep) {
        invocation = this.runEntryPoint(
          cls,
          ep,
          { to: address, selector: ep.selector, calldata, caller, entryPointType: "CONSTRUCTOR" },
          parentCalls,
        );
      } else if (calldata.length > 0) {
        throw ContractPanic.of("Invalid calldata length");
      }
      this.state.commit();
      return { address, invocation };
    } catch (e) {
      this.state.revert();
      throw e;
    }
  }

  private runEntryPoint(
    cls: ContractClass,
    ep: EntryPoint,
    req: CallRequest,
    parentCalls: FunctionInvocation[] | undefined,
  ): FunctionInvocation {
    const invocation: FunctionInvocation = {
      contract_address: req.to,
      entry_point_selector: ep.selector,
      calldata: [...req.calldata],
      caller_address: req.caller,
      class_hash: cls.classHash,
      entry_point_type: ep.type,
      call_type: "CALL",
      result: [],
      calls: [],
      events: [],
      messages: [],
      execution_resources: { l1_gas: 0n, l2_gas: 0n },
      is_reverted: false,
    };
    parentCalls?.push(invocation);
    const gasBefore = this.meter.used;
    if (this.depth >= MAX_CALL_DEPTH) throw ContractPanic.of("Max call depth exceeded");
    this.depth++;
    this.state.checkpoint();
    try {
      this.charge(GAS.CALL + GAS.CALL_CALLDATA_FELT * BigInt(req.calldata.length));
      const ctx = new NativeCallContext(this, cls, ep, req, invocation);
      invocation.result = ep.run(ctx, req.calldata);
      this.state.commit();
      return invocation;
    } catch (e) {
      this.state.revert();
      invocation.is_reverted = true;
      if (e instanceof ContractPanic) e.frames.unshift({ contractAddress: req.to, classHash: cls.classHash, selector: ep.selector });
      else if (!isExecutionFailure(e)) throw e; // a bug in a native contract: crash loudly
      throw e;
    } finally {
      this.depth--;
      invocation.execution_resources.l2_gas = this.meter.used - gasBefore;
    }
  }

  nextEventOrder(): number {
    return this.eventOrder++;
  }
}

/** A call frame's raw storage for its accessors: one object, not three closures a frame. */
class FrameStorage implements RawStorage {
  constructor(
    private readonly frame: NativeCallContext,
    private readonly engine: ExecutionEngine,
  ) {}
  read(key: Felt): Felt {
    return this.frame.readRaw(key);
  }
  write(key: Felt, value: Felt): void {
    this.frame.writeRaw(key, value);
  }
  chargeHashes(n: number): void {
    this.engine.charge(GAS.HASH * BigInt(n));
  }
}

class NativeCallContext implements CallContext<any, any> {
  readonly self: Felt;
  readonly caller: Felt;
  readonly classHash: Felt;
  readonly selector: Felt;
  private storageCache: unknown;

  constructor(
    private readonly engine: ExecutionEngine,
    private readonly cls: ContractClass,
    ep: EntryPoint,
    req: CallRequest,
    private readonly invocation: FunctionInvocation,
  ) {
    this.self = req.to;
    this.caller = req.caller;
    this.classHash = cls.classHash;
    this.selector = ep.selector;
  }

  get block() {
    this.engine.charge(GAS.SYSCALL_INFO);
    return this.engine.env.block;
  }
  get tx() {
    this.engine.charge(GAS.SYSCALL_INFO);
    return this.engine.env.tx;
  }

  get storage(): any {
    if (!this.storageCache) this.storageCache = this.cls.storage.accessors(new FrameStorage(this, this.engine));
    return this.storageCache;
  }

  readRaw(key: Felt): Felt {
    this.engine.charge(GAS.STORAGE_READ);
    return this.engine.state.getStorage(this.self, key);
  }

  writeRaw(key: Felt, value: Felt): void {
    this.engine.charge(GAS.STORAGE_WRITE);
    this.engine.state.setStorage(this.self, key, value);
  }

  emit(name: string, values: Record<string, unknown>): void {
    const spec: EventSpec | undefined = this.cls.events[name];
    if (!spec) throw new TypeError(`${this.cls.name}: undeclared event ${name}`);
    const keys: Felt[] = [selectorOf(name)];
    const data: Felt[] = [];
    for (const [member, m] of Object.entries(spec)) {
      if (!(member in values)) throw new TypeError(`${this.cls.name}: event ${name} misses ${member}`);
      m.type.encode(values[member], m.key ? keys : data);
    }
    this.engine.charge(GAS.EVENT + GAS.EVENT_FELT * BigInt(keys.length + data.length));
    this.engine.state.emitEvent({ from_address: this.self, keys, data });
    this.invocation.events.push({ order: this.engine.nextEventOrder(), keys, data });
  }

  call(address: Felt, selector: Felt, calldata: readonly Felt[]): Felt[] {
    const inv = this.engine.call({ to: address, selector, calldata, caller: this.self }, this.invocation.calls);
    return inv.result;
  }

  callFn<I extends Inputs, O>(address: Felt, sig: FnSig<I, O>, args: ArgValues<I>): O {
    const result = this.call(address, sig.selector, encodeArgs(sig.inputs, args));
    if (!sig.output) return undefined as O;
    try {
      return decodeValue(sig.output, result);
    } catch {
      throw ContractPanic.of("Failed to deserialize result");
    }
  }

  deploy(classHash: Felt, salt: Felt, constructorCalldata: readonly Felt[], deployFromZero: boolean): Felt {
    return this.engine.deploy(this.self, classHash, salt, constructorCalldata, deployFromZero, this.invocation.calls).address;
  }

  getClassHashAt(address: Felt): Felt {
    this.engine.charge(GAS.SYSCALL_INFO);
    return this.engine.state.getClassHash(address);
  }

  panic(reason: string | readonly Felt[]): never {
    throw typeof reason === "string" ? ContractPanic.of(reason) : new ContractPanic([...reason]);
  }

  assert(condition: boolean, reason: string): void {
    if (!condition) throw ContractPanic.of(reason);
  }

  ecdsaVerify(messageHash: Felt, r: Felt, s: Felt, publicKey: Felt): boolean {
    this.engine.charge(GAS.ECDSA_VERIFY);
    try {
      return hashBackend().ecdsaVerify(messageHash, r, s, publicKey);
    } catch {
      return false; // malformed (r, s) or a key not on the curve is simply an invalid signature
    }
  }

  pedersen(a: Felt, b: Felt): Felt {
    this.engine.charge(GAS.HASH);
    return pedersen(a, b);
  }

  poseidonMany(values: readonly Felt[]): Felt {
    this.engine.charge(GAS.HASH * BigInt(Math.ceil((values.length + 1) / 2)));
    return poseidonMany(values);
  }
}

const selectorCache = new Map<string, Felt>();
function selectorOf(name: string): Felt {
  let s = selectorCache.get(name);
  if (s === undefined) selectorCache.set(name, (s = selectorFromName(name)));
  return s;
}
