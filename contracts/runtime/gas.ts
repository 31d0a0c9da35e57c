// The deterministic gas schedule: every L2-gas and L1-data-gas cost the runtime
// charges, and the v3 fee formula. This file is the one place these numbers live.
//
// L2 gas (Starknet's "sierra gas" unit) is charged per operation while a transaction
// runs; magnitudes follow the order of blockifier's syscall costs but are our own
// constants — same inputs always cost the same gas.
//
// L1 data gas models the state diff posted to L1 as blob data: each felt of the
// on-chain state-diff encoding costs L1_DATA_GAS_PER_FELT. The felt count follows
// blockifier's onchain data segment: 2 per modified contract (address + header),
// 2 per storage write (key, value), 1 per class-hash update, 2 per declared class.
//
// L1 gas is always 0 (no L1 messages on this appchain).
//
// fee (FRI) = l1_gas·l1_gas_price + l1_data_gas·l1_data_gas_price + l2_gas·(l2_gas_price + tip)

export const GAS = {
  /** Fixed overhead of every transaction (hash checks, nonce, fee transfer bookkeeping). */
  TX_BASE: 50_000n,
  /** Per felt of transaction calldata and signature. */
  TX_CALLDATA_FELT: 1_000n,
  /** Entering any entry point (top-level or nested call_contract). */
  CALL: 100_000n,
  /** Per felt of calldata passed to a call (nested or top level). */
  CALL_CALLDATA_FELT: 100n,
  /** Deploy syscall, in addition to the constructor's CALL. */
  DEPLOY: 200_000n,
  /** storage_read syscall, per felt. */
  STORAGE_READ: 10_000n,
  /** storage_write syscall, per felt. */
  STORAGE_WRITE: 20_000n,
  /** emit_event syscall. */
  EVENT: 10_000n,
  /** Per key or data felt of an event. */
  EVENT_FELT: 1_000n,
  /** One Pedersen or Poseidon permutation (map address, hashing in contracts). */
  HASH: 5_000n,
  /** Stark ECDSA signature verification. */
  ECDSA_VERIFY: 200_000n,
  /** Reading block/tx info, caller, self address, nonce or class hash. */
  SYSCALL_INFO: 1_000n,
} as const;

export const L1_DATA_GAS_PER_FELT = 32n;

/** Gas a transaction consumed, by resource. */
export interface GasVector {
  l1_gas: bigint;
  l1_data_gas: bigint;
  l2_gas: bigint;
}

/** Gas prices in FRI per unit (block inputs). */
export interface GasPrices {
  l1_gas: bigint;
  l1_data_gas: bigint;
  l2_gas: bigint;
}

export interface StateDiffSize {
  modifiedContracts: number;
  storageWrites: number;
  classHashUpdates: number;
  declaredClasses: number;
}

export function stateDiffFelts(s: StateDiffSize): bigint {
  return BigInt(2 * s.modifiedContracts + 2 * s.storageWrites + s.classHashUpdates + 2 * s.declaredClasses);
}

export function l1DataGasFor(s: StateDiffSize): bigint {
  return stateDiffFelts(s) * L1_DATA_GAS_PER_FELT;
}

/** Fee in FRI for the consumed gas at the block's prices; tip is paid per unit of L2 gas. */
export function computeFee(gas: GasVector, prices: GasPrices, tip: bigint): bigint {
  return gas.l1_gas * prices.l1_gas + gas.l1_data_gas * prices.l1_data_gas + gas.l2_gas * (prices.l2_gas + tip);
}

/** Thrown inside a call when the L2 gas limit is exhausted (becomes an 'Out of gas' panic). */
export class GasMeter {
  used = 0n;
  constructor(public limit: bigint) {}
  /** Returns false when the charge would exceed the limit (the charge is applied anyway). */
  charge(amount: bigint): boolean {
    this.used += amount;
    return this.used <= this.limit;
  }
}
