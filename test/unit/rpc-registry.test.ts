import { describe, expect, it } from "vitest";
import { RpcError, toJsonRpcError } from "../../sequencer/errors.js";
import { HandlerRegistry, type RpcContext } from "../../sequencer/rpc/registry.js";

const http: RpcContext = { transport: "http", remoteAddress: "127.0.0.1", isLoopback: true };

async function wire(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RpcError) return toJsonRpcError(err);
    throw err;
  }
  throw new Error("expected a rejection");
}

describe("handler registry", () => {
  const r = new HandlerRegistry();
  r.register("starknet_getBlockWithTxs", (p) => p);
  r.register("appchain_rollback", (p, ctx) => ({ p, loopback: ctx.isLoopback }), { paramNames: ["to", "reason?"] });
  r.register("devnet_ping", () => "pong");

  it("maps positional params onto the spec's names, leaving absent optionals out", async () => {
    expect(await r.dispatch("starknet_getBlockWithTxs", ["latest"], http)).toEqual({ block_id: "latest" });
    expect(await r.dispatch("starknet_getBlockWithTxs", ["latest", ["INCLUDE_PROOF_FACTS"]], http)).toEqual({
      block_id: "latest",
      response_flags: ["INCLUDE_PROOF_FACTS"],
    });
    expect(await r.dispatch("starknet_getBlockWithTxs", ["latest", null], http)).toEqual({ block_id: "latest" });
  });

  it("uses the names given for non-spec methods and passes the context", async () => {
    expect(await r.dispatch("appchain_rollback", { to: 5 }, http)).toEqual({ p: { to: 5 }, loopback: true });
    expect(await r.dispatch("appchain_rollback", [5, "bad oracle"], http)).toEqual({ p: { to: 5, reason: "bad oracle" }, loopback: true });
    expect(await r.dispatch("devnet_ping", undefined, http)).toBe("pong");
    expect(await r.dispatch("devnet_ping", null, http)).toBe("pong");
  });

  it("refuses missing, unknown and surplus params with -32602", async () => {
    expect(await wire(r.dispatch("appchain_rollback", {}, http))).toEqual({ code: -32602, message: "Invalid params", data: "to: missing required param" });
    expect(await wire(r.dispatch("appchain_rollback", { to: 1, force: true }, http))).toEqual({
      code: -32602,
      message: "Invalid params",
      data: "force: unknown param (expected: to, reason)",
    });
    expect(await wire(r.dispatch("appchain_rollback", [1, "x", 3], http))).toEqual({
      code: -32602,
      message: "Invalid params",
      data: "expected at most 2 positional params, got 3",
    });
  });

  it("refuses registering a method twice or a server notification", () => {
    expect(() => r.register("devnet_ping", () => 1)).toThrow("RPC method registered twice: devnet_ping");
    expect(() => r.register("starknet_subscriptionNewHeads", () => 1)).toThrow(
      "starknet_subscriptionNewHeads is a server notification, not a callable method",
    );
  });

  it("lists what is registered and which methods answer 63 for unknown exceptions", () => {
    expect(r.list()).toEqual(["appchain_rollback", "devnet_ping", "starknet_getBlockWithTxs"]);
    expect(r.unexpectedErrorIsSpecified("starknet_addDeployAccountTransaction")).toBe(true);
    expect(r.unexpectedErrorIsSpecified("starknet_getBlockWithTxs")).toBe(false);
  });
});
