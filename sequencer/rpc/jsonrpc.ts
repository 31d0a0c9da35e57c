// JSON-RPC 2.0 envelopes: parse a payload (single or batch), validate each request object,
// dispatch to the registry, and build response objects. Shared by the HTTP and WS transports.
// Notifications (no `id`) are executed and produce no response. Errors become response objects
// only through toJsonRpcError.

import {
  InvalidRequestError,
  ParseError,
  toJsonRpcError,
  type ErrorLogger,
  type JsonRpcErrorObject,
} from "../errors.js";
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from "./json-depth.js";
import type { HandlerRegistry, RpcContext } from "./registry.js";

export type JsonRpcId = string | number | null;

export type JsonRpcResponse =
  | { jsonrpc: "2.0"; id: JsonRpcId; result: unknown }
  | { jsonrpc: "2.0"; id: JsonRpcId; error: JsonRpcErrorObject };

export interface JsonRpcOptions {
  /** Most requests in one batch (JSON-RPC -32600 above). */
  maxBatchSize: number;
  logger?: ErrorLogger;
  /** Called once per dispatched call (method name as given, error code or undefined). */
  onCall?: (method: string, errorCode: number | undefined, duration_ms: number) => void;
  /** Monotonic clock for durations; injected so tests are deterministic. */
  now_ms?: () => number;
}

/**
 * Handle one payload (an HTTP body or a WS text message).
 * Returns the response (object or array), or undefined when nothing must be sent
 * (a notification, or a batch made only of notifications).
 */
export async function handlePayload(
  text: string,
  registry: HandlerRegistry,
  ctx: RpcContext,
  options: JsonRpcOptions,
): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
  let payload: unknown;
  if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH))
    return errorResponse(null, new InvalidRequestError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`), options);
  try {
    payload = JSON.parse(text);
  } catch (err) {
    return errorResponse(null, new ParseError(`invalid JSON: ${(err as Error).message}`), options);
  }
  if (Array.isArray(payload)) {
    if (payload.length === 0) return errorResponse(null, new InvalidRequestError("empty batch"), options);
    if (payload.length > options.maxBatchSize)
      return errorResponse(
        null,
        new InvalidRequestError(`batch of ${payload.length} requests exceeds the limit of ${options.maxBatchSize}`),
        options,
      );
    const responses = await Promise.all(payload.map((req) => handleRequest(req, registry, ctx, options)));
    const sent = responses.filter((r): r is JsonRpcResponse => r !== undefined);
    return sent.length ? sent : undefined;
  }
  return handleRequest(payload, registry, ctx, options);
}

/** One request object: validate the envelope, dispatch, wrap the outcome. */
async function handleRequest(
  req: unknown,
  registry: HandlerRegistry,
  ctx: RpcContext,
  options: JsonRpcOptions,
): Promise<JsonRpcResponse | undefined> {
  if (typeof req !== "object" || req === null || Array.isArray(req))
    return errorResponse(null, new InvalidRequestError("a request must be a JSON object"), options);
  const r = req as Record<string, unknown>;
  const hasId = "id" in r;
  const idValid = !hasId || isValidId(r.id);
  const id: JsonRpcId = hasId && idValid ? (r.id as JsonRpcId) : null;
  if (!idValid) return errorResponse(null, new InvalidRequestError("id must be a string, a number or null"), options);
  if (r.jsonrpc !== "2.0") return errorResponse(id, new InvalidRequestError(`jsonrpc must be "2.0"`), options);
  if (typeof r.method !== "string" || r.method.length === 0)
    return errorResponse(id, new InvalidRequestError("method must be a non-empty string"), options);
  if (r.params !== undefined && r.params !== null && typeof r.params !== "object")
    return errorResponse(id, new InvalidRequestError("params must be an array or an object"), options);

  const method = r.method;
  const started = options.now_ms?.() ?? 0;
  let result: unknown;
  let error: JsonRpcErrorObject | undefined;
  try {
    result = await registry.dispatch(method, r.params, ctx);
  } catch (err) {
    error = toJsonRpcError(err, {
      method,
      unexpectedErrorIsSpecified: registry.unexpectedErrorIsSpecified(method),
      logger: options.logger,
    });
  }
  options.onCall?.(method, error?.code, (options.now_ms?.() ?? 0) - started);
  if (!hasId) return undefined; // notification: executed, never answered
  if (error) return { jsonrpc: "2.0", id, error };
  return { jsonrpc: "2.0", id, result: result === undefined ? null : result };
}

function isValidId(id: unknown): boolean {
  return id === null || typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
}

function errorResponse(id: JsonRpcId, err: unknown, options: JsonRpcOptions): JsonRpcResponse {
  return { jsonrpc: "2.0", id, error: toJsonRpcError(err, { logger: options.logger }) };
}

/** A standalone error response (e.g. body too large, before any JSON is read). */
export function standaloneError(err: unknown, logger?: ErrorLogger): JsonRpcResponse {
  return { jsonrpc: "2.0", id: null, error: toJsonRpcError(err, { logger }) };
}

/**
 * JSON text of a response (or batch). Bigints are written as spec FELT hex (0x, lowercase, no
 * leading zeros). A result that cannot be serialized (negative bigint, cycle) turns that one
 * response into an internal error instead of failing the whole payload.
 */
export function serializeResponse(response: JsonRpcResponse | JsonRpcResponse[], logger?: ErrorLogger): string {
  if (Array.isArray(response)) return "[" + response.map((r) => serializeOne(r, logger)).join(",") + "]";
  return serializeOne(response, logger);
}

function serializeOne(response: JsonRpcResponse, logger?: ErrorLogger): string {
  try {
    return serialize(response);
  } catch (err) {
    return serialize({ jsonrpc: "2.0", id: response.id, error: toJsonRpcError(err, { logger }) });
  }
}

/** JSON.stringify with bigints as 0x-hex felts; negative bigints are a programming error. */
export function serialize(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v !== "bigint") return v;
    if (v < 0n) throw new RangeError(`cannot serialize negative bigint ${v} as a felt`);
    return "0x" + v.toString(16);
  });
}
