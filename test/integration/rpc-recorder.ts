// Records every JSON-RPC exchange a starknet.js RpcProvider makes (by wrapping its fetch),
// so the conformance test can check each result against the spec's method result schema.
// Works for single and batch requests; error responses are kept too (their codes/data are
// checked against the spec's error table).

import { SpecSchemas, type SchemaIssue } from "../support/schema-validator.js";

export interface RecordedCall {
  method: string;
  params: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export class RpcRecorder {
  readonly calls: RecordedCall[] = [];

  /** A fetch for RpcProvider's `baseFetch` that records request/response pairs. */
  readonly fetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const body = typeof init?.body === "string" ? init.body : undefined;
    if (body === undefined) return res;
    const text = await res.text();
    this.record(JSON.parse(body) as unknown, text);
    return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
  };

  private record(request: unknown, responseText: string): void {
    let response: unknown;
    try {
      response = JSON.parse(responseText);
    } catch {
      return; // not JSON: nothing to validate against a result schema (the test that sent it will fail)
    }
    const reqs = (Array.isArray(request) ? request : [request]) as Array<{ id: unknown; method: string; params: unknown }>;
    const resps = (Array.isArray(response) ? response : [response]) as Array<{ id: unknown; result?: unknown; error?: RecordedCall["error"] }>;
    for (const rq of reqs) {
      const rs = resps.find((r) => r.id === rq.id);
      if (rs === undefined) continue;
      this.calls.push({ method: rq.method, params: rq.params, ...("error" in rs ? { error: rs.error } : { result: rs.result }) });
    }
  }

  methods(): string[] {
    return [...new Set(this.calls.map((c) => c.method))].sort();
  }
}

/** Methods whose results the spec types with non-exclusive oneOfs (a confirmed block also matches PRE_CONFIRMED_*). */
const LENIENT = new Set([
  "starknet_getBlockWithTxHashes",
  "starknet_getBlockWithTxs",
  "starknet_getBlockWithReceipts",
  "starknet_getStateUpdate",
  "starknet_getTransactionReceipt",
  "starknet_getTransactionByHash",
  "starknet_getTransactionByBlockIdAndIndex",
  "starknet_traceTransaction",
  "starknet_simulateTransactions",
  "starknet_traceBlockTransactions",
]);

const CONFIRMED_COMPONENT: Record<string, string> = {
  starknet_getBlockWithTxHashes: "BLOCK_WITH_TX_HASHES",
  starknet_getBlockWithTxs: "BLOCK_WITH_TXS",
  starknet_getBlockWithReceipts: "BLOCK_WITH_RECEIPTS",
  starknet_getStateUpdate: "STATE_UPDATE",
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export interface ConformanceFailure {
  method: string;
  index: number;
  issues: SchemaIssue[];
}

/**
 * Each recorded starknet_* result checked against its method's result schema; each error
 * checked to be one the spec lists for that method (or a JSON-RPC standard code) with
 * spec-shaped data. devnet_* results have no schema and are skipped.
 */
export function conformanceFailures(calls: readonly RecordedCall[], spec = SpecSchemas.load()): ConformanceFailure[] {
  const known = new Set(spec.methodNames());
  const failures: ConformanceFailure[] = [];
  calls.forEach((c, index) => {
    if (!known.has(c.method)) return;
    if (c.error !== undefined) {
      const issues = errorIssues(spec, c.method, c.error);
      if (issues.length > 0) failures.push({ method: c.method, index, issues });
      return;
    }
    const issues = spec.validateResult(c.result, c.method, { oneOf: LENIENT.has(c.method) ? "lenient" : "strict" });
    // Lenient oneOf lets a broken confirmed block pass as a pre-confirmed one (which has no
    // block_hash and allows extra properties): a result that claims to be confirmed is also
    // checked against the confirmed component alone.
    const confirmed = CONFIRMED_COMPONENT[c.method];
    if (confirmed !== undefined && isObject(c.result) && "block_hash" in c.result)
      issues.push(...spec.validateComponent(c.result, confirmed, "starknet_api_openrpc.json", { oneOf: "lenient" }));
    if (issues.length > 0) failures.push({ method: c.method, index, issues });
  });
  return failures;
}

function errorIssues(spec: SpecSchemas, method: string, error: NonNullable<RecordedCall["error"]>): SchemaIssue[] {
  // JSON-RPC standard errors (-32700..-32600) may come from any method.
  if (error.code <= -32600 && error.code >= -32700) return [];
  const listed = specErrorsOf(spec, method);
  const match = listed.find((e) => e.code === error.code);
  if (match === undefined) return [{ path: "$.error.code", message: `code ${error.code} (${error.message}) is not an error the spec lists for ${method}: ${listed.map((e) => e.code).join(", ")}` }];
  if (match.message !== error.message) return [{ path: "$.error.message", message: `expected "${match.message}" for code ${error.code}, got "${error.message}"` }];
  return spec.validateErrorData(error.data, match.name);
}

function specErrorsOf(spec: SpecSchemas, method: string): Array<{ name: string; code: number; message: string }> {
  for (const file of spec.files()) {
    const doc = spec.document(file);
    const m = ((doc.methods ?? []) as Array<Record<string, unknown>>).find((x) => x.name === method);
    if (m === undefined) continue;
    return ((m.errors ?? []) as Array<{ $ref: string }>).map((e) => {
      const [target, frag] = e.$ref.split("#");
      const name = frag!.split("/").pop()!;
      const docName = target ? target.split("/").pop()! : file;
      const def = ((spec.document(docName).components as Record<string, unknown>).errors as Record<string, { code: number; message: string }>)[name]!;
      return { name, code: def.code, message: def.message };
    });
  }
  return [];
}

export function formatFailures(failures: readonly ConformanceFailure[]): string {
  return failures
    .map((f) => `${f.method} (call #${f.index}): ${f.issues.slice(0, 3).map((i) => `${i.path} ${i.message}`).join("; ")}`)
    .join("\n");
}
