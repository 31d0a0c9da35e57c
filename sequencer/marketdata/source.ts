// The one interface every market-data source implements (simulator, JSONL replay, and
// the node's HTTP/RPC push, which calls the pipeline directly). A source only delivers
// raw push objects; it never validates or writes — that is the pipeline's job.

/** Receives each push as it arrives (an object shaped like MarketDataPush, unvalidated). */
export type OnMarketData = (push: unknown) => void;
/** Receives what a source could not even decode (e.g. a replay line that is not JSON). */
export type OnSourceError = (error: SourceError) => void;

export interface SourceError {
  source: string;
  /** 1-based line number for file replays. */
  line?: number;
  message: string;
  /** The undecodable text (truncated). */
  text?: string;
}

export interface MarketDataSource {
  readonly name: string;
  /** Begin delivering; calling start twice without stop is a bug and throws. */
  start(onUpdate: OnMarketData, onError?: OnSourceError): void;
  /** Stop delivering; idempotent. No callback runs after stop() returns. */
  stop(): void;
}

/** Repeating timer, injected so tests and drills control time (default: setInterval). */
export type Scheduler = (fn: () => void, interval_ms: number) => () => void;

export const intervalScheduler: Scheduler = (fn, interval_ms) => {
  const t = setInterval(fn, interval_ms);
  return () => clearInterval(t);
};
