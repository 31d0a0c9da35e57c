// The post-incident audit (pure): every account compared between the REFERENCE chain
// (the pre-maintenance snapshot plus the legitimate activity of the window, replayed) and
// the DAMAGED chain as recorded before the rollback, the improper liquidations found, and
// the refund each one is owed under the refund policy below. No I/O, no clock.
//
// Refund policy (stated in the report):
//   The rollback restores every balance and position, so on chain nobody keeps a loss.
//   What the rollback cannot undo is what happened off chain while the damaged chain was
//   live: users were notified that they were liquidated, statements/exports and the
//   insurance ledger recorded the liquidation penalty as charged, and users may have
//   acted on it. For every account that was liquidated on the damaged chain although it
//   was NOT liquidatable on the reference chain (an improper liquidation), we pay a
//   goodwill refund equal to the liquidation penalty (fee) the damaged chain charged it,
//   plus any of its collateral the damaged chain wrote off as bad debt — exactly the
//   realized loss users and off-chain systems saw. It is paid once per account, from the
//   Liquidator Vault (the party that received the penalty), by operator transactions.
//   Funding P&L distortion and mark-to-market differences of accounts that were NOT
//   liquidated are fully restored by the rollback and are not refunded; they are listed.

import type { Felt } from "../../state/felt.js";

export interface AccountRecord {
  address: Felt;
  label: string;
  balance_usdc6: bigint;
  equity_usdc6: bigint;
  maintenance_margin_usdc6: bigint;
  exposure_usdc6: bigint;
  /** Signed position size per market (e8). */
  positions: Record<string, bigint>;
}

export interface DamagedLiquidation {
  account: Felt;
  block: number;
  fee_usdc6: bigint;
  bad_debt_usdc6: bigint;
  /** Position sizes the account lost, per market (e8). */
  sizes: Record<string, bigint>;
}

export interface AuditFinding {
  address: Felt;
  label: string;
  reference_equity_usdc6: bigint;
  damaged_equity_usdc6: bigint;
  /** reference − damaged: what the damaged chain showed the user as lost. */
  equity_shortfall_usdc6: bigint;
  liquidated: boolean;
  improper: boolean;
  liquidation_fee_usdc6: bigint;
  bad_debt_usdc6: bigint;
  refund_usdc6: bigint;
}

export interface AuditResult {
  accounts_compared: number;
  findings: AuditFinding[];
  improper_liquidations: AuditFinding[];
  /** Accounts whose equity differed but were not liquidated (restored, not refunded). */
  distorted_not_liquidated: AuditFinding[];
  /** Liquidations that the reference chain would also have made (none expected). */
  proper_liquidations: AuditFinding[];
  audited_losses_total_usdc6: bigint;
}

export function isLiquidatableRecord(r: AccountRecord): boolean {
  return r.exposure_usdc6 > 0n && r.equity_usdc6 < r.maintenance_margin_usdc6;
}

/**
 * Compare reference and damaged records account by account. Both maps must hold the same
 * accounts; a liquidation of an account missing from the reference is an error.
 */
export function auditAccounts(
  reference: ReadonlyMap<Felt, AccountRecord>,
  damaged: ReadonlyMap<Felt, AccountRecord>,
  liquidations: readonly DamagedLiquidation[],
): AuditResult {
  if (reference.size !== damaged.size) throw new RangeError(`audit: reference has ${reference.size} accounts, damaged ${damaged.size}`);
  const liqByAccount = new Map<Felt, DamagedLiquidation[]>();
  for (const l of liquidations) {
    if (!reference.has(l.account)) throw new RangeError(`audit: liquidated account ${l.account.toString(16)} is not in the reference`);
    liqByAccount.set(l.account, [...(liqByAccount.get(l.account) ?? []), l]);
  }
  const findings: AuditFinding[] = [];
  for (const [address, ref] of reference) {
    const dmg = damaged.get(address);
    if (!dmg) throw new RangeError(`audit: account ${address.toString(16)} missing from the damaged records`);
    const liqs = liqByAccount.get(address) ?? [];
    const liquidated = liqs.length > 0;
    const improper = liquidated && !isLiquidatableRecord(ref);
    const fee = liqs.reduce((s, l) => s + l.fee_usdc6, 0n);
    const badDebt = liqs.reduce((s, l) => s + l.bad_debt_usdc6, 0n);
    findings.push({
      address,
      label: ref.label,
      reference_equity_usdc6: ref.equity_usdc6,
      damaged_equity_usdc6: dmg.equity_usdc6,
      equity_shortfall_usdc6: ref.equity_usdc6 - dmg.equity_usdc6,
      liquidated,
      improper,
      liquidation_fee_usdc6: fee,
      bad_debt_usdc6: badDebt,
      refund_usdc6: improper ? refundFor(fee, badDebt) : 0n,
    });
  }
  const improper_liquidations = findings.filter((f) => f.improper);
  return {
    accounts_compared: findings.length,
    findings,
    improper_liquidations,
    distorted_not_liquidated: findings.filter((f) => !f.liquidated && f.equity_shortfall_usdc6 !== 0n),
    proper_liquidations: findings.filter((f) => f.liquidated && !f.improper),
    audited_losses_total_usdc6: improper_liquidations.reduce((s, f) => s + f.refund_usdc6, 0n),
  };
}

/** The refund policy's amount: the realized penalty plus written-off collateral. */
export function refundFor(fee_usdc6: bigint, bad_debt_usdc6: bigint): bigint {
  if (fee_usdc6 < 0n || bad_debt_usdc6 < 0n) throw new RangeError("refundFor: amounts must be non-negative");
  return fee_usdc6 + bad_debt_usdc6;
}

/** Field-by-field equality of two record sets (the rollback's "state equals the snapshot" check). */
export function diffRecords(a: ReadonlyMap<Felt, AccountRecord>, b: ReadonlyMap<Felt, AccountRecord>): string[] {
  const out: string[] = [];
  if (a.size !== b.size) out.push(`account count ${a.size} ≠ ${b.size}`);
  for (const [address, x] of a) {
    const y = b.get(address);
    if (!y) {
      out.push(`${x.label}: missing`);
      continue;
    }
    for (const f of ["balance_usdc6", "equity_usdc6", "maintenance_margin_usdc6", "exposure_usdc6"] as const) {
      if (x[f] !== y[f]) out.push(`${x.label}.${f}: ${x[f]} ≠ ${y[f]}`);
    }
    for (const m of new Set([...Object.keys(x.positions), ...Object.keys(y.positions)])) {
      if ((x.positions[m] ?? 0n) !== (y.positions[m] ?? 0n)) out.push(`${x.label}.position[${m}]: ${x.positions[m] ?? 0n} ≠ ${y.positions[m] ?? 0n}`);
    }
  }
  return out;
}
