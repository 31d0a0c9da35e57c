// The handler registry: which JSON-RPC methods the node answers and how their params are named.
// The node registers one handler per method; the transport (HTTP or WS) normalizes params from
// by-position or by-name to one object keyed by the spec's param names, then calls the handler.
// Handlers return a JSON-ready value (bigints are written as 0x-hex felts) or throw typed errors
// from ../errors.ts. This module never builds JSON-RPC error objects itself.

import { InvalidParamsError, MethodNotFoundError } from "../errors.js";
import { SPEC_METHODS, SPEC_VERSION } from "./spec-methods.js";

export type Transport = "http" | "ws";

/** What a handler knows about the caller. */
export interface RpcContext {
  readonly transport: Transport;
  /** Peer IP address as seen by the socket. */
  readonly remoteAddress: string;
  /** True for 127.0.0.0/8, ::1 and ::ffff:127.x (operator methods may require it). */
  readonly isLoopback: boolean;
  /** Value of the HTTP `Authorization` header (of the WS upgrade request for WS), if any. */
  readonly authorization?: string;
  /** WS only: the connection the request came on (subscriptions attach to it). */
  readonly connectionId?: number;
  /** WS only: run `fn` once the response to this request has been queued to the client. */
  readonly afterResponse?: (fn: () => void) => void;
}

export type RpcParams = Record<string, unknown>;
export type RpcHandler = (params: RpcParams, ctx: RpcContext) => unknown | Promise<unknown>;

export interface RegisterOptions {
  /**
   * Param names in positional order; a trailing "?" marks an optional one. Defaults to the spec's
   * names for spec methods; required for other methods that take params (default: none).
   */
  paramNames?: readonly string[];
  /** Transports the method is served on. Default: both; the spec's WS-only methods: ["ws"]. */
  transports?: readonly Transport[];
  /**
   * For a method whose single param is an object: by-name params that are not that param's
   * name are taken as the object itself (`params: {...}` = `params: [{...}]`).
   */
  objectParam?: string;
}

interface ParamName {
  name: string;
  required: boolean;
}

interface Registered {
  handler: RpcHandler;
  params: ParamName[];
  objectParam: string | undefined;
  transports: readonly Transport[];
  /** The spec lists 63 UNEXPECTED_ERROR for this method. */
  unexpectedError: boolean;
}

/**
 * Cluster mode: answers a call in place of the local handler (a follower forwarding a write
 * to the leader; `local` runs the local handler, e.g. on the leader), or returns null to let
 * the local handler answer.
 */
export type RpcForwarder = (method: string, rawParams: unknown, ctx: RpcContext, local: () => Promise<unknown>) => Promise<unknown> | null;

export class HandlerRegistry {
  private readonly methods = new Map<string, Registered>();
  private forwarder: RpcForwarder | null = null;

  /** Install (or remove) the cluster forwarder; it sees every call before its handler. */
  setForwarder(f: RpcForwarder | null): void {
    this.forwarder = f;
  }

  /** Register `handler` for `method`; registering a method twice is a programming error. */
  register(method: string, handler: RpcHandler, options: RegisterOptions = {}): void {
    if (this.methods.has(method)) throw new Error(`RPC method registered twice: ${method}`);
    const spec = SPEC_METHODS[method];
    if (spec?.kind === "notification") throw new Error(`${method} is a server notification, not a callable method`);
    const names = options.paramNames ?? spec?.params ?? [];
    this.methods.set(method, {
      handler,
      params: names.map(parseParamName),
      objectParam: options.objectParam,
      transports: options.transports ?? (spec?.kind === "ws" ? ["ws"] : ["http", "ws"]),
      unexpectedError: spec?.unexpectedError ?? false,
    });
  }

  has(method: string): boolean {
    return this.methods.has(method);
  }

  /** Registered method names, sorted. */
  list(): string[] {
    return [...this.methods.keys()].sort();
  }

  /** Param names of `method` in positional order ("?" marks an optional one), and its transports. */
  describe(method: string): { params: string[]; transports: readonly Transport[] } | undefined {
    const e = this.methods.get(method);
    return e && { params: e.params.map((p) => (p.required ? p.name : `${p.name}?`)), transports: e.transports };
  }

  /** True when unknown exceptions of `method` should answer 63 UNEXPECTED_ERROR (write API). */
  unexpectedErrorIsSpecified(method: string): boolean {
    return this.methods.get(method)?.unexpectedError ?? SPEC_METHODS[method]?.unexpectedError ?? false;
  }

  /** Look up, normalize params and call. Throws RpcError subclasses (and whatever the handler throws). */
  async dispatch(method: string, rawParams: unknown, ctx: RpcContext): Promise<unknown> {
    const entry = this.methods.get(method);
    if (!entry || !entry.transports.includes(ctx.transport)) throw methodNotFound(method, ctx.transport, entry);
    const forwarded = this.forwarder?.(method, rawParams, ctx, async () => this.callLocal(entry, rawParams, ctx)) ?? null;
    if (forwarded !== null) return forwarded;
    return this.callLocal(entry, rawParams, ctx);
  }

  private callLocal(entry: Registered, rawParams: unknown, ctx: RpcContext): unknown {
    const asObject =
      entry.objectParam !== undefined && typeof rawParams === "object" && rawParams !== null && !Array.isArray(rawParams) && !(entry.objectParam in rawParams);
    const params = asObject ? { [entry.objectParam!]: rawParams } : normalizeParams(rawParams, entry.params);
    return entry.handler(params, ctx);
  }
}

function methodNotFound(method: string, transport: Transport, entry: Registered | undefined): MethodNotFoundError {
  if (entry) {
    const over = entry.transports.map((t) => (t === "ws" ? "WebSocket (/ws)" : "HTTP")).join(" and ");
    return new MethodNotFoundError(method, `method '${method}' is only available over ${over}`);
  }
  const spec = SPEC_METHODS[method];
  if (spec?.kind === "notification")
    return new MethodNotFoundError(method, `'${method}' is a notification the server sends, not a method`);
  if (spec?.kind === "ws" && transport === "http")
    return new MethodNotFoundError(method, `method '${method}' is only available over WebSocket (/ws)`);
  if (spec)
    return new MethodNotFoundError(
      method,
      `method '${method}' is part of Starknet JSON-RPC ${SPEC_VERSION} but not implemented by this node`,
    );
  return new MethodNotFoundError(method);
}

function parseParamName(s: string): ParamName {
  return s.endsWith("?") ? { name: s.slice(0, -1), required: false } : { name: s, required: true };
}

/**
 * By-position (array) or by-name (object) params → object keyed by param name.
 * Absent or null params mean "no params". Optional params given as null count as absent.
 */
export function normalizeParams(raw: unknown, names: readonly ParamName[]): RpcParams {
  const out: RpcParams = {};
  if (raw === undefined || raw === null) {
    // fall through to the required check
  } else if (Array.isArray(raw)) {
    if (raw.length > names.length)
      throw new InvalidParamsError("", `expected at most ${names.length} positional params, got ${raw.length}`);
    raw.forEach((v, i) => {
      if (v !== null || names[i]!.required) out[names[i]!.name] = v;
    });
  } else if (typeof raw === "object") {
    const known = new Set(names.map((n) => n.name));
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      if (!known.has(k)) {
        const expected = names.length ? names.map((n) => n.name).join(", ") : "none";
        throw new InvalidParamsError(k, `unknown param (expected: ${expected})`);
      }
      if (v !== null || names.find((n) => n.name === k)!.required) out[k] = v;
    }
  } else {
    throw new InvalidParamsError("", "params must be an array or an object");
  }
  for (const n of names) if (n.required && !(n.name in out)) throw new InvalidParamsError(n.name, "missing required param");
  return out;
}
