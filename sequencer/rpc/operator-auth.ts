// Who may call operator methods (appchain_*, devnet_dump/devnet_load): loopback clients, and,
// when an admin token is configured, clients sending `Authorization: Bearer <token>`.
// Must never accept a non-loopback client without the exact token.

import { timingSafeEqual } from "node:crypto";
import { UnauthorizedError } from "../errors.js";
import type { RpcContext } from "./registry.js";

export function authorizeOperator(ctx: RpcContext, adminToken: string | undefined): void {
  if (ctx.isLoopback) return;
  if (adminToken !== undefined && ctx.authorization !== undefined && sameText(ctx.authorization, `Bearer ${adminToken}`)) return;
  throw new UnauthorizedError("operator methods are allowed from loopback only (or with the admin token)");
}

/** Constant-time comparison, so the token cannot be guessed byte by byte from response times. */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
