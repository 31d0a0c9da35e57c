import { describe, expect, it } from "vitest";
import { CallData, hash, cairo, CairoOption, CairoOptionVariant, CairoCustomEnum, events as snEvents } from "starknet";
import {
  ClassRegistry,
  ContractPanic,
  DiffStateReader,
  EMPTY_TX_INFO,
  EntrypointNotFoundError,
  ContractNotFoundError,
  ExecutionEngine,
  GAS,
  GasMeter,
  JournaledState,
  decodeValue,
  defineContract,
  encodeValue,
  fnSig,
  key,
  data,
  storageMap,
  storageMapAddress,
  storageVar,
  storageVarAddress,
  t,
  computeContractAddress,
} from "../../contracts/runtime/index.js";
import { emptyStateDiff } from "../../state/state-diff.js";
import { P, encodeShortString } from "../../state/felt.js";
import { selectorFromName } from "../../state/crypto/hash.js";

const ICounter = "perpchain::counter::ICounter";
const Point = t.struct("perpchain::counter::Point", { x: t.i128, y: t.u256 });
const Side = t.enum("perpchain::counter::Side", { Buy: t.unit, Sell: t.u8 });
const getCount = fnSig("get_count", { owner: t.contractAddress }, t.u64);
const increment = fnSig("increment", { by: t.u64 });
const echo = fnSig(
  "echo",
  { p: Point, side: Side, tag: t.byteArray, items: t.span(t.felt252), maybe: t.option(t.u32), flag: t.bool },
  t.array(t.felt252),
);
const callOther = fnSig("call_other", { target: t.contractAddress, by: t.u64 });

const CounterClass = defineContract("perpchain::counter::Counter", {
  storage: {
    admin: storageVar(t.contractAddress),
    counts: storageMap([t.contractAddress], t.u64),
    points: storageMap([t.contractAddress, t.u256], Point),
  },
  events: {
    Incremented: { owner: key(t.contractAddress), by: data(t.u64), total: data(t.u256) },
  },
})
  .constructor_({ admin: t.contractAddress }, (ctx, a) => ctx.storage.admin.write(a.admin))
  .view(ICounter, getCount, (ctx, a) => ctx.storage.counts.read(a.owner))
  .external(ICounter, increment, (ctx, a) => {
    ctx.assert(a.by > 0n, "Counter: zero increment");
    const total = ctx.storage.counts.read(ctx.caller) + a.by;
    ctx.storage.counts.write(ctx.caller, total);
    ctx.storage.points.write(ctx.caller, 7n, { x: -5n, y: total });
    ctx.emit("Incremented", { owner: ctx.caller, by: a.by, total });
  })
  .view(ICounter, echo, (_ctx, a) => {
    const out: bigint[] = [];
    out.push(...encodeValue(Point, a.p), ...encodeValue(Side, a.side), ...encodeValue(t.byteArray, a.tag));
    out.push(BigInt(a.items.length), a.maybe ?? 999n, a.flag ? 1n : 0n);
    return out;
  })
  .external(ICounter, callOther, (ctx, a) => {
    ctx.callFn(a.target, increment, { by: a.by });
    ctx.storage.admin.write(123n); // this write must also vanish if the caller's tx reverts
  })
  .build();

const BLOCK = { blockNumber: 1n, blockTimestamp: 1_700_000_000n, sequencerAddress: 0x1n };

function setup() {
  const diff = emptyStateDiff();
  const registry = new ClassRegistry([CounterClass]);
  const state = new JournaledState(new DiffStateReader(diff));
  const engine = new ExecutionEngine(state, registry, { block: BLOCK, tx: EMPTY_TX_INFO }, new GasMeter(10n ** 12n));
  const a = engine.deploy(0n, CounterClass.classHash, 1n, [0xaaan], true).address;
  const b = engine.deploy(0n, CounterClass.classHash, 2n, [0xbbbn], true).address;
  return { state, engine, a, b };
}

describe("contract class", () => {
  it("class hash equals starknet.js computeContractClassHash of the served class object", () => {
    const served = { ...CounterClass.sierraClass, abi: JSON.parse(CounterClass.sierraClass.abi) };
    expect(BigInt(hash.computeContractClassHash(served))).toBe(CounterClass.classHash);
  });

  it("entry points carry sn_keccak selectors sorted ascending", () => {
    const sels = CounterClass.sierraClass.entry_points_by_type.EXTERNAL.map((e) => BigInt(e.selector));
    expect(sels).toEqual([...sels].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    expect(new Set(sels)).toEqual(
      new Set(["get_count", "increment", "echo", "call_other"].map((n) => BigInt(hash.getSelectorFromName(n)))),
    );
    expect(CounterClass.sierraClass.entry_points_by_type.CONSTRUCTOR).toEqual([
      { selector: hash.getSelectorFromName("constructor"), function_idx: 4 },
    ]);
  });

  it("ABI lets starknet.js CallData compile every argument kind like our encoder", () => {
    const abi = JSON.parse(CounterClass.abiJson);
    const cd = new CallData(abi);
    const compiled = cd.compile("echo", {
      p: { x: -5n, y: cairo.uint256(2n ** 200n + 3n) },
      side: new CairoCustomEnum({ Sell: 3 }),
      tag: "hello, this is a string longer than thirty-one bytes!",
      items: [1, 2, 3],
      maybe: new CairoOption(CairoOptionVariant.Some, 77),
      flag: true,
    });
    const ours = [
      ...encodeValue(Point, { x: -5n, y: 2n ** 200n + 3n }),
      ...encodeValue(Side, { variant: "Sell", value: 3n }),
      ...encodeValue(t.byteArray, "hello, this is a string longer than thirty-one bytes!"),
      ...encodeValue(t.span(t.felt252), [1n, 2n, 3n]),
      ...encodeValue(t.option(t.u32), 77n),
      ...encodeValue(t.bool, true),
    ];
    expect(compiled.map(BigInt)).toEqual(ours);
    expect(ours[0]).toBe(P - 5n);
    expect(cd.compile("constructor", { admin: "0x123" }).map(BigInt)).toEqual([0x123n]);
  });

  it("decodes what it encodes and rejects out-of-range felts", () => {
    expect(decodeValue(t.u256, [5n, 1n])).toBe((1n << 128n) + 5n);
    expect(decodeValue(t.i128, [P - 1n])).toBe(-1n);
    expect(decodeValue(t.byteArray, encodeValue(t.byteArray, "abc"))).toBe("abc");
    expect(() => decodeValue(t.u8, [256n])).toThrow("core::integer::u8: value out of range");
    expect(() => decodeValue(t.bool, [2n])).toThrow("bool: value is not 0 or 1");
    expect(() => decodeValue(t.u256, [1n << 128n, 0n])).toThrow("u256: limb out of range");
  });
});

describe("execution engine", () => {
  it("deploys at the starknet.js counterfactual address and runs the constructor", () => {
    const { state, a } = setup();
    expect(a).toBe(BigInt(hash.calculateContractAddressFromHash(1n, CounterClass.classHash, [0xaaan], 0)));
    expect(state.getStorage(a, storageVarAddress("admin"))).toBe(0xaaan);
    expect(computeContractAddress(0n, 1n, CounterClass.classHash, [0xaaan])).toBe(a);
  });

  it("writes maps at pedersen(sn_keccak(name), keys) and multi-felt values at consecutive slots", () => {
    const { state, engine, a } = setup();
    engine.call({ to: a, selector: increment.selector, calldata: [4n], caller: 0x55n });
    const slot = BigInt(hash.computePedersenHash(hash.starknetKeccak("counts"), "0x55")) % (2n ** 251n - 256n);
    expect(storageMapAddress("counts", [0x55n])).toBe(slot);
    expect(state.getStorage(a, slot)).toBe(4n);
    const pointBase = storageMapAddress("points", [0x55n, 7n, 0n]);
    expect([0n, 1n, 2n].map((i) => state.getStorage(a, pointBase + i))).toEqual([P - 5n, 4n, 0n]);
  });

  it("emits events with keys [sn_keccak(name), #[key] members] that starknet.js parses", () => {
    const { state, engine, a } = setup();
    engine.call({ to: a, selector: increment.selector, calldata: [9n], caller: 0x55n });
    const ev = state.events.at(-1)!;
    expect(ev).toEqual({ from_address: a, keys: [selectorFromName("Incremented"), 0x55n], data: [9n, 9n, 0n] });
    const abi = JSON.parse(CounterClass.abiJson);
    const parsed = snEvents.parseEvents(
      [{ from_address: "0x1", keys: ev.keys.map((k) => "0x" + k.toString(16)), data: ev.data.map((k) => "0x" + k.toString(16)) }] as never,
      snEvents.getAbiEvents(abi),
      CallData.getAbiStruct(abi),
      CallData.getAbiEnum(abi),
      new CallData(abi).parser,
    );
    expect(parsed[0]!["perpchain::counter::Counter::Incremented"]).toEqual({ owner: 0x55n, by: 9n, total: 9n });
  });

  it("a panic reverts the call's writes and events and carries the short-string reason", () => {
    const { state, engine, a, b } = setup();
    engine.call({ to: a, selector: increment.selector, calldata: [1n], caller: 0x55n });
    const eventsBefore = state.events.length;
    let err: unknown;
    try {
      // b.call_other(a, 0) → a.increment(0) panics after b... nothing written yet; then ensure revert of nested
      engine.call({ to: b, selector: callOther.selector, calldata: [a, 0n], caller: 0x55n });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ContractPanic);
    const panic = err as ContractPanic;
    expect(panic.panicData).toEqual([encodeShortString("Counter: zero increment")]);
    expect(panic.frames.map((f) => f.contractAddress)).toEqual([b, a]);
    expect(panic.message).toBe(
      "Execution failed. Failure reason: 0x436f756e7465723a207a65726f20696e6372656d656e74 ('Counter: zero increment').",
    );
    expect(state.events.length).toBe(eventsBefore);
    expect(state.getStorage(b, storageVarAddress("admin"))).toBe(0xbbbn);
  });

  it("nested writes revert when the outer call panics after them", () => {
    const Outer = defineContract("perpchain::test::Outer", { storage: {}, events: {} })
      .external("perpchain::test::IOuter", fnSig("go", { target: t.contractAddress }), (ctx, a) => {
        ctx.callFn(a.target, increment, { by: 5n });
        ctx.panic("Outer: boom");
      })
      .build();
    const { state, engine, a } = setup();
    engine.registry.register(Outer);
    const outer = engine.deploy(0n, Outer.classHash, 9n, [], true).address;
    state.checkpoint();
    expect(() => engine.call({ to: outer, selector: selectorFromName("go"), calldata: [a], caller: 0n })).toThrow(
      "Outer: boom",
    );
    state.commit();
    expect(state.getStorage(a, storageMapAddress("counts", [outer]))).toBe(0n);
  });

  it("bad calldata panics like Cairo deserialization", () => {
    const { engine, a } = setup();
    expect(() => engine.call({ to: a, selector: increment.selector, calldata: [], caller: 1n })).toThrow(
      "('Failed to deserialize param #1')",
    );
    expect(() => engine.call({ to: a, selector: increment.selector, calldata: [1n, 2n], caller: 1n })).toThrow(
      "('Input too long for arguments')",
    );
    expect(() => engine.call({ to: a, selector: increment.selector, calldata: [1n << 64n], caller: 1n })).toThrow(
      "('Failed to deserialize param #1')",
    );
  });

  it("unknown selector and empty address give typed errors with RPC codes", () => {
    const { engine, a } = setup();
    const e1 = (() => {
      try {
        engine.call({ to: a, selector: 0x1234n, calldata: [], caller: 1n });
      } catch (e) {
        return e;
      }
    })();
    expect(e1).toBeInstanceOf(EntrypointNotFoundError);
    expect((e1 as EntrypointNotFoundError).code).toBe(21);
    expect(() => engine.call({ to: 0x999n, selector: 0x1n, calldata: [], caller: 1n })).toThrow(ContractNotFoundError);
  });

  it("charges gas per the schedule and panics out of gas", () => {
    const { engine, a } = setup();
    const before = engine.meter.used;
    const inv = engine.call({ to: a, selector: getCount.selector, calldata: [0x55n], caller: 1n });
    expect(inv.result).toEqual([0n]);
    expect(engine.meter.used - before).toBe(GAS.CALL + GAS.CALL_CALLDATA_FELT + GAS.HASH + GAS.STORAGE_READ);
    expect(inv.execution_resources.l2_gas).toBe(engine.meter.used - before);
    engine.meter.limit = engine.meter.used + 10n;
    expect(() => engine.call({ to: a, selector: getCount.selector, calldata: [0x55n], caller: 1n })).toThrow(
      "('Out of gas')",
    );
  });
});
