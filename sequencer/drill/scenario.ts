// The drill's market: who trades what, derived from the seed only (same seed ⇒ same
// plan ⇒ same chain), and the setup both runs share: deposits, a maker book, leveraged
// positions in BTC, ETH and PAXG (longs and shorts, some with TP/SL), a thin PAXG book,
// and guarded market data flowing with a mild drift.

import { OrderFlag, OrderType, Side } from "../../contracts/perp/types.js";
import { GENESIS_MARKETS } from "../../contracts/perp/market-config.js";
import { formatDecimal, FUNDING_INDEX_DECIMALS, FUNDING_RATE_DECIMALS, PRICE_DECIMALS, SIZE_ONE } from "../../contracts/perp/units.js";
import { decodeShortString } from "../../state/felt.js";
import { GENESIS_MARKET_DATA } from "../marketdata-service.js";
import { calls, DrillError, MARKETS, type DrillChain, type MarketName } from "./drill-chain.js";
import { seededUnit } from "../seeded-random.js";

export interface TraderPlan {
  /** Predeployed account index. */
  account: number;
  market: MarketName;
  side: 0 | 1;
  /** Leverage × 10 (integer), e.g. 195 = 19.5×. */
  leverage_x10: bigint;
  deposit_usdc6: bigint;
  tpsl: boolean;
}

export interface ScenarioPlan {
  makers: { asks: number; bids: number };
  traders: TraderPlan[];
  /** Deposited before maintenance, no position: the reopen's aggressive actors. */
  aggressive: { asker: number; taker: number };
  /** Traders who top up during the maintenance window (legitimate activity). */
  windowDepositors: number[];
  accounts: number;
}

/** Mild per-update drift (ppm) before maintenance: longs in BTC/ETH lose a little. */
const DRIFT_PPM: Record<MarketName, bigint> = { "BTC-USD-PERP": -3_000n, "ETH-USD-PERP": -3_000n, "PAXG-USD-PERP": 1_000n };
/** Legitimate funding-index step per update (e6, longs pay: the index falls), inside every cap for a 10 s step. */
const FUNDING_STEP_E6: Record<MarketName, bigint> = { "BTC-USD-PERP": -50_000n, "ETH-USD-PERP": -2_000n, "PAXG-USD-PERP": -1_000n };
export const MARKET_DATA_INTERVAL_S = 10;

export function planScenario(seed: number, traderCount: number): ScenarioPlan {
  if (!Number.isSafeInteger(traderCount) || traderCount < 3 || traderCount > 500) throw new RangeError(`traders must be an integer in [3, 500], got ${traderCount}`);
  const rnd = seededUnit(seed); // seeded: the drill never touches Math.random
  const traders: TraderPlan[] = [];
  for (let i = 0; i < traderCount; i++) {
    const market = MARKETS[i % 3]!;
    const side = (Math.floor(i / 3) % 2 === 0 ? Side.BUY : Side.SELL) as 0 | 1;
    const paxg = market === "PAXG-USD-PERP";
    // BTC/ETH 12×..19.5×, PAXG 6×..9.5×; the first trader of each market is at the top.
    const steps = BigInt(Math.floor(rnd() * 16));
    const top = paxg ? 95n : 195n;
    const leverage_x10 = i < 6 ? top : top - steps * 5n;
    const deposit_usdc6 = BigInt(2_000 + Math.floor(rnd() * 18_000)) * 1_000_000n;
    traders.push({ account: 2 + i, market, side, leverage_x10, deposit_usdc6, tpsl: i % 2 === 0 });
  }
  return {
    makers: { asks: 0, bids: 1 },
    traders,
    aggressive: { asker: 2 + traderCount, taker: 3 + traderCount },
    // Shorts (traders 3 and 4): the zero index favours shorts, so their top-ups do not
    // change who the incident liquidates.
    windowDepositors: traders.filter((t) => t.side === Side.SELL).slice(0, 2).map((t) => t.account),
    accounts: 4 + traderCount,
  };
}

/** Mark price (e6) and lot/tick of a market at genesis. */
export function marketSpec(market: MarketName) {
  const cfg = GENESIS_MARKETS.find((m) => decodeShortString(m.name) === market);
  if (!cfg) throw new DrillError(`unknown market ${market}`);
  return { cfg, lot_e8: cfg.lot_size_e8, tick_e6: cfg.tick_size_e6 };
}

export function roundToTick(price_e6: bigint, tick_e6: bigint): bigint {
  return (price_e6 / tick_e6) * tick_e6;
}

/** Position size for a deposit at a leverage, in whole lots. */
export function sizeFor(t: TraderPlan, mark_e6: bigint): bigint {
  const { lot_e8 } = marketSpec(t.market);
  const notional_usdc6 = (t.deposit_usdc6 * t.leverage_x10) / 10n;
  const size = (notional_usdc6 * SIZE_ONE) / mark_e6;
  return (size / lot_e8) * lot_e8;
}

export interface SetupResult {
  /** Market-data pushes accepted (with a write). */
  pushes: number;
  tpslOrders: number;
  positions: number;
}

/** Genesis → deposits → maker book → positions → TP/SL → market data flowing. */
export async function setupMarket(chain: DrillChain, plan: ScenarioPlan, log: (line: string) => void): Promise<SetupResult> {
  const usdc = chain.usdcAddress();
  // Deposits: makers deep, traders per plan, aggressive actors for the reopen.
  await chain.invoke(chain.signer(plan.makers.asks), calls.deposit(usdc, 3_000_000n * 1_000_000n));
  await chain.invoke(chain.signer(plan.makers.bids), calls.deposit(usdc, 3_000_000n * 1_000_000n));
  for (const t of plan.traders) await chain.invoke(chain.signer(t.account), calls.deposit(usdc, t.deposit_usdc6));
  await chain.invoke(chain.signer(plan.aggressive.asker), calls.deposit(usdc, 200_000n * 1_000_000n));
  await chain.invoke(chain.signer(plan.aggressive.taker), calls.deposit(usdc, 100_000n * 1_000_000n));
  await chain.blockAllSucceeded("deposits");
  log(`deposits: ${plan.traders.length} traders, 2 makers, 2 reopen actors`);

  // Maker book: enough size on each side to fill every trader, in three levels.
  const marks = Object.fromEntries(MARKETS.map((m) => [m, chain.oracle(m).mark_price_e6]));
  const sizes = plan.traders.map((t) => sizeFor(t, marks[t.market]!));
  for (const market of MARKETS) {
    const { lot_e8, tick_e6 } = marketSpec(market);
    const demand = (side: number) => plan.traders.reduce((s, t, i) => (t.market === market && t.side === side ? s + sizes[i]! : s), 0n);
    for (const [makerSide, takerSide, maker] of [[Side.SELL, Side.BUY, plan.makers.asks], [Side.BUY, Side.SELL, plan.makers.bids]] as const) {
      // PAXG is the thin book: only what the traders take plus one lot per level.
      const perLevel = ((demand(takerSide) / 3n / lot_e8) + (market === "PAXG-USD-PERP" ? 1n : 5n)) * lot_e8;
      const orders = [1n, 2n, 3n].map((k) => {
        const offset = (marks[market]! * 200n * k) / 1_000_000n; // 0.02 % per level
        const price = roundToTick(makerSide === Side.SELL ? marks[market]! + offset + tick_e6 : marks[market]! - offset, tick_e6);
        return calls.placeOrder({ market, side: makerSide, type: OrderType.LIMIT, flags: OrderFlag.POST_ONLY, price_e6: price, trigger_e6: 0n, size_e8: perLevel });
      });
      await chain.invoke(chain.signer(maker), orders);
    }
  }
  await chain.blockAllSucceeded("maker book");
  log("maker book: 3 levels a side in BTC, ETH; thin PAXG");

  let positions = 0;
  plan.traders.forEach((t, i) => {
    if (sizes[i]! <= 0n) throw new DrillError(`trader ${t.account}: deposit too small for a lot of ${t.market}`);
  });
  for (const [i, t] of plan.traders.entries()) {
    await chain.invoke(chain.signer(t.account), [calls.placeOrder({ market: t.market, side: t.side, type: OrderType.MARKET, flags: 0, price_e6: 0n, trigger_e6: 0n, size_e8: sizes[i]! })]);
    positions++;
  }
  await chain.blockAllSucceeded("positions");
  log(`positions: ${positions} leveraged market orders filled`);

  let tpslOrders = 0;
  for (const [i, t] of plan.traders.entries()) {
    if (!t.tpsl) continue;
    const mark = marks[t.market]!;
    const { tick_e6 } = marketSpec(t.market);
    const away = (ppm: bigint) => roundToTick(mark + (mark * ppm) / 1_000_000n, tick_e6);
    const closing = t.side === Side.BUY ? Side.SELL : Side.BUY;
    const long = t.side === Side.BUY;
    await chain.invoke(chain.signer(t.account), [
      calls.placeOrder({ market: t.market, side: closing, type: OrderType.STOP_LOSS, flags: OrderFlag.REDUCE_ONLY, price_e6: 0n, trigger_e6: away(long ? -80_000n : 80_000n), size_e8: sizes[i]! }),
      calls.placeOrder({ market: t.market, side: closing, type: OrderType.TAKE_PROFIT, flags: OrderFlag.REDUCE_ONLY, price_e6: 0n, trigger_e6: away(long ? 80_000n : -80_000n), size_e8: sizes[i]! }),
    ]);
    tpslOrders += 2;
  }
  await chain.blockAllSucceeded("TP/SL orders");
  log(`TP/SL: ${tpslOrders} orders waiting for a trigger`);

  let pushes = 0;
  for (let k = 0; k < 3; k++) {
    chain.tick(MARKET_DATA_INTERVAL_S);
    for (const market of MARKETS) {
      const cur = chain.oracle(market);
      const { tick_e6 } = marketSpec(market);
      const mark = roundToTick(cur.mark_price_e6 + (cur.mark_price_e6 * DRIFT_PPM[market]!) / 1_000_000n, tick_e6);
      const r = await pushMarketData(chain, {
        market,
        source: "drill-feed",
        mark_e6: mark,
        rate_e12: GENESIS_MARKET_DATA[market]!.rate_e12,
        index_e6: cur.funding_index_e6 + FUNDING_STEP_E6[market]!,
        sequence: 100 + k,
      });
      if (!r.accepted || r.transaction_hash === undefined) throw new DrillError(`market data ${market} #${k} was not written: ${JSON.stringify(r)}`);
      pushes++;
    }
    await chain.blockAllSucceeded(`market data #${k}`);
    const scan = await chain.devnet.triggers.scan();
    if (scan.liquidations.length > 0 || scan.triggers.length > 0) {
      throw new DrillError(`setup drift liquidated/triggered (${scan.liquidations.length}/${scan.triggers.length}): the scenario is mis-sized`);
    }
  }
  log(`market data: ${pushes} guarded updates over ${3 * MARKET_DATA_INTERVAL_S} s, no liquidation`);
  return { pushes, tpslOrders, positions };
}

export interface PushResult {
  accepted: boolean;
  transaction_hash?: string;
  reason?: string;
  message?: string;
}

/** One push through appchain_pushMarketData (the guarded path, or unguarded in run 2). */
export function pushMarketData(
  chain: DrillChain,
  u: { market: MarketName; source: string; mark_e6: bigint; rate_e12: bigint; index_e6: bigint; sequence: number; timestamp?: number },
): Promise<PushResult> {
  return chain.rpc<PushResult>("appchain_pushMarketData", {
    update: {
      market: u.market,
      source: u.source,
      mark_price: formatDecimal(u.mark_e6, PRICE_DECIMALS),
      index_price: formatDecimal(u.mark_e6, PRICE_DECIMALS),
      funding_rate: formatDecimal(u.rate_e12, FUNDING_RATE_DECIMALS),
      funding_index: formatDecimal(u.index_e6, FUNDING_INDEX_DECIMALS),
      timestamp: u.timestamp ?? chain.nowS(),
      epoch: chain.node.epoch,
      sequence: u.sequence,
    },
  });
}

