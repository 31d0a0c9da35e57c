// The January-incident rollback drill, both runs, as one function the CLI and the tests
// call. Run 1 (guards on, checked oracle): the restart race's zero funding indices are
// refused and nobody is liquidated. Run 2 (guards off, the incident-model oracle): the
// corrupted write lands, liquidations follow, and the runbook is executed and measured:
// pause → cancel all except TP/SL → roll back to the pre-maintenance snapshot (timed,
// root and accounts verified) → replay the window's legitimate transactions → reopen
// post-only with a price band (aggressive orders refused; the same orders simulated on a
// throwaway branch without the band) → audit → refunds from the Liquidator Vault → resume.
//
// Time is a simulated clock (the seed fixes the chain); wall-clock ms are measured only
// for the report's step timings and the rollback. Events are read by name through the
// exchange's ABI (exchangeEvents), never by position.

import { performance } from "node:perf_hooks";
import { ORACLE_ADDRESS } from "../../contracts/exchange-genesis.js";
import { oracleFns } from "../../contracts/oracle.js";
import { exchangeFns } from "../../contracts/perp/exchange-contract.js";
import { OrderFlag, OrderStatus, OrderType, Side } from "../../contracts/perp/types.js";
import { encodeArgs } from "../../contracts/runtime/index.js";
import { decodeShortString, encodeShortString, toHex, type Felt } from "../../state/felt.js";
import type { TxRecord } from "../chain-store.js";
import { parseBroadcastedTxn } from "../rpc/params.js";
import type { Snapshot } from "../snapshots.js";
import { auditAccounts, diffRecords, type AccountRecord, type AuditResult, type DamagedLiquidation } from "./audit.js";
import { Branch, calls, DrillChain, DrillError, exchangeEvents, MARKETS, type FundingPoint } from "./drill-chain.js";
import { marketSpec, planScenario, pushMarketData, roundToTick, setupMarket, type PushResult, type ScenarioPlan } from "./scenario.js";

export interface DrillOptions {
  seed: number;
  traders: number;
  /** Post-only price band at the reopen (ppm of the mark). */
  band_ppm?: number;
  /** One line per step. */
  log?: (line: string) => void;
}

export interface StepTiming {
  run: "guarded" | "unguarded";
  step: string;
  wall_ms: number;
  head_block: number;
  detail: string;
}

export interface DrillOutcome {
  seed: number;
  traders: number;
  steps: StepTiming[];
  guarded: {
    liquidations: number;
    refused_updates: number;
    refusals: Array<{ market: string; reason: string; message: string }>;
    funding: FundingPoint[];
  };
  unguarded: {
    corrupted_writes: number;
    liquidations_before_rollback: number;
    liquidations: DamagedLiquidation[];
    cancelled_orders: number;
    tpsl_kept: number;
    tpsl_total: number;
    snapshot: Snapshot;
    rollback_ms: number;
    keys_changed: number;
    removed_transactions: number;
    replayed_legitimate: number;
    state_root_matches_snapshot: boolean;
    accounts_equal_snapshot: boolean;
    account_differences: string[];
    reopen: ReopenOutcome;
    audit: AuditResult;
    refunds: Array<{ address: Felt; label: string; amount_usdc6: bigint; wallet_delta_usdc6: bigint }>;
    refunds_total_usdc6: bigint;
    audited_losses_total_usdc6: bigint;
    vault_funded_usdc6: bigint;
    funding_damaged: FundingPoint[];
    funding_restored: FundingPoint[];
  };
}

export interface ReopenOutcome {
  band_ppm: number;
  mark_e6: bigint;
  refused: Array<{ order: string; reason: string }>;
  accepted_aggressive: number;
  without_band: {
    trades: Array<{ price_e6: bigint; size_e8: bigint }>;
    max_trade_price_e6: bigint;
    max_skew_ppm: bigint;
    best_ask_after_e6: bigint;
    liquidatable_at_oracle_mark: number;
    liquidatable_if_mark_followed_book: string[];
    reverts: string[];
  };
}

/** 2026-01-15T00:00:00Z, the simulated clock's start. */
const START_MS = 1_768_435_200_000;
const PAXG = "PAXG-USD-PERP";

export async function runDrill(o: DrillOptions): Promise<DrillOutcome> {
  const log = o.log ?? (() => {});
  const plan = planScenario(o.seed, o.traders);
  const steps: StepTiming[] = [];
  const timed = async <T>(run: StepTiming["run"], chain: DrillChain, step: string, f: () => Promise<T>, detail: (r: T) => string): Promise<T> => {
    const t0 = performance.now();
    const r = await f();
    const s: StepTiming = { run, step, wall_ms: round3(performance.now() - t0), head_block: chain.node.headNumber(), detail: detail(r) };
    steps.push(s);
    log(`[${run}] ${step}: ${s.detail} (${s.wall_ms} ms, head ${s.head_block})`);
    return r;
  };

  const guarded = await runGuarded(o, plan, timed, log);
  const unguarded = await runUnguarded(o, plan, timed, log);
  return { seed: o.seed, traders: o.traders, steps, guarded, unguarded };
}

type Timed = <T>(run: StepTiming["run"], chain: DrillChain, step: string, f: () => Promise<T>, detail: (r: T) => string) => Promise<T>;

// ---- run 1 ----------------------------------------------------------------------------

async function runGuarded(o: DrillOptions, plan: ScenarioPlan, timed: Timed, log: (l: string) => void): Promise<DrillOutcome["guarded"]> {
  const chain = await DrillChain.start({ seed: o.seed, accounts: plan.accounts, start_ms: START_MS, unsafeDisableGuards: false, oracle: "checked" });
  try {
    await timed("guarded", chain, "setup", () => setupMarket(chain, plan, (l) => log(`[guarded]   ${l}`)), (r) => `${r.positions} positions, ${r.tpslOrders} TP/SL, ${r.pushes} market-data writes`);
    const snap = await timed("guarded", chain, "begin maintenance", () => beginMaintenance(chain), (s) => `snapshot ${s.name} at block ${s.block_number}`);
    chain.tick(120);
    const answers = await timed("guarded", chain, "restart race: zero funding indices", () => restartRace(chain), (a) => a.map((x) => `${x.market}: ${x.answer.accepted ? "WRITTEN" : `refused (${x.answer.reason})`}`).join("; "));
    const liqs = await timed("guarded", chain, "trigger engine", () => liquidationCascade(chain, snap.block_number), (l) => `${l.length} liquidations`);
    const refusals = answers.filter((a) => !a.answer.accepted).map((a) => ({ market: a.market, reason: a.answer.reason ?? "", message: a.answer.message ?? "" }));
    return { liquidations: liqs.length, refused_updates: refusals.length, refusals, funding: chain.funding };
  } finally {
    await chain.stop();
  }
}

// ---- run 2 ----------------------------------------------------------------------------

async function runUnguarded(o: DrillOptions, plan: ScenarioPlan, timed: Timed, log: (l: string) => void): Promise<DrillOutcome["unguarded"]> {
  const band_ppm = o.band_ppm ?? 10_000;
  const chain = await DrillChain.start({ seed: o.seed, accounts: plan.accounts, start_ms: START_MS, unsafeDisableGuards: true, oracle: "unchecked" });
  try {
    await timed("unguarded", chain, "setup", () => setupMarket(chain, plan, (l) => log(`[unguarded] ${l}`)), (r) => `${r.positions} positions, ${r.tpslOrders} TP/SL, ${r.pushes} market-data writes`);
    const atSnapshot = recordAccounts(chain, plan);
    const snap = await timed("unguarded", chain, "begin maintenance", () => beginMaintenance(chain), (s) => `snapshot ${s.name} at block ${s.block_number}, root ${s.global_root.slice(0, 18)}…`);

    chain.tick(60);
    await timed("unguarded", chain, "legitimate activity in the window", async () => {
      for (const a of plan.windowDepositors) await chain.invoke(chain.signer(a), calls.deposit(chain.usdcAddress(), 1_000n * 1_000_000n));
      await chain.blockAllSucceeded("window deposits");
      return plan.windowDepositors.length;
    }, (n) => `${n} top-up deposits`);
    chain.tick(60);

    const answers = await timed("unguarded", chain, "restart race: zero funding indices", () => restartRace(chain), (a) => a.map((x) => `${x.market}: ${x.answer.accepted ? "WRITTEN" : `refused (${x.answer.reason})`}`).join("; "));
    const corrupted = answers.filter((a) => a.answer.accepted).length;
    const liquidations = await timed("unguarded", chain, "trigger engine", () => liquidationCascade(chain, snap.block_number), (l) => `${l.length} liquidations on the damaged chain`);

    // Runbook.
    await timed("unguarded", chain, "pause", async () => { await chain.rpc("appchain_pause"); return chain.blockAllSucceeded("pause"); }, () => "node refuses user txs; exchange paused");
    const cancelled = await timed("unguarded", chain, "cancel all except TP/SL", async () => {
      await chain.rpc("appchain_cancelAllOrders");
      const b = await chain.blockAllSucceeded("cancel all");
      return countEvents(b.txs, "OrderCancelled");
    }, (n) => `${n} resting orders cancelled`);
    const tpslIds = await conditionalOrderIds(chain, snap.block_number);
    const tpslKept = tpslIds.filter((id) => chain.view<Record<string, bigint>>(exchangeFns.getOrder, { order_id: id }).status === BigInt(OrderStatus.UNTRIGGERED)).length;

    const damaged = recordAccounts(chain, plan);
    const removedTxs = await txsAfter(chain, snap.block_number);
    const rb = await timed("unguarded", chain, "rollback to the pre-maintenance snapshot", () => chain.rpc<{ rollback_ms: number; keys_changed: number; new_root: string; removed_transactions: string[] }>("appchain_rollback", { snapshot: snap.name, policy: "drop" }), (r) => `${r.removed_transactions.length} txs removed, ${r.keys_changed} keys, rollback ${r.rollback_ms} ms`);
    const head = chain.node.world.head()!;
    const rootMatches = toHex(head.roots.globalRoot) === snap.global_root && head.blockNumber === snap.block_number;
    const afterRollback = recordAccounts(chain, plan);
    const differences = diffRecords(atSnapshot, afterRollback);
    log(`[unguarded]   state root ${rootMatches ? "equals" : "DIFFERS FROM"} the snapshot's; accounts ${differences.length === 0 ? "equal" : `differ (${differences.length})`} the snapshot's`);

    const operator = chain.node.genesis.operator.address;
    const legit = removedTxs.filter((t) => BigInt(String(t.transaction.sender_address)) !== operator);
    await timed("unguarded", chain, "replay legitimate window transactions", async () => {
      for (const t of legit) {
        const { transaction_hash: _h, ...raw } = t.transaction;
        await chain.node.submit(parseBroadcastedTxn(raw, "replay"), { operator: true });
      }
      await chain.blockAllSucceeded("replay");
      return legit.length;
    }, (n) => `${n} user txs re-executed (operator/oracle/liquidation txs dropped)`);
    const reference = recordAccounts(chain, plan);

    const reopen = await timed("unguarded", chain, "reopen post-only with price band", () => reopenPostOnly(chain, plan, band_ppm), (r) => `${r.refused.length} aggressive orders refused (${[...new Set(r.refused.map((x) => x.reason))].join(", ")}); without the band: max skew ${r.without_band.max_skew_ppm} ppm, ${r.without_band.liquidatable_if_mark_followed_book.length} accounts liquidatable if the mark followed the book`);

    const liqRecords: DamagedLiquidation[] = liquidations;
    const audit = await timed("unguarded", chain, "audit", async () => auditAccounts(dropVault(reference), dropVault(damaged), liqRecords), (a) => `${a.accounts_compared} accounts compared, ${a.improper_liquidations.length} improper liquidations, losses ${usdc(a.audited_losses_total_usdc6)} USDC`);

    const refunds = await timed("unguarded", chain, "refunds from the Liquidator Vault", () => payRefunds(chain, audit), (r) => `${r.payouts.length} payouts, ${usdc(r.total)} USDC`);
    await timed("unguarded", chain, "resume", async () => { await chain.rpc("appchain_setPostOnly", { enabled: false }); return chain.blockAllSucceeded("resume"); }, () => "post-only off: normal trading");

    const restoredAt = firstRestoredIndex(chain.funding, snap.block_number);
    const damagedFunding = chain.funding.slice(0, restoredAt);
    const restoredFunding = chain.funding.slice(restoredAt);
    return {
      corrupted_writes: corrupted,
      liquidations_before_rollback: liquidations.length,
      liquidations,
      cancelled_orders: cancelled,
      tpsl_kept: tpslKept,
      tpsl_total: tpslIds.length,
      snapshot: snap,
      rollback_ms: rb.rollback_ms,
      keys_changed: rb.keys_changed,
      removed_transactions: rb.removed_transactions.length,
      replayed_legitimate: legit.length,
      state_root_matches_snapshot: rootMatches,
      accounts_equal_snapshot: differences.length === 0,
      account_differences: differences,
      reopen,
      audit,
      refunds: refunds.payouts,
      refunds_total_usdc6: refunds.total,
      audited_losses_total_usdc6: audit.audited_losses_total_usdc6,
      vault_funded_usdc6: refunds.funded,
      funding_damaged: damagedFunding,
      funding_restored: restoredFunding,
    };
  } finally {
    await chain.stop();
  }
}

// ---- steps ----------------------------------------------------------------------------

function beginMaintenance(chain: DrillChain): Promise<Snapshot> {
  return chain.rpc<{ snapshot: Snapshot }>("appchain_beginMaintenance", { reason: "database upgrade" }).then((r) => r.snapshot);
}

/**
 * The restart race: the restarted market-data service, its cache empty, pushes ZERO
 * funding indices and zero funding rates for every market (prices from its stale
 * snapshot, which happen to be the chain's), then a block is built.
 */
async function restartRace(chain: DrillChain): Promise<Array<{ market: string; answer: PushResult }>> {
  const out: Array<{ market: string; answer: PushResult }> = [];
  for (const market of MARKETS) {
    const cur = chain.oracle(market);
    const answer = await pushMarketData(chain, { market, source: "mds-restarted", mark_e6: cur.mark_price_e6, rate_e12: 0n, index_e6: 0n, sequence: 1 });
    out.push({ market, answer });
  }
  await chain.blockAllSucceeded("restart race");
  return out;
}

/** Scan, include the liquidations, repeat while the engine finds more (bounded). */
async function liquidationCascade(chain: DrillChain, sinceBlock: number): Promise<DamagedLiquidation[]> {
  for (let round = 0; round < 5; round++) {
    const scan = await chain.devnet.triggers.scan();
    if (scan.liquidations.length === 0 && scan.triggers.length === 0) break;
    await chain.block();
  }
  const out: DamagedLiquidation[] = [];
  for (const t of await txsAfter(chain, sinceBlock)) {
    if (t.receipt.execution_status !== "SUCCEEDED") continue;
    const sizes: Record<string, bigint> = {};
    for (const { name, values: v } of exchangeEvents(t.receipt.events, "Liquidation", "LiquidationSettled")) {
      if (name === "Liquidation") sizes[decodeShortString(v.market!)] = v.size_e8!;
      else out.push({ account: v.account!, block: t.blockNumber, fee_usdc6: v.fee_usdc6!, bad_debt_usdc6: v.bad_debt_usdc6!, sizes: { ...sizes } });
    }
  }
  return out;
}

/** Post-only reopen: cancel the restored book, band on, fresh data, thin PAXG quotes, aggressive orders. */
async function reopenPostOnly(chain: DrillChain, plan: ScenarioPlan, band_ppm: number): Promise<ReopenOutcome> {
  await chain.rpc("appchain_cancelAllOrders");
  await chain.rpc("appchain_setPostOnly", { enabled: true, band_ppm });
  await chain.blockAllSucceeded("reopen controls");
  // Market data resumes from the restored values (same feed, next update).
  chain.tick(10);
  for (const market of MARKETS) {
    const cur = chain.oracle(market);
    const r = await pushMarketData(chain, { market, source: "drill-feed", mark_e6: cur.mark_price_e6, rate_e12: cur.funding_rate_e12, index_e6: cur.funding_index_e6, sequence: 1_000 });
    if (!r.accepted) throw new DrillError(`reopen market data ${market} refused: ${r.reason}`);
  }
  await chain.blockAllSucceeded("reopen market data");
  const restoredScan = await chain.devnet.triggers.scan();
  if (restoredScan.liquidations.length > 0) throw new DrillError(`restored chain has ${restoredScan.liquidations.length} liquidatable accounts`);
  await chain.rpc("appchain_resume");
  await chain.blockAllSucceeded("resume (post-only)");

  const mark = chain.oracle(PAXG).mark_price_e6;
  const { tick_e6 } = marketSpec(PAXG);
  const at = (ppm: bigint) => roundToTick(mark + (mark * ppm) / 1_000_000n, tick_e6);
  const half = 50_000_000n; // 0.5 PAXG
  await chain.invoke(chain.signer(plan.makers.asks), [
    calls.placeOrder({ market: PAXG, side: Side.SELL, type: OrderType.LIMIT, flags: OrderFlag.POST_ONLY, price_e6: at(2_000n), trigger_e6: 0n, size_e8: half }),
    calls.placeOrder({ market: PAXG, side: Side.SELL, type: OrderType.LIMIT, flags: OrderFlag.POST_ONLY, price_e6: at(5_000n), trigger_e6: 0n, size_e8: half }),
  ]);
  await chain.invoke(chain.signer(plan.makers.bids), [
    calls.placeOrder({ market: PAXG, side: Side.BUY, type: OrderType.LIMIT, flags: OrderFlag.POST_ONLY, price_e6: at(-2_000n), trigger_e6: 0n, size_e8: half }),
    calls.placeOrder({ market: PAXG, side: Side.BUY, type: OrderType.LIMIT, flags: OrderFlag.POST_ONLY, price_e6: at(-5_000n), trigger_e6: 0n, size_e8: half }),
  ]);
  await chain.blockAllSucceeded("thin PAXG quotes inside the band");

  // The aggressive orders of the incident's reopen: far asks that skew the thin book, and
  // a taker sweeping it.
  const aggressive = [
    { who: plan.aggressive.asker, label: "post-only ask +8 %", call: calls.placeOrder({ market: PAXG, side: Side.SELL, type: OrderType.LIMIT, flags: OrderFlag.POST_ONLY, price_e6: at(80_000n), trigger_e6: 0n, size_e8: 200_000_000n }) },
    { who: plan.aggressive.asker, label: "post-only ask +12 %", call: calls.placeOrder({ market: PAXG, side: Side.SELL, type: OrderType.LIMIT, flags: OrderFlag.POST_ONLY, price_e6: at(120_000n), trigger_e6: 0n, size_e8: 200_000_000n }) },
    { who: plan.aggressive.taker, label: "market buy 3 PAXG", call: calls.placeOrder({ market: PAXG, side: Side.BUY, type: OrderType.MARKET, flags: 0, price_e6: 0n, trigger_e6: 0n, size_e8: 300_000_000n }) },
  ];

  // Throwaway branch against the same state: post-only off (no band), same orders.
  const branch = new Branch(chain.node);
  const operator = chain.node.genesis.operator.address;
  const reverts: string[] = [];
  const r0 = branch.execute(operator, [calls.exchange(exchangeFns.setPostOnly, { enabled: false, band_ppm: 0n })]);
  if (r0.revert !== null) throw new DrillError(`branch: set_post_only refused: ${r0.revert}`);
  const trades: Array<{ price_e6: bigint; size_e8: bigint }> = [];
  for (const a of aggressive) {
    const r = branch.execute(chain.signer(a.who).address, [a.call]);
    if (r.revert !== null) reverts.push(`${a.label}: ${r.revert}`);
    for (const { values: v } of exchangeEvents(r.events, "Trade")) trades.push({ price_e6: v.price_e6!, size_e8: v.size_e8! });
  }
  const maxPrice = trades.reduce((m, t) => (t.price_e6 > m ? t.price_e6 : m), 0n);
  const asks = branch.view<Array<{ price: bigint; size: bigint }>>(exchangeFns.getBookDepth, { market: encodeShortString(PAXG), side: BigInt(Side.SELL), levels: 1n });
  const accounts = allAccounts(chain, plan);
  const liquidatable = (): string[] =>
    accounts.filter((a) => {
      const info = branch.view<Record<string, bigint>>(exchangeFns.getAccount, { account: a.address });
      return info.exposure! > 0n && info.equity! < info.maintenance_margin!;
    }).map((a) => a.label);
  const atOracleMark = liquidatable().length;
  // The incident system's mark followed its book: move the (branch) mark to the last print.
  const last = trades.at(-1)?.price_e6 ?? mark;
  const cur = chain.oracle(PAXG);
  const r1 = branch.execute(operator, [{
    to: ORACLE_ADDRESS,
    selector: oracleFns.updateMarketData.selector,
    calldata: encodeArgs(oracleFns.updateMarketData.inputs, {
      market: encodeShortString(PAXG),
      mark_price: last,
      index_price: last,
      funding_rate: cur.funding_rate_e12,
      funding_index: cur.funding_index_e6,
      timestamp: cur.timestamp_s + 1n,
      epoch: cur.epoch,
      sequence: cur.sequence + 1n,
    }),
  }]);
  if (r1.revert !== null) throw new DrillError(`branch: book-following mark refused: ${r1.revert}`);
  const ifBookMark = liquidatable();

  // The real reopen: the same orders against the band.
  const refused: Array<{ order: string; reason: string }> = [];
  const hashes: Array<{ label: string; hash: Felt }> = [];
  for (const a of aggressive) hashes.push({ label: a.label, hash: await chain.invoke(chain.signer(a.who), [a.call]) });
  const b = await chain.block();
  let accepted = 0;
  for (const h of hashes) {
    const t = b.txs.find((x) => x.transaction.transaction_hash === toHex(h.hash));
    if (!t) throw new DrillError(`aggressive order ${h.label} not in the block: ${chain.node.rejectionOf(h.hash) ?? "?"}`);
    if (t.receipt.execution_status === "REVERTED") refused.push({ order: h.label, reason: revertCode(String(t.receipt.revert_reason)) });
    else accepted++;
  }
  return {
    band_ppm,
    mark_e6: mark,
    refused,
    accepted_aggressive: accepted,
    without_band: {
      trades,
      max_trade_price_e6: maxPrice,
      max_skew_ppm: maxPrice === 0n ? 0n : ((maxPrice - mark) * 1_000_000n) / mark,
      best_ask_after_e6: asks[0]?.price ?? 0n,
      liquidatable_at_oracle_mark: atOracleMark,
      liquidatable_if_mark_followed_book: ifBookMark,
      reverts,
    },
  };
}

/** Fund the vault with the audited total, then one vault_payout per improperly liquidated account. */
async function payRefunds(chain: DrillChain, audit: AuditResult): Promise<{ payouts: DrillOutcome["unguarded"]["refunds"]; total: bigint; funded: bigint }> {
  const total = audit.audited_losses_total_usdc6;
  if (total === 0n) return { payouts: [], total: 0n, funded: 0n };
  const usdcAddr = chain.usdcAddress();
  const operator = chain.node.genesis.operator.address;
  await chain.operator([calls.mintUsdc(usdcAddr, operator, total), calls.approveUsdc(usdcAddr, total), calls.exchange(exchangeFns.fundVault, { amount: total })]);
  await chain.blockAllSucceeded("fund vault");
  const before = new Map(audit.improper_liquidations.map((f) => [f.address, chain.usdcBalance(f.address)]));
  for (const f of audit.improper_liquidations) await chain.operator([calls.exchange(exchangeFns.vaultPayout, { recipient: f.address, amount: f.refund_usdc6 })]);
  const b = await chain.blockAllSucceeded("refund payouts");
  let paid = 0n;
  for (const t of b.txs) for (const { values: v } of exchangeEvents(t.receipt.events, "VaultPayout")) paid += v.amount_usdc6!;
  const payouts = audit.improper_liquidations.map((f) => ({ address: f.address, label: f.label, amount_usdc6: f.refund_usdc6, wallet_delta_usdc6: chain.usdcBalance(f.address) - before.get(f.address)! }));
  return { payouts, total: paid, funded: total };
}

// ---- records --------------------------------------------------------------------------

function allAccounts(chain: DrillChain, plan: ScenarioPlan): Array<{ address: Felt; label: string }> {
  const out = [
    { address: chain.signer(plan.makers.asks).address, label: "maker-asks" },
    { address: chain.signer(plan.makers.bids).address, label: "maker-bids" },
    ...plan.traders.map((t) => ({ address: chain.signer(t.account).address, label: `trader-${t.account} ${t.market.split("-")[0]} ${t.side === Side.BUY ? "long" : "short"} ${Number(t.leverage_x10) / 10}x` })),
    { address: chain.signer(plan.aggressive.asker).address, label: "reopen-asker" },
    { address: chain.signer(plan.aggressive.taker).address, label: "reopen-taker" },
  ];
  out.push({ address: encodeShortString("LIQUIDATOR_VAULT"), label: "liquidator-vault" });
  return out;
}

function recordAccounts(chain: DrillChain, plan: ScenarioPlan): Map<Felt, AccountRecord> {
  const out = new Map<Felt, AccountRecord>();
  for (const a of allAccounts(chain, plan)) {
    const info = chain.view<Record<string, bigint>>(exchangeFns.getAccount, { account: a.address });
    const positions: Record<string, bigint> = {};
    for (const m of MARKETS) positions[m] = chain.view<Record<string, bigint>>(exchangeFns.getPosition, { account: a.address, market: encodeShortString(m) }).size!;
    out.set(a.address, {
      address: a.address,
      label: a.label,
      balance_usdc6: info.balance!,
      equity_usdc6: info.equity!,
      maintenance_margin_usdc6: info.maintenance_margin!,
      exposure_usdc6: info.exposure!,
      positions,
    });
  }
  return out;
}

function dropVault(m: Map<Felt, AccountRecord>): Map<Felt, AccountRecord> {
  const out = new Map(m);
  out.delete(encodeShortString("LIQUIDATOR_VAULT"));
  return out;
}

async function txsAfter(chain: DrillChain, block: number): Promise<TxRecord[]> {
  const out: TxRecord[] = [];
  for (let n = block + 1; n <= chain.node.headNumber(); n++) {
    const b = await chain.node.chain.getBlock(n);
    if (b) out.push(...(await chain.node.chain.getTxs(b.txHashes)));
  }
  return out;
}

async function conditionalOrderIds(chain: DrillChain, upTo: number): Promise<bigint[]> {
  const ids: bigint[] = [];
  for (let n = 1; n <= upTo; n++) {
    const b = await chain.node.chain.getBlock(n);
    if (!b) continue;
    for (const t of await chain.node.chain.getTxs(b.txHashes)) {
      for (const { values: v } of exchangeEvents(t.receipt.events, "OrderPlaced")) {
        const type = Number(v.order_type);
        if (type === OrderType.TAKE_PROFIT || type === OrderType.STOP_LOSS) ids.push(v.order_id!);
      }
    }
  }
  return ids;
}

/** How many exchange events named `name` the transactions emitted. */
function countEvents(txs: TxRecord[], name: string): number {
  return txs.reduce((n, t) => n + exchangeEvents(t.receipt.events, name).length, 0);
}

function firstRestoredIndex(points: FundingPoint[], snapBlock: number): number {
  // The first point after the rollback is the first whose block number went back down.
  for (let i = 1; i < points.length; i++) if (points[i]!.block <= points[i - 1]!.block && points[i]!.block === snapBlock + 1) return i;
  return points.length;
}

/** "PERP: outside price band" out of a revert reason that may carry a trace around it. */
function revertCode(reason: string): string {
  const m = /(PERP|ORACLE|ERC20): [a-z -]+[a-z]/.exec(reason);
  return m ? m[0] : reason;
}

export function usdc(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? "-" : ""}${a / 1_000_000n}.${(a % 1_000_000n).toString().padStart(6, "0")}`;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
