// The oracle / market-data contract: per market the mark price, index price, funding
// rate, cumulative funding index, timestamp and the (epoch, sequence) of the update
// that wrote them. Only the operator account may write, and the contract re-checks on
// chain every invariant it can (checkMarketDataUpdate), so a buggy or replayed feed
// still cannot write a reset funding index or a stale update. Never reads the clock.
// Scales: contracts/perp/units.ts (price e6, rate e12 per hour, index e6, seconds).

import type { Felt } from "../state/felt.js";
import { ExchangeError, require_ } from "./perp/errors.js";
import { fundingStepWithinCap, maxFundingStep } from "./perp/funding.js";
import { entryAddress, storageVarAddress } from "./perp/slot-address.js";
import { data, defineContract, fnSig, key, t, type CallContext } from "./runtime/index.js";
import { fromSignedFelt, toSignedFelt } from "../state/felt.js";

export interface MarketDataUpdate {
  mark_price_e6: bigint;
  index_price_e6: bigint;
  funding_rate_e12: bigint;
  funding_index_e6: bigint;
  timestamp_s: bigint;
  epoch: bigint;
  sequence: bigint;
}

/** What the oracle holds for one market: the last update and the market's funding-step cap. */
export interface OracleMarket extends MarketDataUpdate {
  /** Per-market funding-step cap: max rate per funding period (e12) and the period (s). */
  max_funding_rate_e12: bigint;
  funding_period_s: bigint;
}

/** A registered market that has never received an update (or, with zero caps, no market at all). */
export function emptyOracleMarket(max_funding_rate_e12 = 0n, funding_period_s = 0n): OracleMarket {
  return { mark_price_e6: 0n, index_price_e6: 0n, funding_rate_e12: 0n, funding_index_e6: 0n, timestamp_s: 0n, epoch: 0n, sequence: 0n, max_funding_rate_e12, funding_period_s };
}

/**
 * The on-chain checks of one update against what the oracle holds (pure). In order:
 * market registered; prices > 0; when data exists: timestamp strictly increases, epoch
 * never decreases and the sequence increases within an epoch, a nonzero funding index
 * is never replaced by zero, and |Δindex| ≤ max_rate × min(prev mark, new mark) ×
 * elapsed / period. The first update of a market has nothing to compare against.
 */
export function checkMarketDataUpdate(prev: OracleMarket, u: MarketDataUpdate): void {
  checkPricesOnly(prev, u);
  if (prev.timestamp_s === 0n) return;
  require_(u.timestamp_s > prev.timestamp_s, "ORACLE: stale timestamp", { timestamp_s: u.timestamp_s, last_s: prev.timestamp_s });
  require_(u.epoch >= prev.epoch, "ORACLE: stale epoch", { epoch: u.epoch, last: prev.epoch });
  require_(u.epoch > prev.epoch || u.sequence > prev.sequence, "ORACLE: stale sequence", {
    sequence: u.sequence,
    last: prev.sequence,
  });
  require_(!(prev.funding_index_e6 !== 0n && u.funding_index_e6 === 0n), "ORACLE: funding index reset", {
    last_index_e6: prev.funding_index_e6,
  });
  const mark = u.mark_price_e6 < prev.mark_price_e6 ? u.mark_price_e6 : prev.mark_price_e6;
  const elapsed = u.timestamp_s - prev.timestamp_s;
  const delta = u.funding_index_e6 - prev.funding_index_e6;
  if (!fundingStepWithinCap(delta, mark, elapsed, prev.max_funding_rate_e12, prev.funding_period_s)) {
    throw new ExchangeError("ORACLE: funding step too big", {
      delta_e6: delta,
      max_step_e6: maxFundingStep(mark, elapsed, prev.max_funding_rate_e12, prev.funding_period_s),
    });
  }
}

// ---- contract ------------------------------------------------------------------------

/** The fields of a market's record: the stored struct, and the update call after `market`. */
const MARKET_DATA_FIELDS = {
  mark_price: t.u64,
  index_price: t.u64,
  funding_rate: t.i128,
  funding_index: t.i128,
  timestamp: t.u64,
  epoch: t.u64,
  sequence: t.u64,
};
const MarketDataT = t.struct("perpchain::oracle::MarketData", MARKET_DATA_FIELDS);
const MarketConfigT = t.struct("perpchain::oracle::OracleMarketConfig", {
  market: t.felt252,
  max_funding_rate: t.u64,
  funding_period: t.u32,
});

const IFACE = "perpchain::oracle::IOracle";

/** Constructor inputs (encode with the runtime's encodeArgs for deployments / genesis). */
export const oracleConstructorInputs = { admin: t.contractAddress, operator: t.contractAddress, markets: t.array(MarketConfigT) };

export const oracleFns = {
  updateMarketData: fnSig("update_market_data", { market: t.felt252, ...MARKET_DATA_FIELDS }),
  addMarket: fnSig("add_market", { config: MarketConfigT }),
  setOperator: fnSig("set_operator", { operator: t.contractAddress }),
  getMarketData: fnSig("get_market_data", { market: t.felt252 }, MarketDataT),
  getMarketConfig: fnSig("get_market_config", { market: t.felt252 }, MarketConfigT),
  getOperator: fnSig("get_operator", {}, t.contractAddress),
  getAdmin: fnSig("get_admin", {}, t.contractAddress),
} as const;

// Raw layout: oracle_markets[market] at consecutive slots (see OracleMarket field order).
const OPERATOR_SLOT = storageVarAddress("oracle_operator");
const ADMIN_SLOT = storageVarAddress("oracle_admin");
const MARKETS_BASE = storageVarAddress("oracle_markets");
const FIELDS = [
  "mark_price_e6",
  "index_price_e6",
  "funding_rate_e12",
  "funding_index_e6",
  "timestamp_s",
  "epoch",
  "sequence",
  "max_funding_rate_e12",
  "funding_period_s",
] as const;
const SIGNED = new Set<string>(["funding_rate_e12", "funding_index_e6"]);

type RawCtx = Pick<CallContext<any, any>, "readRaw" | "writeRaw">;

export function readOracleMarket(ctx: RawCtx, market: Felt): OracleMarket {
  const base = entryAddress(MARKETS_BASE, market);
  const out: Record<string, bigint> = {};
  FIELDS.forEach((f, i) => {
    const v = ctx.readRaw(base + BigInt(i));
    out[f] = SIGNED.has(f) ? fromSignedFelt(v) : v;
  });
  return out as unknown as OracleMarket;
}

function writeOracleMarket(ctx: RawCtx, market: Felt, prev: OracleMarket, next: OracleMarket): void {
  const base = entryAddress(MARKETS_BASE, market);
  FIELDS.forEach((f, i) => {
    if (next[f] === prev[f]) return;
    ctx.writeRaw(base + BigInt(i), SIGNED.has(f) ? toSignedFelt(next[f]) : next[f]);
  });
}

/** Run a rule; an ExchangeError becomes a Cairo-style panic with its code. */
function guarded<T>(ctx: CallContext<any, any>, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ExchangeError) ctx.panic(e.code);
    throw e;
  }
}

function addMarket(ctx: RawCtx, cfg: { market: Felt; max_funding_rate: bigint; funding_period: bigint }): OracleMarket {
  const prev = readOracleMarket(ctx, cfg.market);
  require_(prev.funding_period_s === 0n, "ORACLE: market exists");
  require_(cfg.market !== 0n && cfg.max_funding_rate > 0n && cfg.funding_period > 0n, "ORACLE: bad config");
  const next = { ...prev, max_funding_rate_e12: cfg.max_funding_rate, funding_period_s: cfg.funding_period };
  writeOracleMarket(ctx, cfg.market, prev, next);
  return next;
}

/** One oracle class per on-chain check policy; everything else (ABI, storage, events) is shared. */
function buildOracleClass(path: string, checkUpdate: (prev: OracleMarket, u: MarketDataUpdate) => void) {
  return defineContract(path, {
    storage: {},
    events: {
      MarketDataUpdated: {
        market: key(t.felt252),
        mark_price: data(t.u64),
        index_price: data(t.u64),
        funding_rate: data(t.i128),
        funding_index: data(t.i128),
        timestamp: data(t.u64),
        epoch: data(t.u64),
        sequence: data(t.u64),
      },
      MarketAdded: { market: key(t.felt252), max_funding_rate: data(t.u64), funding_period: data(t.u32) },
      OperatorChanged: { operator: data(t.contractAddress) },
    },
  })
    .constructor_(oracleConstructorInputs, (ctx, a) =>
      guarded(ctx, () => {
        ctx.writeRaw(ADMIN_SLOT, a.admin);
        ctx.writeRaw(OPERATOR_SLOT, a.operator);
        for (const m of a.markets) {
          addMarket(ctx, m);
          ctx.emit("MarketAdded", m);
        }
      }),
    )
    .external(IFACE, oracleFns.updateMarketData, (ctx, a) =>
      guarded(ctx, () => {
        require_(ctx.caller === ctx.readRaw(OPERATOR_SLOT), "ORACLE: only operator");
        const prev = readOracleMarket(ctx, a.market);
        const u: MarketDataUpdate = {
          mark_price_e6: a.mark_price,
          index_price_e6: a.index_price,
          funding_rate_e12: a.funding_rate,
          funding_index_e6: a.funding_index,
          timestamp_s: a.timestamp,
          epoch: a.epoch,
          sequence: a.sequence,
        };
        checkUpdate(prev, u);
        writeOracleMarket(ctx, a.market, prev, { ...prev, ...u });
        ctx.emit("MarketDataUpdated", a);
      }),
    )
    .external(IFACE, oracleFns.addMarket, (ctx, a) =>
      guarded(ctx, () => {
        require_(ctx.caller === ctx.readRaw(ADMIN_SLOT), "ORACLE: only operator");
        addMarket(ctx, a.config);
        ctx.emit("MarketAdded", a.config);
      }),
    )
    .external(IFACE, oracleFns.setOperator, (ctx, a) =>
      guarded(ctx, () => {
        require_(ctx.caller === ctx.readRaw(ADMIN_SLOT), "ORACLE: only operator");
        ctx.writeRaw(OPERATOR_SLOT, a.operator);
        ctx.emit("OperatorChanged", { operator: a.operator });
      }),
    )
    .view(IFACE, oracleFns.getMarketData, (ctx, a) =>
      guarded(ctx, () => {
        const m = readOracleMarket(ctx, a.market);
        require_(m.funding_period_s > 0n, "ORACLE: unknown market");
        return {
          mark_price: m.mark_price_e6,
          index_price: m.index_price_e6,
          funding_rate: m.funding_rate_e12,
          funding_index: m.funding_index_e6,
          timestamp: m.timestamp_s,
          epoch: m.epoch,
          sequence: m.sequence,
        };
      }),
    )
    .view(IFACE, oracleFns.getMarketConfig, (ctx, a) =>
      guarded(ctx, () => {
        const m = readOracleMarket(ctx, a.market);
        require_(m.funding_period_s > 0n, "ORACLE: unknown market");
        return { market: a.market, max_funding_rate: m.max_funding_rate_e12, funding_period: m.funding_period_s };
      }),
    )
    .view(IFACE, oracleFns.getOperator, (ctx) => ctx.readRaw(OPERATOR_SLOT))
    .view(IFACE, oracleFns.getAdmin, (ctx) => ctx.readRaw(ADMIN_SLOT))
    .build();
}

/** The oracle perpchain runs: every on-chain check of checkMarketDataUpdate. */
export const OracleClass = buildOracleClass("perpchain::oracle::Oracle", checkMarketDataUpdate);

/**
 * INCIDENT MODEL — never the default, never for users. The oracle of the January-2026
 * incident system, which had no on-chain market-data checks: only operator-only writes
 * and positive prices, so a reset funding index or a stale update lands. Same ABI and
 * storage as OracleClass, distinct class name (so a distinct class hash a client can
 * tell apart). Exists so the rollback drill's unguarded run reproduces the incident.
 */
export const UncheckedOracleClass = buildOracleClass("perpchain::oracle::UncheckedOracleIncidentModel", checkPricesOnly);

/** The incident system's only check: the market exists and both prices are positive. */
export function checkPricesOnly(prev: OracleMarket, u: MarketDataUpdate): void {
  require_(prev.funding_period_s > 0n, "ORACLE: unknown market");
  require_(u.mark_price_e6 > 0n && u.index_price_e6 > 0n, "ORACLE: price not positive", {
    mark_price_e6: u.mark_price_e6,
    index_price_e6: u.index_price_e6,
  });
}

/** Storage slot of a market's first field (for genesis predeploys and tests). */
export function oracleMarketSlot(market: Felt): Felt {
  return entryAddress(MARKETS_BASE, market);
}
export { OPERATOR_SLOT as ORACLE_OPERATOR_SLOT, ADMIN_SLOT as ORACLE_ADMIN_SLOT };
