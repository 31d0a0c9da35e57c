// Guarded market data in the node (DESIGN §7): pushes and sources go through the
// MarketDataPipeline (normalize → guards → aggregation → breaker → oracle pre-check); an
// accepted write becomes an operator-signed INVOKE of the oracle's update_market_data.
// The baseline of every guard is read from COMMITTED chain state at each update, never
// from a cache, and nothing is written before the node is `ready` (the pipeline's
// readiness guard). Rejections are persisted to the quarantine column, counted and logged.

import { pack } from "msgpackr";
import { ORACLE_ADDRESS } from "../contracts/exchange-genesis.js";
import { oracleFns, readOracleMarket, type OracleMarket } from "../contracts/oracle.js";
import { GENESIS_MARKETS } from "../contracts/perp/market-config.js";
import { encodeArgs } from "../contracts/runtime/index.js";
import { Column, key, u64 } from "../state/columns.js";
import type { StateReader } from "../state/state-diff.js";
import { decodeShortString, encodeShortString, toHex, type Felt } from "../state/felt.js";
import { boundedCopy } from "./bounded-copy.js";
import { InvalidParamsError } from "./errors.js";
import type { PerpchainNode } from "./node.js";
import {
  baselineFromOracle,
  MarketDataPipeline,
  type GuardConfig,
  type MarketDataSource,
  type MarketDataWrite,
  type Rejection,
} from "./marketdata/index.js";

export interface MarketDataServiceOptions {
  config?: GuardConfig;
  /** Bypass every guard (the rollback drill's unguarded run). The oracle still checks on-chain. */
  unsafeDisableGuards?: boolean;
  /** Where refusals and writes are counted (sequencer/metrics.ts); default: not counted. */
  metrics?: { rejected(market: string, reason: string): void; written(): void };
  /** Refused updates kept on disk, a ring (default QUARANTINE_SLOTS). */
  quarantineSlots?: number;
}

export type PushAnswer =
  | { accepted: true; transaction_hash?: string; pending?: string }
  | { accepted: false; reason: string; message: string };

/** Genesis market data, written in block 1 by the operator (the oracle re-checks it). */
export const GENESIS_MARKET_DATA: Record<string, { mark_e6: bigint; index_e6: bigint; rate_e12: bigint; funding_index_e6: bigint }> = {
  "BTC-USD-PERP": { mark_e6: 97_000_000_000n, index_e6: 97_000_000_000n, rate_e12: 10_000_000n, funding_index_e6: 1_523_774_000n },
  "ETH-USD-PERP": { mark_e6: 3_400_000_000n, index_e6: 3_400_000_000n, rate_e12: 10_000_000n, funding_index_e6: 87_250_000n },
  "PAXG-USD-PERP": { mark_e6: 2_650_000_000n, index_e6: 2_650_000_000n, rate_e12: 5_000_000n, funding_index_e6: 12_400_000n },
};

/** Refused market-data updates kept on disk (a ring; the oldest is overwritten). */
export const QUARANTINE_SLOTS = 10_000;

export class MarketDataService {
  /** Replaced only by restartPipeline() (the chain under it was replaced). */
  pipeline: MarketDataPipeline;
  private quarantineSeq = 0;
  private sources: MarketDataSource[] = [];
  private readonly metrics: NonNullable<MarketDataServiceOptions["metrics"]>;

  constructor(
    private readonly node: PerpchainNode,
    private readonly opts: MarketDataServiceOptions = {},
  ) {
    this.pipeline = this.newPipeline();
    this.metrics = opts.metrics ?? { rejected: () => {}, written: () => {} };
  }

  /**
   * devnet_restart / devnet_load replaced the chain: a pipeline with no memory of updates
   * accepted on the old chain (their baselines, sequences and breaker states), whose history
   * is what the new chain's oracle holds.
   */
  restartPipeline(): void {
    this.pipeline = this.newPipeline();
  }

  private newPipeline(): MarketDataPipeline {
    const node = this.node;
    const history = GENESIS_MARKETS.map((m) => decodeShortString(m.name)).filter((m) => this.onchain(m).timestamp_s !== 0n);
    return new MarketDataPipeline({
      config: this.opts.config,
      now_s: () => node.nowS(),
      lifecycle: () => node.lifecycle.state,
      epoch: () => node.epoch,
      readBaseline: (m) => baselineFromOracle(this.onchain(m)),
      marketsWithHistory: history,
      onRejection: (r) => this.quarantine(r),
      unsafeDisableGuards: this.opts.unsafeDisableGuards,
    });
  }

  /** The oracle's committed record of a market (never a cache). */
  onchain(market: string) {
    return committedOracleMarket(this.node.world, encodeShortString(market));
  }

  /** appchain_pushMarketData: malformed params throw (invalid params); refusals answer accepted:false. */
  async push(raw: unknown): Promise<PushAnswer> {
    const r = this.pipeline.submit(raw);
    if (!r.accepted) {
      // Malformed params are an invalid-params error (after being quarantined and counted).
      if (r.reason === "malformed" || r.reason === "invalid_value") throw new InvalidParamsError(r.field ?? "", r.message);
      return { accepted: false, reason: r.reason, message: r.message };
    }
    if (r.write === null) return { accepted: true, pending: r.pending ?? "not_newer" };
    const hash = await this.write(r.write);
    return { accepted: true, transaction_hash: toHex(hash) };
  }

  /** Submit an accepted write as the operator's oracle INVOKE. */
  async write(w: MarketDataWrite): Promise<Felt> {
    const calldata = encodeArgs(oracleFns.updateMarketData.inputs, {
      market: encodeShortString(w.market),
      mark_price: w.mark_price_e6,
      index_price: w.index_price_e6,
      funding_rate: w.funding_rate_e12,
      funding_index: w.funding_index_e6,
      timestamp: BigInt(w.timestamp),
      epoch: BigInt(w.epoch),
      sequence: BigInt(w.sequence),
    });
    const hash = await this.node.submitOperatorInvoke([{ to: ORACLE_ADDRESS, selector: oracleFns.updateMarketData.selector, calldata }]);
    this.metrics.written();
    this.pipeline.noteHistory(w.market);
    return hash;
  }

  /** Write genesis values for markets the oracle has never seen (block 1 of a new chain). */
  async bootstrapGenesisValues(): Promise<Felt[]> {
    const hashes: Felt[] = [];
    for (const [market, v] of Object.entries(GENESIS_MARKET_DATA)) {
      const cur = this.onchain(market);
      if (cur.timestamp_s !== 0n || cur.funding_period_s === 0n) continue;
      hashes.push(
        await this.write({
          market,
          mark_price_e6: v.mark_e6,
          index_price_e6: v.index_e6,
          funding_rate_e12: v.rate_e12,
          funding_index_e6: v.funding_index_e6,
          timestamp: this.node.nowS(),
          epoch: this.node.epoch,
          sequence: 1,
        }),
      );
    }
    return hashes;
  }

  startSource(source: MarketDataSource): void {
    this.sources.push(source);
    source.start(
      (raw) => {
        void this.push(raw).catch((e) => this.node.log("marketdata_push_failed", { source: source.name, error: String(e) }));
      },
      (e) => this.node.log("marketdata_source_error", { source: source.name, error: String(e) }),
    );
  }

  stopSources(): void {
    for (const s of this.sources) s.stop();
    this.sources = [];
  }

  status(): unknown {
    return { ...(this.pipeline.status() as object), epoch: this.node.epoch, oracle_address: toHex(ORACLE_ADDRESS) };
  }

  private quarantine(r: Rejection): void {
    // Label values are bounded: a client names any market it likes.
    this.metrics.rejected(this.pipeline.isConfiguredMarket(r.market) ? r.market : "unattributed", r.reason);
    this.node.log("marketdata_rejected", { market: r.market, reason: r.reason, message: r.message });
    const record = { ...r, epoch: this.node.epoch, seq: this.quarantineSeq, at: this.node.nowS() };
    // A ring of quarantineSlots records: a feed that pushes garbage all day costs a bounded
    // amount of disk (each record is a bounded copy). A restart starts again at slot 0; every
    // record names its epoch, sequence and time.
    const slot = this.quarantineSeq++ % (this.opts.quarantineSlots ?? QUARANTINE_SLOTS);
    void this.node.store
      .batch([{ type: "put", key: key(Column.quarantine, u64(slot)), value: pack(jsonSafe(record)) }])
      .catch((e) => this.node.log("quarantine_write_failed", { error: String(e) }));
  }

}

/** The oracle's record of `market` in committed state (read-only storage access). */
export function committedOracleMarket(state: StateReader, market: Felt): OracleMarket {
  return readOracleMarket(
    {
      readRaw: (slot: Felt) => state.getStorage(ORACLE_ADDRESS, slot),
      writeRaw: () => {
        throw new Error("read-only");
      },
    },
    market,
  );
}

/** The record as stored: JSON-safe and bounded (a client's push may be megabytes deep or wide). */
function jsonSafe(v: unknown): unknown {
  return boundedCopy(v);
}
