import { describe, expect, it } from "vitest";
import { CallData, ec, transaction } from "starknet";
import {
  ClassRegistry,
  DiffStateReader,
  EMPTY_TX_INFO,
  ExecutionEngine,
  GasMeter,
  JournaledState,
  ISRC5_ID,
  ISRC6_ID,
  accountClass,
  encodeValue,
  CallType,
  t,
  udcClass,
  udc,
  encodeArgs,
  erc20Class,
} from "../../contracts/index.js";
import { emptyStateDiff } from "../../state/state-diff.js";
import { encodeShortString } from "../../state/felt.js";
import { selectorFromName } from "../../state/crypto/hash.js";
import { hash } from "starknet";

const hx = (v: bigint) => "0x" + v.toString(16);
const PK = 0x1234567n;
const PUB = BigInt(ec.starkCurve.getStarkKey(hx(PK)));
const VALID = encodeShortString("VALID");

function setup(txHash = 0n, signature: bigint[] = []) {
  const state = new JournaledState(new DiffStateReader(emptyStateDiff()));
  const engine = new ExecutionEngine(
    state,
    new ClassRegistry([accountClass, udcClass, erc20Class]),
    {
      block: { blockNumber: 1n, blockTimestamp: 0n, sequencerAddress: 0n },
      tx: { ...EMPTY_TX_INFO, version: 3n, transactionHash: txHash, signature },
    },
    new GasMeter(10n ** 12n),
  );
  const acct = engine.deploy(0n, accountClass.classHash, PUB, [PUB], true).address;
  const call = (caller: bigint, name: string, calldata: bigint[]) =>
    engine.call({ to: acct, selector: selectorFromName(name), calldata, caller }).result;
  return { state, engine, acct, call };
}

function sign(h: bigint, pk = PK): bigint[] {
  const s = ec.starkCurve.sign(hx(h), hx(pk));
  return [s.r, s.s];
}

describe("Account", () => {
  it("is_valid_signature returns 'VALID' for a stark signature by the key and 0 otherwise", () => {
    const { call } = setup();
    expect(call(0n, "is_valid_signature", [0xabcn, 2n, ...sign(0xabcn)])).toEqual([VALID]);
    expect(call(0n, "isValidSignature", [0xabcn, 2n, ...sign(0xabcn)])).toEqual([VALID]);
    expect(call(0n, "is_valid_signature", [0xabcn, 2n, ...sign(0xabdn)])).toEqual([0n]);
    expect(call(0n, "is_valid_signature", [0xabcn, 2n, ...sign(0xabcn, 0x777n)])).toEqual([0n]);
    expect(call(0n, "is_valid_signature", [0xabcn, 1n, 5n])).toEqual([0n]);
    expect(call(0n, "is_valid_signature", [0xabcn, 2n, 0n, 0n])).toEqual([0n]);
  });

  it("__validate__, __validate_deploy__, __validate_declare__ check the tx signature", () => {
    const h = 0x5151n;
    const good = setup(h, sign(h));
    expect(good.call(0n, "__validate__", [0n])).toEqual([VALID]);
    expect(good.call(0n, "__validate_deploy__", [accountClass.classHash, PUB, PUB])).toEqual([VALID]);
    expect(good.call(0n, "__validate_declare__", [0x1n])).toEqual([VALID]);
    const bad = setup(h, sign(h + 1n));
    expect(() => bad.call(0n, "__validate__", [0n])).toThrow("('Account: invalid signature')");
    expect(() => bad.call(0n, "__validate_deploy__", [accountClass.classHash, PUB, PUB])).toThrow("('Account: invalid signature')");
  });

  it("__execute__ runs starknet.js multicall calldata and returns Array<Span<felt252>>", () => {
    const { call, engine, acct } = setup();
    const token = engine.deploy(0n, erc20Class.classHash, 1n, [encodeShortString("T"), encodeShortString("T"), 2n, 50n, 0n, 0xa11cen, acct], true).address;
    const calldata = transaction
      .getExecuteCalldata(
        [
          { contractAddress: hx(token), entrypoint: "permissioned_mint", calldata: CallData.compile([hx(acct), "7", "0"]) },
          { contractAddress: hx(token), entrypoint: "balance_of", calldata: [hx(acct)] },
        ],
        "1",
      )
      .map(BigInt);
    expect(calldata).toEqual(
      encodeValue(t.array(CallType), [
        { to: token, selector: selectorFromName("permissioned_mint"), calldata: [acct, 7n, 0n] },
        { to: token, selector: selectorFromName("balance_of"), calldata: [acct] },
      ]),
    );
    expect(call(0n, "__execute__", calldata)).toEqual([2n, 0n, 2n, 7n, 0n]);
    expect(() => call(0x99n, "__execute__", calldata)).toThrow("('Account: invalid caller')");
  });

  it("exposes its public key and SRC5 interfaces", () => {
    const { call } = setup();
    expect(call(0n, "get_public_key", [])).toEqual([PUB]);
    expect(call(0n, "getPublicKey", [])).toEqual([PUB]);
    expect(call(0n, "supports_interface", [ISRC6_ID])).toEqual([1n]);
    expect(call(0n, "supports_interface", [ISRC5_ID])).toEqual([1n]);
    expect(call(0n, "supports_interface", [0x1234n])).toEqual([0n]);
  });

  it("deploys at the counterfactual address starknet.js computes for deployAccount", () => {
    const { acct } = setup();
    expect(acct).toBe(BigInt(hash.calculateContractAddressFromHash(hx(PUB), hx(accountClass.classHash), [hx(PUB)], 0)));
    expect(BigInt(hash.computeContractClassHash({ ...accountClass.sierraClass, abi: JSON.parse(accountClass.abiJson) }))).toBe(
      accountClass.classHash,
    );
  });
});

describe("Universal Deployer", () => {
  it("deploy_contract(unique) lands where starknet.js's Deployer predicts and emits ContractDeployed", () => {
    const { engine, state } = setup();
    const udcAddr = engine.deploy(0n, udcClass.classHash, 0n, [], true).address;
    const caller = 0xca11e7n;
    const salt = 0x5a17n;
    const calldata = encodeArgs(udc.deployContract.inputs, { class_hash: accountClass.classHash, salt, unique: true, calldata: [PUB] });
    const res = engine.call({ to: udcAddr, selector: selectorFromName("deploy_contract"), calldata, caller });
    const expected = BigInt(
      hash.calculateContractAddressFromHash(hash.computePedersenHash(hx(caller), hx(salt)), hx(accountClass.classHash), [hx(PUB)], hx(udcAddr)),
    );
    expect(res.result).toEqual([expected]);
    expect(state.getClassHash(expected)).toBe(accountClass.classHash);
    const ev = state.events.at(-1)!;
    expect(ev.keys).toEqual([selectorFromName("ContractDeployed")]);
    expect(ev.data).toEqual([expected, caller, 1n, accountClass.classHash, 1n, PUB, salt]);
  });

  it("not-unique deploys from zero; deploying twice at one address panics", () => {
    const { engine } = setup();
    const udcAddr = engine.deploy(0n, udcClass.classHash, 0n, [], true).address;
    const calldata = encodeArgs(udc.deployContractLegacy.inputs, { class_hash: accountClass.classHash, salt: 9n, unique: false, calldata: [PUB] });
    const res = engine.call({ to: udcAddr, selector: selectorFromName("deployContract"), calldata, caller: 0x1n });
    expect(res.result).toEqual([BigInt(hash.calculateContractAddressFromHash(9n, hx(accountClass.classHash), [hx(PUB)], 0))]);
    expect(() => engine.call({ to: udcAddr, selector: selectorFromName("deployContract"), calldata, caller: 0x2n })).toThrow(
      "('CONTRACT_ALREADY_DEPLOYED')",
    );
    const unknown = encodeArgs(udc.deployContract.inputs, { class_hash: 0x1234n, salt: 9n, unique: false, calldata: [] });
    expect(() => engine.call({ to: udcAddr, selector: selectorFromName("deploy_contract"), calldata: unknown, caller: 0x2n })).toThrow(
      "Class hash not found",
    );
  });
});
