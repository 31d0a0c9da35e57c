// Shared fixture of the marketdata tests: a fixed clock and epoch, on-chain baselines
// for the genesis markets, a valid push, and a tiny "chain" that applies accepted writes
// through the oracle's own on-chain check (contracts/oracle.ts checkMarketDataUpdate).

import { checkMarketDataUpdate, emptyOracleMarket, type OracleMarket } from "../../contracts/oracle.js";
import { baselineFromOracle, type Baseline } from "../../sequencer/marketdata/guards.js";
import { MarketDataPipeline, toOracleUpdate, type PipelineOptions } from "../../sequencer/marketdata/pipeline.js";
import type { MarketDataWrite } from "../../sequencer/marketdata/update.js";

export const NOW_S = 1_769_000_000;
export const EPOCH = 3;

const CAPS: Record<string, [bigint, bigint]> = {
  "BTC-USD-PERP": [500_000_000n, 3600n],
  "ETH-USD-PERP": [500_000_000n, 3600n],
  "PAXG-USD-PERP": [250_000_000n, 3600n],
};

/** What the oracle holds 10 s before NOW_S: BTC and ETH written, PAXG registered but never written. */
export function genesisOracle(): Map<string, OracleMarket> {
  const m = new Map<string, OracleMarket>();
  const blank = (market: string): OracleMarket => emptyOracleMarket(CAPS[market]![0], CAPS[market]![1]);
  m.set("BTC-USD-PERP", {
    ...blank("BTC-USD-PERP"),
    mark_price_e6: 97_120_000_000n,
    index_price_e6: 97_118_000_000n,
    funding_rate_e12: 12_500_000n,
    funding_index_e6: 1_523_777_372n,
    timestamp_s: BigInt(NOW_S - 10),
    epoch: BigInt(EPOCH),
    sequence: 10n,
  });
  m.set("ETH-USD-PERP", {
    ...blank("ETH-USD-PERP"),
    mark_price_e6: 3_400_500_000n,
    index_price_e6: 3_400_000_000n,
    funding_rate_e12: 10_000_000n,
    funding_index_e6: 87_125_000n,
    timestamp_s: BigInt(NOW_S - 10),
    epoch: BigInt(EPOCH),
    sequence: 10n,
  });
  m.set("PAXG-USD-PERP", blank("PAXG-USD-PERP"));
  return m;
}

/** The valid BTC push of the task's example (accepted against genesisOracle at NOW_S). */
export function validPush(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    market: "BTC-USD-PERP",
    source: "feed-a",
    mark_price: "97123.45",
    index_price: "97120.00",
    funding_rate: "0.0000125",
    funding_index: "1523.774",
    timestamp: NOW_S,
    epoch: EPOCH,
    sequence: 1042,
    ...over,
  };
}

/** A mutable test world: clock, lifecycle, epoch and an oracle that accepted writes land in. */
export class World {
  now_s = NOW_S;
  lifecycle = "ready";
  epoch = EPOCH;
  oracle = genesisOracle();
  /** Set to make every baseline read fail (an unreadable / empty store). */
  baselineOverride: Baseline | undefined;

  pipeline(extra: Partial<PipelineOptions> = {}): MarketDataPipeline {
    return new MarketDataPipeline({
      now_s: () => this.now_s,
      lifecycle: () => this.lifecycle,
      epoch: () => this.epoch,
      readBaseline: (market) => this.baselineOverride ?? baselineFromOracle(this.oracle.get(market)),
      ...extra,
    });
  }

  /** Apply a write as the oracle contract would (throws ExchangeError when it would revert). */
  commit(w: MarketDataWrite): void {
    const prev = this.oracle.get(w.market)!;
    const u = toOracleUpdate(w);
    checkMarketDataUpdate(prev, u);
    this.oracle.set(w.market, { ...prev, ...u });
  }
}
