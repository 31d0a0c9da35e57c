import { describe, expect, it } from "vitest";
import { CallData, ec, hash, transaction, cairo } from "starknet";
import {
  ContractError,
  DiffStateReader,
  InsufficientAccountBalanceError,
  InsufficientResourcesForValidateError,
  InvalidTransactionNonceError,
  ValidationFailureError,
  accountAddress,
  accountClass,
  buildGenesis,
  callView,
  erc20BalanceSlots,
  estimateTransaction,
  executeTransaction,
  STRK_ADDRESS,
  USDC_ADDRESS,
  UDC_ADDRESS,
  type BlockContext,
  type InvokeTransactionV3,
  type DeployAccountTransactionV3,
  type ResourceBounds,
  computeFee,
  GAS,
} from "../../contracts/index.js";
import { erc20BalanceOf } from "../../contracts/erc20.js";
import { mergeStateDiff, emptyStateDiff, type StateDiff } from "../../state/state-diff.js";
import { encodeShortString } from "../../state/felt.js";
import { selectorFromName } from "../../state/crypto/hash.js";

const hx = (v: bigint) => "0x" + v.toString(16);
const CHAIN_ID = encodeShortString("SN_PERPCHAIN");
const PK = [0x1111n, 0x2222n, 0x3333n];
const PUB = PK.map((k) => BigInt(ec.starkCurve.getStarkKey(hx(k))));
const OPERATOR_PK = 0x9999n;
const STRK = 10n ** 18n;
const SEQUENCER = 0x5e05n;

const genesis = buildGenesis({
  chainId: CHAIN_ID,
  accounts: PUB.map((publicKey) => ({ publicKey, strkBalance: 1000n * STRK, usdcBalance: 5_000_000_000n })),
  operatorPublicKey: BigInt(ec.starkCurve.getStarkKey(hx(OPERATOR_PK))),
  operatorStrkBalance: 1000n * STRK,
});
const registry = genesis.registry;
const BLOCK: BlockContext = {
  blockNumber: 1n,
  blockTimestamp: 1_700_000_000n,
  sequencerAddress: SEQUENCER,
  chainId: CHAIN_ID,
  gasPrices: { l1_gas: 30_000_000_000_000n, l1_data_gas: 1_000n, l2_gas: 10_000_000n },
  feeTokenAddress: STRK_ADDRESS,
};
const BOUNDS: ResourceBounds = {
  l1Gas: { maxAmount: 0n, maxPricePerUnit: 40_000_000_000_000n },
  l1DataGas: { maxAmount: 10_000n, maxPricePerUnit: 2_000n },
  l2Gas: { maxAmount: 20_000_000n, maxPricePerUnit: 20_000_000n },
};

function snBounds(b: ResourceBounds) {
  return {
    l1_gas: { max_amount: b.l1Gas.maxAmount, max_price_per_unit: b.l1Gas.maxPricePerUnit },
    l1_data_gas: { max_amount: b.l1DataGas.maxAmount, max_price_per_unit: b.l1DataGas.maxPricePerUnit },
    l2_gas: { max_amount: b.l2Gas.maxAmount, max_price_per_unit: b.l2Gas.maxPricePerUnit },
  };
}

function invoke(
  i: number,
  calls: { contractAddress: string; entrypoint: string; calldata: unknown[] }[],
  nonce: bigint,
  opts: { bounds?: ResourceBounds; signWith?: bigint } = {},
): InvokeTransactionV3 {
  const sender = genesis.accounts[i]!.address;
  const calldata = transaction.getExecuteCalldata(calls as never, "1").map(BigInt);
  const bounds = opts.bounds ?? BOUNDS;
  const txHash = BigInt(
    hash.calculateInvokeTransactionHash({
      senderAddress: "0x" + sender.toString(16),
      version: "0x3",
      compiledCalldata: calldata.map(String),
      chainId: "0x" + CHAIN_ID.toString(16),
      nonce,
      accountDeploymentData: [],
      nonceDataAvailabilityMode: 0,
      feeDataAvailabilityMode: 0,
      resourceBounds: snBounds(bounds),
      tip: 0n,
      paymasterData: [],
    } as never),
  );
  const sig = ec.starkCurve.sign("0x" + txHash.toString(16), hx(opts.signWith ?? PK[i]!));
  return {
    type: "INVOKE",
    transactionHash: txHash,
    senderAddress: sender,
    calldata,
    signature: [sig.r, sig.s],
    nonce,
    resourceBounds: bounds,
    tip: 0n,
    paymasterData: [],
    accountDeploymentData: [],
  };
}

const reader = (d: StateDiff) => new DiffStateReader(d);
const apply = (d: StateDiff) => mergeStateDiff(mergeStateDiff(emptyStateDiff(), genesis.stateDiff), d);

function balance(d: StateDiff, token: bigint, who: bigint): bigint {
  const r = callView(reader(d), registry, { contractAddress: token, entryPointSelector: selectorFromName("balance_of"), calldata: [who] }, BLOCK);
  return r[0]! + (r[1]! << 128n);
}

describe("transaction executor: INVOKE v3", () => {
  const a0 = genesis.accounts[0]!.address;
  const a1 = genesis.accounts[1]!.address;
  const transfer = (amount: bigint) => ({
    contractAddress: hx(USDC_ADDRESS),
    entrypoint: "transfer",
    calldata: CallData.compile({ recipient: hx(a1), amount: cairo.uint256(amount) }),
  });

  it("executes a signed multicall, bumps the nonce, charges the fee to the sequencer", () => {
    const tx = invoke(0, [transfer(1_000_000n), transfer(2_000_000n)], 0n);
    const res = executeTransaction(reader(genesis.stateDiff), registry, BLOCK, tx);
    expect(res.status).toBe("SUCCEEDED");
    expect(res.revertReason).toBeUndefined();
    const after = apply(res.stateDiff);
    expect(balance(after, USDC_ADDRESS, a0)).toBe(5_000_000_000n - 3_000_000n);
    expect(balance(after, USDC_ADDRESS, a1)).toBe(5_000_000_000n + 3_000_000n);
    expect(res.stateDiff.nonces.get(a0)).toBe(1n);
    expect(res.actualFee).toBe(computeFee(res.gas, BLOCK.gasPrices, 0n));
    expect(res.gas.l1_gas).toBe(0n);
    expect(balance(after, STRK_ADDRESS, SEQUENCER)).toBe(res.actualFee);
    expect(balance(after, STRK_ADDRESS, a0)).toBe(1000n * STRK - res.actualFee);
    // events: two USDC transfers then the fee transfer, all with from_address
    expect(res.events.map((e) => [e.from_address, e.keys[0]])).toEqual([
      [USDC_ADDRESS, selectorFromName("Transfer")],
      [USDC_ADDRESS, selectorFromName("Transfer")],
      [STRK_ADDRESS, selectorFromName("Transfer")],
    ]);
    expect(res.events[2]!.keys).toEqual([selectorFromName("Transfer"), a0, SEQUENCER]);
    // trace: validate → execute (two nested calls) → fee transfer
    const exec = res.trace.execute_invocation as { calls: unknown[]; result: bigint[] };
    expect(exec.calls.length).toBe(2);
    expect(exec.result).toEqual([2n, 1n, 1n, 1n, 1n]); // Array<Span>: 2 spans of [true]
    expect(res.trace.validate_invocation!.result).toEqual([encodeShortString("VALID")]);
    expect(res.trace.fee_transfer_invocation!.caller_address).toBe(a0);
  });

  it("is deterministic: the same transaction on the same state gives the same result", () => {
    const tx = invoke(0, [transfer(5n)], 0n);
    const r1 = executeTransaction(reader(genesis.stateDiff), registry, BLOCK, tx);
    const r2 = executeTransaction(reader(genesis.stateDiff), registry, BLOCK, tx);
    expect(r2.gas).toEqual(r1.gas);
    expect(r2.stateDiff).toEqual(r1.stateDiff);
  });

  it("a panicking call reverts execution with the reason, still bumps the nonce and charges the fee", () => {
    const tx = invoke(0, [transfer(1n), transfer(10n ** 20n)], 0n);
    const res = executeTransaction(reader(genesis.stateDiff), registry, BLOCK, tx);
    expect(res.status).toBe("REVERTED");
    expect(res.revertReason).toContain("Execution failed. Failure reason: 0x");
    expect(res.revertReason).toContain("('ERC20: insufficient balance')");
    expect(res.revertReason!.split("\n")[0]).toContain(`0: Error in the called contract (contract address: 0x${a0.toString(16).padStart(64, "0")}`);
    const after = apply(res.stateDiff);
    expect(balance(after, USDC_ADDRESS, a0)).toBe(5_000_000_000n); // first transfer discarded too
    expect(res.stateDiff.nonces.get(a0)).toBe(1n);
    expect(res.actualFee).toBeGreaterThan(0n);
    expect(balance(after, STRK_ADDRESS, a0)).toBe(1000n * STRK - res.actualFee);
    expect(res.events.length).toBe(1); // only the fee transfer
  });

  it("rejects a bad signature with VALIDATION_FAILURE (55) and changes nothing", () => {
    const tx = invoke(0, [transfer(1n)], 0n, { signWith: PK[1]! });
    const err = catchErr(() => executeTransaction(reader(genesis.stateDiff), registry, BLOCK, tx));
    expect(err).toBeInstanceOf(ValidationFailureError);
    expect((err as ValidationFailureError).code).toBe(55);
    expect((err as ValidationFailureError).message).toContain("('Account: invalid signature')");
  });

  it("rejects a wrong nonce with INVALID_TRANSACTION_NONCE (52)", () => {
    const err = catchErr(() => executeTransaction(reader(genesis.stateDiff), registry, BLOCK, invoke(0, [transfer(1n)], 1n)));
    expect(err).toBeInstanceOf(InvalidTransactionNonceError);
    expect((err as InvalidTransactionNonceError).code).toBe(52);
  });

  it("rejects a max fee above the balance with INSUFFICIENT_ACCOUNT_BALANCE (54)", () => {
    const bounds = { ...BOUNDS, l2Gas: { maxAmount: 10n ** 15n, maxPricePerUnit: 20_000_000n } };
    const err = catchErr(() => executeTransaction(reader(genesis.stateDiff), registry, BLOCK, invoke(0, [transfer(1n)], 0n, { bounds })));
    expect(err).toBeInstanceOf(InsufficientAccountBalanceError);
    expect((err as InsufficientAccountBalanceError).code).toBe(54);
  });

  it("rejects bounds below the block price or the intrinsic gas (53)", () => {
    const lowPrice = { ...BOUNDS, l2Gas: { maxAmount: 20_000_000n, maxPricePerUnit: 1n } };
    const e1 = catchErr(() => executeTransaction(reader(genesis.stateDiff), registry, BLOCK, invoke(0, [transfer(1n)], 0n, { bounds: lowPrice })));
    expect(e1).toBeInstanceOf(InsufficientResourcesForValidateError);
    expect((e1 as InsufficientResourcesForValidateError).code).toBe(53);
    const lowGas = { ...BOUNDS, l2Gas: { maxAmount: 1000n, maxPricePerUnit: 20_000_000n } };
    const e2 = catchErr(() => executeTransaction(reader(genesis.stateDiff), registry, BLOCK, invoke(0, [transfer(1n)], 0n, { bounds: lowGas })));
    expect(e2).toBeInstanceOf(InsufficientResourcesForValidateError);
  });

  it("running out of L2 gas during execution reverts and charges the bound", () => {
    const est = estimateTransaction(reader(genesis.stateDiff), registry, BLOCK, invoke(0, [transfer(1n)], 0n));
    // enough for validation, not for execution
    const validateGas = est.trace.validate_invocation!.execution_resources.l2_gas;
    const intrinsic = GAS.TX_BASE + GAS.TX_CALLDATA_FELT * 9n;
    const limit = intrinsic + validateGas + 50_000n;
    const bounds = { ...BOUNDS, l2Gas: { maxAmount: limit, maxPricePerUnit: 20_000_000n } };
    const res = executeTransaction(reader(genesis.stateDiff), registry, BLOCK, invoke(0, [transfer(1n)], 0n, { bounds }));
    expect(res.status).toBe("REVERTED");
    expect(res.revertReason).toContain("('Out of gas')");
    expect(res.gas.l2_gas).toBe(limit);
    expect(res.stateDiff.nonces.get(a0)).toBe(1n);
  });

  it("estimate matches the fee actually charged", () => {
    const tx = invoke(0, [transfer(7n)], 0n);
    const est = estimateTransaction(reader(genesis.stateDiff), registry, BLOCK, tx);
    const res = executeTransaction(reader(genesis.stateDiff), registry, BLOCK, tx);
    expect(est.actualFee).toBe(res.actualFee);
    expect(est.gas).toEqual(res.gas);
    expect(est.stateDiff.storage.get(STRK_ADDRESS)).toBeUndefined(); // no fee transfer while estimating
  });

  it("callView returns results and turns panics into CONTRACT_ERROR (40)", () => {
    const r = callView(reader(genesis.stateDiff), registry, { contractAddress: STRK_ADDRESS, entryPointSelector: selectorFromName("decimals"), calldata: [] }, BLOCK);
    expect(r).toEqual([18n]);
    const err = catchErr(() =>
      callView(reader(genesis.stateDiff), registry, { contractAddress: STRK_ADDRESS, entryPointSelector: selectorFromName("transfer"), calldata: [a1, 10n ** 30n, 0n] }, BLOCK),
    );
    expect(err).toBeInstanceOf(ContractError);
    expect((err as ContractError).code).toBe(40);
  });

  it("reads fee balances without a call frame (BlockContext.feeBalanceOf) with exactly the view's answers and outcomes", () => {
    const DIRECT: BlockContext = { ...BLOCK, feeBalanceOf: erc20BalanceOf };
    const spent = executeTransaction(reader(genesis.stateDiff), registry, BLOCK, invoke(0, [transfer(7n)], 0n));
    const after = apply(spent.stateDiff);
    for (const d of [genesis.stateDiff, after])
      for (const token of [STRK_ADDRESS, USDC_ADDRESS])
        for (const who of [a0, a1, SEQUENCER, 0n]) expect(erc20BalanceOf(reader(d), token, who)).toBe(balance(d, token, who));
    expect(erc20BalanceOf(reader(genesis.stateDiff), a0, a1)).toBeUndefined(); // an account, not a token
    expect(erc20BalanceOf(reader(genesis.stateDiff), 0x1234n, a1)).toBeUndefined(); // nothing deployed there
    // Succeeded, reverted, and refused for its max fee: the same result or error either way.
    const tooMuch = { ...BOUNDS, l2Gas: { maxAmount: 10n ** 15n, maxPricePerUnit: 20_000_000n } };
    for (const tx of [invoke(0, [transfer(5n)], 0n), invoke(0, [transfer(1n), transfer(10n ** 20n)], 0n), invoke(0, [transfer(1n)], 0n, { bounds: tooMuch })]) {
      const outcome = (block: BlockContext) => {
        try {
          return executeTransaction(reader(genesis.stateDiff), registry, block, tx);
        } catch (e) {
          return e;
        }
      };
      expect(outcome(DIRECT)).toEqual(outcome(BLOCK));
    }
    expect((catchErr(() => executeTransaction(reader(genesis.stateDiff), registry, DIRECT, invoke(0, [transfer(1n)], 0n, { bounds: tooMuch }))) as Error).constructor).toBe(InsufficientAccountBalanceError);
  });
});

describe("transaction executor: DEPLOY_ACCOUNT v3", () => {
  const newPk = 0x4444n;
  const newPub = BigInt(ec.starkCurve.getStarkKey(hx(newPk)));
  const address = accountAddress(newPub);

  function deployTx(fundedDiff: StateDiff, signWith = newPk): DeployAccountTransactionV3 {
    const txHash = BigInt(
      hash.calculateDeployAccountTransactionHash({
        contractAddress: hx(address),
        classHash: hx(accountClass.classHash),
        compiledConstructorCalldata: [hx(newPub)],
        salt: hx(newPub),
        version: "0x3",
        chainId: hx(CHAIN_ID),
        nonce: 0n,
        nonceDataAvailabilityMode: 0,
        feeDataAvailabilityMode: 0,
        resourceBounds: snBounds(BOUNDS),
        tip: 0n,
        paymasterData: [],
      } as never),
    );
    void fundedDiff;
    const sig = ec.starkCurve.sign(hx(txHash), hx(signWith));
    return {
      type: "DEPLOY_ACCOUNT",
      transactionHash: txHash,
      classHash: accountClass.classHash,
      contractAddressSalt: newPub,
      constructorCalldata: [newPub],
      signature: [sig.r, sig.s],
      nonce: 0n,
      resourceBounds: BOUNDS,
      tip: 0n,
      paymasterData: [],
    };
  }

  function funded(): StateDiff {
    // pre-fund the counterfactual address by a real STRK transfer from account 0
    const tx = invoke(0, [{ contractAddress: hx(STRK_ADDRESS), entrypoint: "transfer", calldata: CallData.compile({ r: hx(address), a: cairo.uint256(10n * STRK) }) }], 0n);
    const res = executeTransaction(reader(genesis.stateDiff), registry, BLOCK, tx);
    expect(res.status).toBe("SUCCEEDED");
    return apply(res.stateDiff);
  }

  it("deploys at the starknet.js counterfactual address, validates, charges the fee", () => {
    expect(address).toBe(BigInt(hash.calculateContractAddressFromHash(hx(newPub), hx(accountClass.classHash), [hx(newPub)], 0)));
    const before = funded();
    const res = executeTransaction(reader(before), registry, BLOCK, deployTx(before));
    expect(res.status).toBe("SUCCEEDED");
    expect(res.senderAddress).toBe(address);
    expect(res.stateDiff.deployed.get(address)).toBe(accountClass.classHash);
    expect(res.stateDiff.nonces.get(address)).toBe(1n);
    const after = mergeStateDiff(before, res.stateDiff);
    expect(balance(after, STRK_ADDRESS, address)).toBe(10n * STRK - res.actualFee);
    expect(res.trace.constructor_invocation!.calldata).toEqual([newPub]);
    expect(res.trace.validate_invocation!.result).toEqual([encodeShortString("VALID")]);
  });

  it("rejects an unfunded deployment (54) and a wrong signature (55)", () => {
    expect(() => executeTransaction(reader(genesis.stateDiff), registry, BLOCK, deployTx(genesis.stateDiff))).toThrow(InsufficientAccountBalanceError);
    const before = funded();
    expect(() => executeTransaction(reader(before), registry, BLOCK, deployTx(before, 0x5555n))).toThrow(ValidationFailureError);
  });
});

describe("genesis", () => {
  it("places STRK, USDC, UDC and accounts at their documented addresses", () => {
    const byName = new Map(genesis.predeployed.map((p) => [p.name, p]));
    expect(byName.get("STRK")!.address).toBe(0x04718f5a0fc34cc1af16a1cdee98ffb20c31f5cd61d6ab07201858f4287c938dn);
    expect(byName.get("UniversalDeployer")!.address).toBe(UDC_ADDRESS);
    expect(byName.get("USDC")!.address).toBe(USDC_ADDRESS);
    expect(genesis.accounts[2]!.address).toBe(BigInt(hash.calculateContractAddressFromHash(hx(PUB[2]!), hx(accountClass.classHash), [hx(PUB[2]!)], 0)));
    expect(genesis.stateDiff.declared.get(accountClass.classHash)).toBe(accountClass.compiledClassHash);
    const [lo, hi] = erc20BalanceSlots(genesis.accounts[0]!.address);
    expect(genesis.stateDiff.storage.get(STRK_ADDRESS)!.get(lo)).toBe(1000n * STRK);
    expect(genesis.stateDiff.storage.get(STRK_ADDRESS)!.get(hi)).toBeUndefined();
  });

  it("is a pure function of its inputs", () => {
    const again = buildGenesis({
      chainId: CHAIN_ID,
      accounts: PUB.map((publicKey) => ({ publicKey, strkBalance: 1000n * STRK, usdcBalance: 5_000_000_000n })),
      operatorPublicKey: BigInt(ec.starkCurve.getStarkKey(hx(OPERATOR_PK))),
      operatorStrkBalance: 1000n * STRK,
    });
    expect(again.stateDiff).toEqual(genesis.stateDiff);
    expect(again.predeployed).toEqual(genesis.predeployed);
  });
});

function catchErr(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}
