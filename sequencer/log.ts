// Structured logs through pino: one JSON line per event on stderr ({level, time, event, ...}).
// The node and the RPC server take plain callbacks (NodeOptions.log, ErrorLogger); this module
// builds them, so nothing else imports pino. Quiet by default (warnings and errors); --verbose
// is debug; --log-level picks any pino level.
// Must never write to stdout (the devnet prints its banner there) and never throw from a log call.

import { pino, type Logger } from "pino";
import type { ErrorLogger } from "./errors.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === "string" && (LOG_LEVELS as readonly string[]).includes(v);
}

/** Level of each node event (NodeOptions.log); events not listed are "debug". */
const NODE_EVENT_LEVELS: Record<string, Exclude<LogLevel, "silent">> = {
  store_write_failed: "error",
  block_failed: "error",
  block_not_leader: "info",
  cluster_tx_withdrawn: "info",
  listener_failed: "error",
  quarantine_write_failed: "error",
  node_ready: "info",
  warmup_done: "info",
  recovery_verified: "info",
  mempool_recovered: "info",
  node_paused: "info",
  node_resumed: "info",
  marketdata_rejected: "info",
};

/** Level of each RPC server event (ErrorLogger.error); a client's protocol mistakes are warnings. */
const SERVER_EVENT_LEVELS: Record<string, Exclude<LogLevel, "silent">> = {
  "ws.socket_error": "warn",
};

export interface NodeLogging {
  logger: Logger;
  /** For NodeOptions.log / DevnetOptions.log. */
  nodeLog: (event: string, fields?: Record<string, unknown>) => void;
  /** For the RPC server and toJsonRpcError. */
  errorLogger: ErrorLogger;
}

/** Loggers writing JSON lines to `destination` (default stderr, synchronously). */
export function createNodeLogging(level: LogLevel, destination: NodeJS.WritableStream | pino.DestinationStream = pino.destination({ dest: 2, sync: true })): NodeLogging {
  const logger = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  const emit = (lvl: Exclude<LogLevel, "silent">, event: string, fields?: Record<string, unknown>) => {
    try {
      logger[lvl]({ event, ...fields });
    } catch {
      // A log line that cannot be written must not take a request or a block down with it.
    }
  };
  return {
    logger,
    nodeLog: (event, fields) => emit(NODE_EVENT_LEVELS[event] ?? "debug", event, fields),
    errorLogger: { error: (event, fields) => emit(SERVER_EVENT_LEVELS[event] ?? "error", event, fields) },
  };
}

/** The level from the CLI flags: --log-level wins, else --verbose is debug, else warn. */
export function logLevelOf(o: { logLevel?: LogLevel; verbose?: boolean }): LogLevel {
  return o.logLevel ?? (o.verbose ? "debug" : "warn");
}
