// One WebSocket client: an ordered, bounded outgoing queue shared by responses and notifications.
// A client that does not keep up (queue + in-flight above the limit) is disconnected with close
// code 1008 rather than letting memory grow without bound or silently dropping notifications.

import type { WebSocket } from "ws";

export interface WsConnectionLimits {
  /** Most messages queued or in flight before the client is disconnected as too slow. */
  maxQueuedMessages: number;
  /** Most messages handed to the socket before waiting for their write callbacks. */
  maxInFlight: number;
}

export const DEFAULT_WS_CONNECTION_LIMITS: WsConnectionLimits = { maxQueuedMessages: 10_000, maxInFlight: 16 };

/** Close code used when the outgoing queue overflows (1008: policy violation). */
export const WS_CLOSE_QUEUE_OVERFLOW = 1008;

export class WsConnection {
  private readonly queue: string[] = [];
  private queueHead = 0;
  private inFlight = 0;
  private closedFlag = false;

  constructor(
    readonly id: number,
    private readonly socket: WebSocket,
    private readonly limits: WsConnectionLimits,
    private readonly onOverflow: (conn: WsConnection) => void,
  ) {}

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Messages queued or in flight. */
  get pending(): number {
    return this.queue.length - this.queueHead + this.inFlight;
  }

  /** Queue a text frame. Returns false when the connection is closed or just overflowed. */
  send(text: string): boolean {
    if (this.closedFlag) return false;
    if (this.pending >= this.limits.maxQueuedMessages) {
      this.close(WS_CLOSE_QUEUE_OVERFLOW, "outgoing queue overflow: client too slow");
      this.onOverflow(this);
      return false;
    }
    this.queue.push(text);
    this.drain();
    return true;
  }

  /** Close the socket (idempotent); queued messages are dropped. */
  close(code = 1000, reason = ""): void {
    if (this.closedFlag) return;
    this.markClosed();
    try {
      this.socket.close(code, reason);
    } catch {
      this.socket.terminate();
    }
  }

  /** Called when the socket closed from the other side. */
  markClosed(): void {
    this.closedFlag = true;
    this.queue.length = 0;
    this.queueHead = 0;
  }

  private drain(): void {
    while (!this.closedFlag && this.inFlight < this.limits.maxInFlight && this.queueHead < this.queue.length) {
      const text = this.queue[this.queueHead++]!;
      if (this.queueHead === this.queue.length) {
        this.queue.length = 0;
        this.queueHead = 0;
      }
      this.inFlight++;
      this.socket.send(text, () => {
        this.inFlight--;
        this.drain();
      });
    }
  }
}
