// The node's network face: one node:http server carrying
//   POST /, /rpc, /rpc/v0_10       JSON-RPC 2.0 (single, batch, notifications)
//   GET  /ws (upgrade)             JSON-RPC over WebSocket + subscriptions
//   GET  /health, /ready, /metrics liveness, readiness, Prometheus text
//   GET  /is_alive                 starknet-devnet's liveness probe: plain text "Alive!!!"
//   OPTIONS *                      CORS preflight
// It owns transport concerns only (limits, CORS, framing, connection lifecycle); methods come
// from the HandlerRegistry, errors are turned into JSON-RPC only by toJsonRpcError.
// Never binds anything but the host it is given (default 127.0.0.1); stop() closes everything.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { WebSocketServer, type WebSocket, type RawData } from "ws";
import { InvalidRequestError, stderrErrorLogger, type ErrorLogger } from "../errors.js";
import { handlePayload, serializeResponse, standaloneError } from "./jsonrpc.js";
import type { HandlerRegistry, RpcContext } from "./registry.js";
import { NodeMetrics, type RpcServerCounts } from "../metrics.js";
import { SubscriptionManager } from "./subscriptions.js";
import { DEFAULT_WS_CONNECTION_LIMITS, WsConnection, type WsConnectionLimits } from "./ws-connection.js";

export interface Readiness {
  ready: boolean;
  /** Lifecycle state name (starting, recovering, catching-up, ready, draining). */
  state: string;
  /** The JIT warm-up beside a ready node (warmup.ts): "running", or how it ended. */
  warmup?: string;
}

export interface RpcServerOptions {
  registry: HandlerRegistry;
  /** Created (and its methods registered on `registry`) when omitted. */
  subscriptions?: SubscriptionManager;
  /** Largest HTTP body / WS message accepted. Default 10 MiB. */
  maxBodyBytes?: number;
  /** Most requests in one batch. Default 1000. */
  maxBatchSize?: number;
  /** Most simultaneous WebSocket clients. Default 1000. */
  maxWsConnections?: number;
  wsLimits?: Partial<WsConnectionLimits>;
  /** Value of Access-Control-Allow-Origin. Default "*". */
  corsOrigin?: string;
  /**
   * The node's metrics registry: the server adds its rpc_/ws_ metrics and the RPC latency
   * histogram to it and serves it on GET /metrics. Default: a registry of its own.
   */
  nodeMetrics?: NodeMetrics;
  /** Extra Prometheus text served before the registry's (components outside the registry). */
  metrics?: () => string | Promise<string>;
  /** Readiness for GET /ready. Default: always ready. */
  readiness?: () => Readiness;
  logger?: ErrorLogger;
  /** Monotonic clock for request durations. Default performance.now. */
  now_ms?: () => number;
}

export interface ListenOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_BATCH_SIZE = 1000;
export const DEFAULT_MAX_WS_CONNECTIONS = 1000;
export const RPC_PATHS: ReadonlySet<string> = new Set(["/", "/rpc", "/rpc/v0_10", "/rpc/v0_10_3"]);
export const WS_PATH = "/ws";

export class RpcServer {
  readonly subscriptions: SubscriptionManager;
  private readonly registry: HandlerRegistry;
  private readonly maxBodyBytes: number;
  private readonly maxBatchSize: number;
  private readonly maxWsConnections: number;
  private readonly wsLimits: WsConnectionLimits;
  private readonly corsOrigin: string;
  private readonly logger: ErrorLogger;
  private readonly now_ms: () => number;
  private http?: http.Server;
  private wss?: WebSocketServer;
  private readonly sockets = new Map<number, { ws: WebSocket; conn: WsConnection }>();
  private nextConnId = 1;
  private readonly requestsByMethod = new Map<string, number>();
  private readonly errorsByCode = new Map<number, number>();
  private readonly httpRejected = new Map<string, number>();
  private wsOverflowDisconnects = 0;
  private readonly nodeMetrics: NodeMetrics;
  private readonly callListeners = new Set<(method: string) => void>();

  constructor(private readonly options: RpcServerOptions) {
    this.registry = options.registry;
    this.subscriptions = options.subscriptions ?? new SubscriptionManager();
    if (!options.subscriptions && !this.registry.has("starknet_unsubscribe")) this.subscriptions.registerMethods(this.registry);
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    this.maxWsConnections = options.maxWsConnections ?? DEFAULT_MAX_WS_CONNECTIONS;
    this.wsLimits = { ...DEFAULT_WS_CONNECTION_LIMITS, ...options.wsLimits };
    this.corsOrigin = options.corsOrigin ?? "*";
    this.logger = options.logger ?? stderrErrorLogger;
    this.now_ms = options.now_ms ?? (() => performance.now());
    this.nodeMetrics = options.nodeMetrics ?? new NodeMetrics({ processMetrics: false });
    this.nodeMetrics.bindRpcServer(() => this.stats());
  }

  /** Listen; resolves with the bound port. */
  async start({ host = "127.0.0.1", port = 5050 }: ListenOptions = {}): Promise<number> {
    if (this.http) throw new Error("RpcServer already started");
    const server = http.createServer((req, res) => void this.onHttp(req, res));
    // Node's default keep-alive timeout (5 s) races with clients: after an event-loop stall that
    // long, the timers phase closes an idle kept-alive socket before the poll phase reads the
    // request a client already sent on it, and the client sees ECONNRESET (the fuzz test saw it
    // with the CPU shared). 65 s, above the usual load-balancer idle timeout of 60 s; headers
    // may take no longer than that (Node wants headersTimeout above keepAliveTimeout).
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    const wss = new WebSocketServer({ noServer: true, maxPayload: this.maxBodyBytes });
    server.on("upgrade", (req, socket, head) => {
      if (pathOf(req.url) !== WS_PATH) {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
        return;
      }
      if (this.sockets.size >= this.maxWsConnections) {
        this.count(this.httpRejected, "ws_connection_limit");
        socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n");
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => this.onWsConnection(ws, req));
    });
    this.http = server;
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  /** Close WS clients (1001), stop listening, drop keep-alive connections. */
  async stop(): Promise<void> {
    const server = this.http;
    const wss = this.wss;
    if (!server || !wss) return;
    this.http = undefined;
    this.wss = undefined;
    const closing = [...this.sockets.values()].map(
      ({ ws, conn }) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === ws.CLOSED) return resolve();
          const timer = setTimeout(() => {
            ws.terminate();
            resolve();
          }, 500);
          ws.once("close", () => {
            clearTimeout(timer);
            resolve();
          });
          conn.close(1001, "server shutting down");
        }),
    );
    await Promise.all(closing);
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Call `fn` with the method of every JSON-RPC call answered (HTTP and WS); returns its removal. */
  onCall(fn: (method: string) => void): () => void {
    this.callListeners.add(fn);
    return () => this.callListeners.delete(fn);
  }

  /** The server's counters, live (read-only views: /metrics reads them at every scrape). */
  stats(): RpcServerCounts {
    const subs = this.subscriptions.stats();
    return {
      requestsByMethod: this.requestsByMethod,
      errorsByCode: this.errorsByCode,
      httpRejected: this.httpRejected,
      wsConnections: this.sockets.size,
      wsOverflowDisconnects: this.wsOverflowDisconnects,
      subscriptions: subs.active,
      notificationsSent: subs.notificationsSent,
    };
  }

  // --- HTTP --------------------------------------------------------------------------------

  private async onHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      this.setCors(req, res);
      const path = pathOf(req.url);
      if (req.method === "OPTIONS") return void res.writeHead(204).end();
      if (RPC_PATHS.has(path)) {
        if (req.method === "POST") return await this.onRpcPost(req, res);
        if (path !== "/" || req.method !== "GET")
          return sendJson(res, 405, { error: "use POST for JSON-RPC" }, { Allow: "POST, OPTIONS" });
        return sendJson(res, 200, { name: "perpchain", rpc: "POST /rpc", ws: WS_PATH });
      }
      if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: "method not allowed" }, { Allow: "GET" });
      if (path === "/health") return sendJson(res, 200, { status: "ok" });
      if (path === "/is_alive") {
        res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": 8 });
        return void res.end("Alive!!!");
      }
      if (path === "/ready") {
        const r = this.options.readiness?.() ?? { ready: true, state: "ready" };
        return sendJson(res, r.ready ? 200 : 503, { ready: r.ready, state: r.state, ...(r.warmup !== undefined && { warmup: r.warmup }) });
      }
      if (path === "/metrics") {
        const extra = (await this.options.metrics?.()) ?? "";
        res.writeHead(200, { "Content-Type": this.nodeMetrics.contentType });
        return void res.end(joinMetrics(extra, await this.nodeMetrics.text()));
      }
      return sendJson(res, 404, { error: `no route ${path}` });
    } catch (err) {
      this.logger.error("http.handler_failed", { error: err instanceof Error ? err.stack : String(err) });
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
    }
  }

  private async onRpcPost(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await this.readBody(req, res);
    if (body === undefined) return;
    const ctx: RpcContext = {
      transport: "http",
      remoteAddress: req.socket.remoteAddress ?? "",
      isLoopback: isLoopback(req.socket.remoteAddress),
      ...(req.headers.authorization !== undefined && { authorization: req.headers.authorization }),
    };
    const response = await handlePayload(body, this.registry, ctx, this.jsonRpcOptions());
    if (response === undefined) return void res.writeHead(204).end();
    // Encoded once: measuring the text's UTF-8 length and then writing it would flatten and
    // walk a large response (a block's receipts) twice.
    const bytes = Buffer.from(serializeResponse(response, this.logger), "utf8");
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": bytes.length });
    res.end(bytes);
  }

  /** The body as UTF-8, or undefined after answering 413 when it exceeds maxBodyBytes. */
  private readBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<string | undefined> {
    const limit = this.maxBodyBytes;
    const tooLarge = () => {
      this.count(this.httpRejected, "body_too_large");
      const text = serializeResponse(
        standaloneError(new InvalidRequestError(`request body exceeds the limit of ${limit} bytes`), this.logger),
      );
      res.writeHead(413, { "Content-Type": "application/json", Connection: "close" });
      res.end(text);
    };
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      tooLarge();
      req.resume();
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on("data", (chunk: Buffer) => {
        if (over) return;
        size += chunk.length;
        if (size > limit) {
          over = true;
          chunks.length = 0;
          tooLarge();
          resolve(undefined);
          return;
        }
        chunks.push(chunk);
      });
      req.on("end", () => {
        if (!over) resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString("utf8"));
      });
      // A client that hangs up mid-body is not a server error: nothing to answer, nothing to log.
      const aborted = () => {
        if (over) return;
        over = true;
        chunks.length = 0;
        this.count(this.httpRejected, "client_aborted");
        resolve(undefined);
      };
      req.on("error", aborted);
      req.on("close", () => {
        if (!req.complete) aborted();
      });
    });
  }

  /**
   * CORS: every response names the allowed origin; the preflight (OPTIONS) also the methods,
   * headers and how long to cache them, which browsers read only there (a JSON-RPC call is
   * a hot path: three headers fewer on each).
   */
  private setCors(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.setHeader("Access-Control-Allow-Origin", this.corsOrigin);
    if (this.corsOrigin !== "*") res.setHeader("Vary", "Origin");
    if (req.method !== "OPTIONS") return;
    res.setHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    res.setHeader("Access-Control-Allow-Headers", req.headers["access-control-request-headers"] ?? "Content-Type, Authorization");
    res.setHeader("Access-Control-Max-Age", "86400");
  }

  // --- WebSocket ---------------------------------------------------------------------------

  private onWsConnection(ws: WebSocket, req: http.IncomingMessage): void {
    const conn = new WsConnection(this.nextConnId++, ws, this.wsLimits, () => {
      this.wsOverflowDisconnects++;
    });
    this.sockets.set(conn.id, { ws, conn });
    this.subscriptions.attach(conn);
    const remoteAddress = req.socket.remoteAddress ?? "";
    const authorization = req.headers.authorization;
    ws.on("message", (data: RawData, isBinary: boolean) => {
      const text = isBinary ? undefined : rawToString(data);
      void this.onWsMessage(conn, text, remoteAddress, authorization);
    });
    ws.on("close", () => {
      conn.markClosed();
      this.subscriptions.detach(conn.id);
      this.sockets.delete(conn.id);
    });
    ws.on("error", (err) => {
      this.logger.error("ws.socket_error", { connection: conn.id, error: err.message });
    });
  }

  private async onWsMessage(
    conn: WsConnection,
    text: string | undefined,
    remoteAddress: string,
    authorization: string | undefined,
  ): Promise<void> {
    if (text === undefined) {
      conn.send(serializeResponse(standaloneError(new InvalidRequestError("binary frames are not accepted; send JSON text"))));
      return;
    }
    const after: (() => void)[] = [];
    const ctx: RpcContext = {
      transport: "ws",
      remoteAddress,
      isLoopback: isLoopback(remoteAddress),
      ...(authorization !== undefined && { authorization }),
      connectionId: conn.id,
      afterResponse: (fn) => after.push(fn),
    };
    try {
      const response = await handlePayload(text, this.registry, ctx, this.jsonRpcOptions());
      if (response !== undefined) conn.send(serializeResponse(response, this.logger));
    } catch (err) {
      this.logger.error("ws.message_failed", { connection: conn.id, error: err instanceof Error ? err.stack : String(err) });
    }
    // Give the client a turn to register the subscription id before its first notification.
    if (after.length) setImmediate(() => after.forEach((fn) => fn()));
  }

  // --- shared ------------------------------------------------------------------------------

  private jsonRpcOptions() {
    return {
      maxBatchSize: this.maxBatchSize,
      logger: this.logger,
      now_ms: this.now_ms,
      onCall: (method: string, code: number | undefined, duration_ms: number) => {
        const label = this.registry.has(method) ? method : "unknown";
        this.count(this.requestsByMethod, label);
        this.nodeMetrics.observeRpc(label, duration_ms / 1000);
        if (code !== undefined) this.count(this.errorsByCode, code);
        for (const fn of this.callListeners) fn(method);
      },
    };
  }

  private count<K>(map: Map<K, number>, key: K): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

}

function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const q = raw.indexOf("?");
  const path = q === -1 ? raw : raw.slice(0, q);
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function joinMetrics(node: string, own: string): string {
  if (!node) return own;
  return node.endsWith("\n") ? node + own : node + "\n" + own;
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  if (address === "::1") return true;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4.startsWith("127.");
}
