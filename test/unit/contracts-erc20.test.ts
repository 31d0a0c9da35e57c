import { describe, expect, it } from "vitest";
import { CallData, cairo, Contract, events as snEvents, byteArray } from "starknet";
import {
  ClassRegistry,
  ContractPanic,
  DiffStateReader,
  EMPTY_TX_INFO,
  ExecutionEngine,
  GasMeter,
  JournaledState,
  encodeArgs,
  erc20,
  erc20Class,
  erc20ConstructorCalldata,
  storageMapAddress,
} from "../../contracts/index.js";
import { emptyStateDiff } from "../../state/state-diff.js";
import { encodeShortString } from "../../state/felt.js";
import { selectorFromName } from "../../state/crypto/hash.js";
import { hash } from "starknet";

const MINTER = 0x111n;
const ALICE = 0xa11cen;
const BOB = 0xb0bn;

function setup() {
  const state = new JournaledState(new DiffStateReader(emptyStateDiff()));
  const engine = new ExecutionEngine(
    state,
    new ClassRegistry([erc20Class]),
    { block: { blockNumber: 1n, blockTimestamp: 0n, sequencerAddress: 0n }, tx: EMPTY_TX_INFO },
    new GasMeter(10n ** 12n),
  );
  const token = engine.deploy(
    0n,
    erc20Class.classHash,
    7n,
    erc20ConstructorCalldata({ name: "USD Coin", symbol: "USDC", decimals: 6, initialSupply: 1000n, recipient: ALICE, minter: MINTER }),
    true,
  ).address;
  const call = (caller: bigint, name: string, calldata: bigint[]) =>
    engine.call({ to: token, selector: selectorFromName(name), calldata, caller }).result;
  return { state, engine, token, call };
}

describe("ERC20", () => {
  it("serves metadata and balances through snake_case and camelCase views", () => {
    const { call } = setup();
    expect(call(0n, "name", [])).toEqual(CallData.compile([byteArray.byteArrayFromString("USD Coin")]).map(BigInt));
    expect(call(0n, "symbol", [])).toEqual(CallData.compile([byteArray.byteArrayFromString("USDC")]).map(BigInt));
    expect(call(0n, "decimals", [])).toEqual([6n]);
    expect(call(0n, "balance_of", [ALICE])).toEqual([1000n, 0n]);
    expect(call(0n, "balanceOf", [ALICE])).toEqual([1000n, 0n]);
    expect(call(0n, "total_supply", [])).toEqual([1000n, 0n]);
    expect(call(0n, "totalSupply", [])).toEqual([1000n, 0n]);
  });

  it("stores balances as u256 at OZ's ERC20_balances map address", () => {
    const { state, token } = setup();
    const slot = BigInt(hash.computePedersenHash(hash.starknetKeccak("ERC20_balances"), "0xa11ce")) % (2n ** 251n - 256n);
    expect(storageMapAddress("ERC20_balances", [ALICE])).toBe(slot);
    expect(state.getStorage(token, slot)).toBe(1000n);
    expect(state.getStorage(token, slot + 1n)).toBe(0n);
  });

  it("transfer moves value and emits Transfer(from, to; value) as OZ does", () => {
    const { state, call, token } = setup();
    expect(call(ALICE, "transfer", [BOB, 300n, 0n])).toEqual([1n]);
    expect(call(0n, "balance_of", [ALICE])).toEqual([700n, 0n]);
    expect(call(0n, "balance_of", [BOB])).toEqual([300n, 0n]);
    expect(state.events.at(-1)).toEqual({ from_address: token, keys: [selectorFromName("Transfer"), ALICE, BOB], data: [300n, 0n] });
  });

  it("transfer beyond the balance panics 'ERC20: insufficient balance' and changes nothing", () => {
    const { call } = setup();
    expect(() => call(ALICE, "transfer", [BOB, 1001n, 0n])).toThrow("('ERC20: insufficient balance')");
    expect(() => call(ALICE, "transfer", [0n, 1n, 0n])).toThrow("('ERC20: transfer to 0')");
    expect(call(0n, "balance_of", [ALICE])).toEqual([1000n, 0n]);
  });

  it("approve/transfer_from spend the allowance; infinite allowance is not decreased", () => {
    const { call, state, token } = setup();
    call(ALICE, "approve", [BOB, 100n, 0n]);
    expect(state.events.at(-1)!.keys).toEqual([selectorFromName("Approval"), ALICE, BOB]);
    expect(call(BOB, "transfer_from", [ALICE, BOB, 60n, 0n])).toEqual([1n]);
    expect(call(0n, "allowance", [ALICE, BOB])).toEqual([40n, 0n]);
    expect(() => call(BOB, "transferFrom", [ALICE, BOB, 41n, 0n])).toThrow("('ERC20: insufficient allowance')");
    const max = (1n << 128n) - 1n;
    call(ALICE, "approve", [BOB, max, max]);
    call(BOB, "transferFrom", [ALICE, BOB, 10n, 0n]);
    expect(call(0n, "allowance", [ALICE, BOB])).toEqual([max, max]);
    expect(call(0n, "balance_of", [BOB])).toEqual([70n, 0n]);
    expect(state.getStorage(token, storageMapAddress("ERC20_allowances", [ALICE, BOB]))).toBe(max);
  });

  it("permissioned_mint works only for the minter", () => {
    const { call } = setup();
    expect(() => call(ALICE, "permissioned_mint", [ALICE, 5n, 0n])).toThrow("('ERC20: caller is not minter')");
    call(MINTER, "permissioned_mint", encodeArgs(erc20.permissionedMint.inputs, { recipient: BOB, amount: 5n }));
    expect(call(0n, "balance_of", [BOB])).toEqual([5n, 0n]);
    expect(call(0n, "total_supply", [])).toEqual([1005n, 0n]);
  });

  it("its ABI drives an unmodified starknet.js Contract (calldata and event parsing)", () => {
    const abi = JSON.parse(erc20Class.abiJson);
    const c = new Contract({ abi, address: "0x1" });
    const call = c.populate("transfer", { recipient: "0xb0b", amount: cairo.uint256(2n ** 130n + 1n) });
    expect((call.calldata as string[]).map(BigInt)).toEqual([BOB, 1n, 4n]);
    expect(call.entrypoint).toBe("transfer");
    const parsed = snEvents.parseEvents(
      [{ from_address: "0x1", keys: [hash.getSelectorFromName("Transfer"), "0xa11ce", "0xb0b"], data: ["0x5", "0x0"] }] as never,
      snEvents.getAbiEvents(abi),
      CallData.getAbiStruct(abi),
      CallData.getAbiEnum(abi),
      new CallData(abi).parser,
    );
    expect(parsed[0]!["perpchain::erc20::ERC20::Transfer"]).toEqual({ from: ALICE, to: BOB, value: 5n });
  });

  it("rejects a short-string name longer than 31 characters at construction time", () => {
    expect(() =>
      erc20ConstructorCalldata({ name: "x".repeat(32), symbol: "X", decimals: 1, initialSupply: 0n, recipient: 1n, minter: 1n }),
    ).toThrow(RangeError);
    expect(encodeShortString("USDC")).toBe(0x55534443n);
    expect(ContractPanic.of("a").panicData).toEqual([0x61n]);
  });
});
