// starknet.js reads the global WebSocket when it is imported; Node 20 has none. Import this
// module FIRST in an integration test file so `ws` is the global before starknet loads.
import { WebSocket } from "ws";

(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
