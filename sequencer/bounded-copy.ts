// A JSON-safe copy of an untrusted value, bounded in depth, breadth and string length, for what
// the node keeps or logs about a request it refused (quarantined market data, error details).
// Never recurses without a bound and never keeps more than a few KiB of a client's payload.

export interface CopyLimits {
  /** Nesting below this depth is replaced by "[…]". */
  maxDepth: number;
  /** Array items / object keys kept per level. */
  maxEntries: number;
  /** Characters kept per string (the rest replaced by "…(+N)"). */
  maxStringChars: number;
}

export const DEFAULT_COPY_LIMITS: CopyLimits = { maxDepth: 8, maxEntries: 32, maxStringChars: 256 };

export function boundedCopy(v: unknown, limits: CopyLimits = DEFAULT_COPY_LIMITS, depth = 0): unknown {
  if (v === null || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") return v.length <= limits.maxStringChars ? v : `${v.slice(0, limits.maxStringChars)}…(+${v.length - limits.maxStringChars})`;
  if (typeof v !== "object") return String(typeof v);
  if (depth >= limits.maxDepth) return "[…]";
  if (Array.isArray(v)) {
    const out = v.slice(0, limits.maxEntries).map((x) => boundedCopy(x, limits, depth + 1));
    if (v.length > limits.maxEntries) out.push(`…(+${v.length - limits.maxEntries})`);
    return out;
  }
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const k in v) {
    if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
    if (n++ >= limits.maxEntries) {
      out["…"] = "more keys";
      break;
    }
    out[boundedCopy(k, limits, limits.maxDepth) as string] = boundedCopy((v as Record<string, unknown>)[k], limits, depth + 1);
  }
  return out;
}

/** A short description of an untrusted value for an error message (one line, ≤ ~100 chars). */
export function describeValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v);
  if (v === null || typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return `a ${typeof v}`;
}
