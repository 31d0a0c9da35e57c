// Structured logs (sequencer/log.ts): one JSON line per event, levels per event, CLI level rules.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createNodeLogging, logLevelOf } from "../../sequencer/log.js";

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split("\n")) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, stream };
}

describe("createNodeLogging", () => {
  it("writes one JSON line per event at the event's level and drops those below the threshold", async () => {
    const { lines, stream } = capture();
    const l = createNodeLogging("info", stream);
    l.nodeLog("tx_dropped", { hash: "0x1" }); // debug: below info
    l.nodeLog("node_ready", { epoch: 3 });
    l.nodeLog("store_write_failed", { block: 7, error: "disk full" });
    l.errorLogger.error("ws.socket_error", { connection: 2 });
    l.errorLogger.error("rpc.unexpected_exception", { incident: 1 });
    await new Promise((r) => setImmediate(r));
    expect(lines.map((x) => [x.level, x.event])).toEqual([
      [30, "node_ready"],
      [50, "store_write_failed"],
      [40, "ws.socket_error"],
      [50, "rpc.unexpected_exception"],
    ]);
    expect(lines[1]).toMatchObject({ block: 7, error: "disk full" });
    expect(typeof lines[0]!.time).toBe("string");
  });

  it("takes --log-level over --verbose, and is quiet (warn) by default", () => {
    expect(logLevelOf({})).toBe("warn");
    expect(logLevelOf({ verbose: true })).toBe("debug");
    expect(logLevelOf({ verbose: true, logLevel: "error" })).toBe("error");
  });
});
