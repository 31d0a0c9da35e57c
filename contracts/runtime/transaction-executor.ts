// Executes one INVOKE v3 or DEPLOY_ACCOUNT v3 transaction (hash already computed by
// the caller) against a StateReader, with Starknet's semantics:
//   - pre-checks (resource bounds vs prices, minimal gas, nonce, balance ≥ max fee) and
//     validation (__validate__ / __validate_deploy__) failing ⇒ the spec's typed error
//     (an RpcError): the transaction is not included, nothing changes. Admission runs the
//     very same phase (validateTransaction), so a block refuses only what a later event
//     (an earlier transaction, a rollback) made impossible;
//   - execution failing (panic, out of gas, bounds exceeded) ⇒ REVERTED with a reason:
//     execution writes and events discarded, nonce still bumped, fee still charged;
//   - fee = gas × block prices (gas.ts), at most the max fee the bounds allow, paid in
//     the fee token by a `transfer` from the account to the sequencer address.
// Also callView (starknet_call) and estimate (run without charging).
// Pure: the result depends only on the inputs. Never reads the clock, randomness or env.

import type { Felt } from "../../state/felt.js";
import { selectorFromName } from "../../state/crypto/hash.js";
import type { StateDiff, StateReader } from "../../state/state-diff.js";
import { computeContractAddress } from "./address.js";
import type { ClassRegistry } from "./class-registry.js";
import type { BlockInfo, ResourceBounds, TxInfo } from "./context.js";
import {
  ClassHashNotFoundError,
  ContractError,
  ContractNotFoundError,
  EntrypointNotFoundError,
  InsufficientAccountBalanceError,
  InsufficientResourcesForValidateError,
  InvalidTransactionNonceError,
  isExecutionFailure,
  revertReasonOf,
  ValidationFailureError,
} from "./errors.js";
import { EMPTY_TX_INFO, ExecutionEngine, type FunctionInvocation } from "./execution.js";
import { GAS, type GasPrices, type GasVector, GasMeter, computeFee, l1DataGasFor } from "./gas.js";
import { type EmittedEvent, JournaledState, stateDiffSize } from "./journaled-state.js";

/** Block-level inputs. Gas prices are in FRI (the fee token is STRK). */
export interface BlockContext {
  blockNumber: bigint;
  blockTimestamp: bigint;
  sequencerAddress: Felt;
  chainId: Felt;
  gasPrices: GasPrices;
  feeTokenAddress: Felt;
  /**
   * The fee token's balance_of answered without a call frame, when the caller knows the
   * token's class (undefined: not that class, so the view is called). Must give the view's
   * exact answer: the fee checks read the balance up to three times per transaction
   * (admission, before and after execution), and a call frame costs ~10x a storage read.
   */
  feeBalanceOf?: (state: StateReader, token: Felt, account: Felt) => bigint | undefined;
}

interface TxCommon {
  transactionHash: Felt;
  signature: readonly Felt[];
  nonce: Felt;
  resourceBounds: ResourceBounds;
  tip: bigint;
  paymasterData: readonly Felt[];
}

export interface InvokeTransactionV3 extends TxCommon {
  type: "INVOKE";
  senderAddress: Felt;
  calldata: readonly Felt[];
  accountDeploymentData: readonly Felt[];
}

export interface DeployAccountTransactionV3 extends TxCommon {
  type: "DEPLOY_ACCOUNT";
  classHash: Felt;
  contractAddressSalt: Felt;
  constructorCalldata: readonly Felt[];
}

export type ExecutableTransaction = InvokeTransactionV3 | DeployAccountTransactionV3;

export interface ExecuteOptions {
  /** Skip __validate__ (starknet_estimateFee/simulate SKIP_VALIDATE). */
  skipValidate?: boolean;
  /** false: no bound/balance checks and no fee transfer (estimation). Default true. */
  chargeFee?: boolean;
}

export interface TransactionTrace {
  type: "INVOKE" | "DEPLOY_ACCOUNT";
  validate_invocation?: FunctionInvocation;
  execute_invocation?: FunctionInvocation | { revert_reason: string };
  constructor_invocation?: FunctionInvocation;
  fee_transfer_invocation?: FunctionInvocation;
}

export interface TransactionExecution {
  status: "SUCCEEDED" | "REVERTED";
  revertReason: string | undefined;
  /** Account address (the deployed address for DEPLOY_ACCOUNT). */
  senderAddress: Felt;
  stateDiff: StateDiff;
  /** Events in emission order (validate, execute, fee transfer), with from_address. */
  events: EmittedEvent[];
  gas: GasVector;
  /** Fee in FRI actually charged (or that would be charged, when chargeFee is false). */
  actualFee: bigint;
  trace: TransactionTrace;
}

/** L2 gas limit used when estimating (no bounds given); bounded so loops end. */
export const ESTIMATE_L2_GAS_LIMIT = 10_000_000_000n;
/** Storage writes the fee transfer itself adds to the diff (sender and sequencer balance low limbs). */
const FEE_TRANSFER_DIFF = { modifiedContracts: 1, storageWrites: 2 };

const EXECUTE = selectorFromName("__execute__");
const VALIDATE = selectorFromName("__validate__");
const VALIDATE_DEPLOY = selectorFromName("__validate_deploy__");
const TRANSFER = selectorFromName("transfer");
const BALANCE_OF = selectorFromName("balance_of");

/**
 * How the nonce is checked: "exact" in a block (the account's next nonce); "not-below" at
 * admission, where a transaction may follow others still queued for the same account.
 */
export type NonceRule = "exact" | "not-below";

/**
 * The one pre-check of a transaction, run by admission (validateTransaction) and by every
 * block (executeTransaction) alike, so that anything a block would refuse is refused when
 * the transaction is submitted. In order:
 *   - resource bounds: each max price covers the block's price (L1 gas, L1 data gas, L2
 *     gas), the L2 gas covers the intrinsic (minimal) gas;
 *   - nonce (NonceRule);
 *   - the sender: an INVOKE's account is deployed; a DEPLOY_ACCOUNT's address is free and
 *     its class is known;
 *   - balance: the fee token balance of the paying account (for DEPLOY_ACCOUNT, the
 *     address it deploys to) covers the max fee;
 *   - DEPLOY_ACCOUNT: the deployment itself (constructor);
 *   - validation: __validate__ / __validate_deploy__ returns 'VALID' (the signature).
 * Any failure throws the spec's typed error (52, 53, 54, 55, 28) and changes nothing.
 * On success the nonce is bumped in `state` and the validation trace is returned.
 */
function validationPhase(
  state: JournaledState,
  engine: ExecutionEngine,
  meter: GasMeter,
  registry: ClassRegistry,
  block: BlockContext,
  tx: ExecutableTransaction,
  sender: Felt,
  options: { chargeFee: boolean; skipValidate: boolean; nonceRule: NonceRule },
): TransactionTrace {
  if (options.chargeFee) checkBoundsCoverPrices(tx.resourceBounds, block.gasPrices);
  const intrinsicGas =
    GAS.TX_BASE +
    GAS.TX_CALLDATA_FELT *
      BigInt((tx.type === "INVOKE" ? tx.calldata.length : tx.constructorCalldata.length) + tx.signature.length);
  if (!meter.charge(intrinsicGas)) {
    throw new InsufficientResourcesForValidateError(
      `max L2 gas amount ${tx.resourceBounds.l2Gas.maxAmount} is below the minimal gas ${intrinsicGas}`,
    );
  }
  const accountNonce = state.getNonce(sender);
  if (options.nonceRule === "exact" ? accountNonce !== tx.nonce : tx.nonce < accountNonce) {
    throw InvalidTransactionNonceError.of(accountNonce, tx.nonce);
  }
  if (tx.type === "INVOKE" && state.getClassHash(sender) === 0n) {
    throw new ValidationFailureError(`account ${hex(sender)} is not deployed`);
  }
  if (tx.type === "DEPLOY_ACCOUNT") {
    if (state.getClassHash(sender) !== 0n) throw new ValidationFailureError(`a contract is already deployed at ${hex(sender)}`);
    if (!registry.get(tx.classHash)) throw ClassHashNotFoundError.of(tx.classHash);
  }
  if (options.chargeFee) {
    const maxFee = maxFeeOf(tx.resourceBounds, tx.tip);
    const balance = feeTokenBalance(state, registry, block, sender);
    if (balance < maxFee) throw InsufficientAccountBalanceError.of(balance, maxFee);
  }

  // ── validation (and, for DEPLOY_ACCOUNT, the deployment it validates) ──
  const trace: TransactionTrace = { type: tx.type };
  if (tx.type === "DEPLOY_ACCOUNT") {
    try {
      const { invocation } = engine.deploy(0n, tx.classHash, tx.contractAddressSalt, tx.constructorCalldata, true);
      trace.constructor_invocation = invocation;
    } catch (e) {
      throw new ValidationFailureError(`deploy account failed: ${reasonOf(e)}`);
    }
  }
  state.setNonce(sender, accountNonce + 1n);
  if (!options.skipValidate) {
    const req =
      tx.type === "INVOKE"
        ? { to: sender, selector: VALIDATE, calldata: tx.calldata, caller: 0n }
        : {
            to: sender,
            selector: VALIDATE_DEPLOY,
            calldata: [tx.classHash, tx.contractAddressSalt, ...tx.constructorCalldata],
            caller: 0n,
          };
    let inv: FunctionInvocation;
    try {
      inv = engine.call(req);
    } catch (e) {
      throw new ValidationFailureError(reasonOf(e));
    }
    if (inv.result.length !== 1 || inv.result[0] !== 0x56414c4944n /* 'VALID' */) {
      throw new ValidationFailureError(`validation returned [${inv.result.map(hex).join(", ")}], expected 'VALID'`);
    }
    trace.validate_invocation = inv;
  }
  return trace;
}

/** Set up one transaction's execution: its sender, journal, gas meter and engine. */
function begin(base: StateReader, registry: ClassRegistry, block: BlockContext, tx: ExecutableTransaction, chargeFee: boolean) {
  const sender =
    tx.type === "INVOKE" ? tx.senderAddress : computeContractAddress(0n, tx.contractAddressSalt, tx.classHash, tx.constructorCalldata);
  const state = new JournaledState(base);
  const txInfo: TxInfo = {
    version: 3n,
    accountAddress: sender,
    transactionHash: tx.transactionHash,
    chainId: block.chainId,
    nonce: tx.nonce,
    signature: tx.signature,
    resourceBounds: tx.resourceBounds,
    tip: tx.tip,
    paymasterData: tx.paymasterData,
    accountDeploymentData: tx.type === "INVOKE" ? tx.accountDeploymentData : [],
  };
  const meter = new GasMeter(chargeFee ? tx.resourceBounds.l2Gas.maxAmount : ESTIMATE_L2_GAS_LIMIT);
  const engine = new ExecutionEngine(state, registry, { block: blockInfo(block), tx: txInfo }, meter);
  return { sender, state, meter, engine };
}

/**
 * Admission: run the block's pre-check and validation against `base` without keeping any
 * of it. Throws the typed error a block would refuse the transaction with.
 */
export function validateTransaction(
  base: StateReader,
  registry: ClassRegistry,
  block: BlockContext,
  tx: ExecutableTransaction,
  options: { nonceRule: NonceRule; skipValidate?: boolean },
): void {
  const { sender, state, meter, engine } = begin(base, registry, block, tx, true);
  validationPhase(state, engine, meter, registry, block, tx, sender, { chargeFee: true, skipValidate: options.skipValidate ?? false, nonceRule: options.nonceRule });
}

export function executeTransaction(
  base: StateReader,
  registry: ClassRegistry,
  block: BlockContext,
  tx: ExecutableTransaction,
  options: ExecuteOptions = {},
): TransactionExecution {
  const chargeFee = options.chargeFee ?? true;
  const { sender, state, meter, engine } = begin(base, registry, block, tx, chargeFee);
  const maxFee = maxFeeOf(tx.resourceBounds, tx.tip);
  const trace = validationPhase(state, engine, meter, registry, block, tx, sender, {
    chargeFee,
    skipValidate: options.skipValidate ?? false,
    nonceRule: "exact",
  });

  // ── execution: a failure reverts only this phase. The checkpoint stays open until the
  //    post-execution checks pass, so exceeding a bound can still revert it. ──
  let revertReason: string | undefined;
  let executionOpen = false;
  if (tx.type === "INVOKE") {
    state.checkpoint();
    try {
      trace.execute_invocation = engine.call({ to: sender, selector: EXECUTE, calldata: tx.calldata, caller: 0n });
      executionOpen = true;
    } catch (e) {
      if (!isExecutionFailure(e)) throw e;
      state.revert();
      revertReason = reasonOf(e);
      trace.execute_invocation = { revert_reason: revertReason };
    }
  }

  // ── post-execution bounds: exceeding them reverts execution; the fee is capped ──
  let gas = gasUsed(state, meter);
  if (chargeFee) {
    const failure = postExecutionFailure(gas, tx.resourceBounds, feeTokenBalance(state, registry, block, sender), block, tx.tip);
    if (failure !== undefined && tx.type === "DEPLOY_ACCOUNT") throw new InsufficientResourcesForValidateError(failure);
    if (failure !== undefined && executionOpen) {
      state.revert();
      executionOpen = false;
      revertReason = failure;
      trace.execute_invocation = { revert_reason: failure };
      gas = gasUsed(state, meter);
    }
  }
  if (executionOpen) state.commit();
  if (gas.l2_gas > meter.limit) gas.l2_gas = meter.limit; // out of gas: charged up to the bound
  let actualFee = computeFee(gas, block.gasPrices, tx.tip);
  if (chargeFee && actualFee > maxFee) actualFee = maxFee;

  // ── fee transfer ──
  if (chargeFee && actualFee > 0n) {
    const feeEngine = new ExecutionEngine(state, registry, engine.env, new GasMeter(ESTIMATE_L2_GAS_LIMIT));
    try {
      trace.fee_transfer_invocation = feeEngine.call({
        to: block.feeTokenAddress,
        selector: TRANSFER,
        calldata: [block.sequencerAddress, actualFee % (1n << 128n), actualFee >> 128n],
        caller: sender,
      });
    } catch (e) {
      // balance ≥ fee was checked above; a failing fee transfer means corrupted state
      throw new Error(`invariant violated: fee transfer failed: ${reasonOf(e)}`);
    }
  }

  return {
    status: revertReason === undefined ? "SUCCEEDED" : "REVERTED",
    revertReason,
    senderAddress: sender,
    stateDiff: state.toStateDiff(),
    events: [...state.events],
    gas,
    actualFee,
    trace,
  };
}

/** Fee estimate: executes without bound checks or fee transfer. */
export function estimateTransaction(
  base: StateReader,
  registry: ClassRegistry,
  block: BlockContext,
  tx: ExecutableTransaction,
  options: { skipValidate?: boolean } = {},
): TransactionExecution {
  return executeTransaction(base, registry, block, tx, { skipValidate: options.skipValidate, chargeFee: false });
}

export interface ViewCall {
  contractAddress: Felt;
  entryPointSelector: Felt;
  calldata: readonly Felt[];
}

/** starknet_call: run an entry point read-only (writes are discarded); panics ⇒ ContractExecutionError. */
export function callView(base: StateReader, registry: ClassRegistry, call: ViewCall, block: BlockContext): Felt[] {
  const state = new JournaledState(base);
  const engine = new ExecutionEngine(
    state,
    registry,
    { block: blockInfo(block), tx: { ...EMPTY_TX_INFO, chainId: block.chainId } },
    new GasMeter(ESTIMATE_L2_GAS_LIMIT),
  );
  try {
    return engine.call({ to: call.contractAddress, selector: call.entryPointSelector, calldata: call.calldata, caller: 0n }).result;
  } catch (e) {
    // The called contract's own absence or entry point are the spec's 20/21; any other
    // failure inside the call is a CONTRACT_ERROR with its revert reason.
    if (e instanceof ContractNotFoundError || e instanceof EntrypointNotFoundError) throw e;
    if (isExecutionFailure(e)) throw new ContractError(revertReasonOf(e));
    throw e;
  }
}

/** Largest fee the bounds allow: Σ max_amount × max_price (+ tip per unit of L2 gas). */
export function maxFeeOf(b: ResourceBounds, tip: bigint): bigint {
  return (
    b.l1Gas.maxAmount * b.l1Gas.maxPricePerUnit +
    b.l1DataGas.maxAmount * b.l1DataGas.maxPricePerUnit +
    b.l2Gas.maxAmount * (b.l2Gas.maxPricePerUnit + tip)
  );
}

/** Every resource's max price covers the block's price (as Starknet's fee-bounds check). */
function checkBoundsCoverPrices(b: ResourceBounds, prices: GasPrices): void {
  const checks: Array<[string, bigint, bigint]> = [
    ["L1 gas", b.l1Gas.maxPricePerUnit, prices.l1_gas],
    ["L1 data gas", b.l1DataGas.maxPricePerUnit, prices.l1_data_gas],
    ["L2 gas", b.l2Gas.maxPricePerUnit, prices.l2_gas],
  ];
  for (const [name, max, price] of checks) {
    if (max < price) throw new InsufficientResourcesForValidateError(`max ${name} price ${max} is below the block's ${price}`);
  }
}

function gasUsed(state: JournaledState, meter: GasMeter): GasVector {
  const size = stateDiffSize(state.toStateDiff());
  size.modifiedContracts += FEE_TRANSFER_DIFF.modifiedContracts;
  size.storageWrites += FEE_TRANSFER_DIFF.storageWrites;
  return { l1_gas: 0n, l1_data_gas: l1DataGasFor(size), l2_gas: meter.used };
}

function postExecutionFailure(
  gas: GasVector,
  bounds: ResourceBounds,
  balance: bigint,
  block: BlockContext,
  tip: bigint,
): string | undefined {
  if (gas.l2_gas > bounds.l2Gas.maxAmount) {
    return `Insufficient max L2Gas: max amount: ${bounds.l2Gas.maxAmount}, actual used: ${gas.l2_gas}.`;
  }
  if (gas.l1_data_gas > bounds.l1DataGas.maxAmount) {
    return `Insufficient max L1DataGas: max amount: ${bounds.l1DataGas.maxAmount}, actual used: ${gas.l1_data_gas}.`;
  }
  const fee = computeFee(gas, block.gasPrices, tip);
  if (balance < fee) return `Insufficient fee token balance: balance ${balance}, actual fee ${fee}.`;
  return undefined;
}

function feeTokenBalance(state: StateReader, registry: ClassRegistry, block: BlockContext, account: Felt): bigint {
  const direct = block.feeBalanceOf?.(state, block.feeTokenAddress, account);
  if (direct !== undefined) return direct;
  const view = callView(state, registry, { contractAddress: block.feeTokenAddress, entryPointSelector: BALANCE_OF, calldata: [account] }, block);
  return view[0]! + (view[1]! << 128n);
}

function blockInfo(b: BlockContext): BlockInfo {
  return { blockNumber: b.blockNumber, blockTimestamp: b.blockTimestamp, sequencerAddress: b.sequencerAddress };
}

function reasonOf(e: unknown): string {
  if (isExecutionFailure(e)) return revertReasonOf(e);
  throw e;
}

function hex(v: Felt): string {
  return "0x" + v.toString(16);
}
