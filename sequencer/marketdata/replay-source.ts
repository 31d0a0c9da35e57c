// JSONL file replay: one push object per line, delivered in file order. Lines that are
// not JSON go to onError with their line number (they never reach the pipeline as data).
// Blank lines are skipped. Reading is the only I/O; pacing is optional (interval_ms with
// an injected scheduler), by default every line is delivered as fast as it is read.

import { readFile } from "node:fs/promises";
import { intervalScheduler, type MarketDataSource, type OnMarketData, type OnSourceError, type Scheduler } from "./source.js";

/** Upper bound on lines per file, so a runaway file cannot pin the node. */
export const MAX_REPLAY_LINES = 1_000_000;

export type JsonlLine = { line: number; value: unknown } | { line: number; error: string; text: string };

/** Split JSONL text into parsed values (pure). */
export function parseJsonl(text: string): JsonlLine[] {
  const rows = text.split(/\r?\n/);
  if (rows.length > MAX_REPLAY_LINES + 1) throw new RangeError(`more than ${MAX_REPLAY_LINES} lines`);
  const out: JsonlLine[] = [];
  rows.forEach((row, i) => {
    if (row.trim() === "") return;
    try {
      out.push({ line: i + 1, value: JSON.parse(row) });
    } catch (e) {
      out.push({ line: i + 1, error: e instanceof Error ? e.message : String(e), text: row.slice(0, 200) });
    }
  });
  return out;
}

export class ReplaySource implements MarketDataSource {
  readonly name: string;
  private running = false;
  private cancelTimer: (() => void) | undefined;
  private settle: (() => void) | undefined;
  /** Settles when every line was delivered, or after stop(). Rejects if the file cannot be read. */
  done: Promise<void> = Promise.resolve();

  constructor(private readonly opts: { path: string; name?: string; interval_ms?: number; schedule?: Scheduler }) {
    this.name = opts.name ?? `replay:${opts.path}`;
  }

  start(onUpdate: OnMarketData, onError?: OnSourceError): void {
    if (this.running) throw new Error(`${this.name} already started`);
    this.running = true;
    this.done = readFile(this.opts.path, "utf8").then((text) => this.deliver(parseJsonl(text), onUpdate, onError));
  }

  stop(): void {
    this.running = false;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const settle = this.settle;
    this.settle = undefined;
    settle?.();
  }

  private deliver(lines: JsonlLine[], onUpdate: OnMarketData, onError?: OnSourceError): Promise<void> {
    const emit = (l: JsonlLine) => {
      if ("error" in l) onError?.({ source: this.name, line: l.line, message: `not JSON: ${l.error}`, text: l.text });
      else onUpdate(l.value);
    };
    const interval_ms = this.opts.interval_ms;
    if (interval_ms === undefined) {
      for (const l of lines) {
        if (!this.running) break;
        emit(l);
      }
      this.running = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      let i = 0;
      this.settle = resolve;
      if (!this.running || lines.length === 0) return this.stop();
      this.cancelTimer = (this.opts.schedule ?? intervalScheduler)(() => {
        if (!this.running || i >= lines.length) return this.stop();
        emit(lines[i++]!);
        if (i >= lines.length) this.stop();
      }, interval_ms);
    });
  }
}
