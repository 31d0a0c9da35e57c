// Decoding a contract's events through the ABI it declares: the mirror of CallContext.emit
// (keys[0] is sn_keccak of the event's name; the other keys, then the data, follow the
// declared members in order, each in its Cairo type's serde). Readers of receipts (the
// trigger engine, tools) use this instead of reading felts by position.
// Never trusts its input: a malformed event throws CalldataError.

import { selectorFromName } from "../../state/crypto/hash.js";
import type { Felt } from "../../state/felt.js";
import { CalldataError, FeltReader } from "./cairo-types.js";
import type { ContractClass } from "./contract-class.js";
import type { EventSpec } from "./context.js";

export interface DecodedEvent {
  name: string;
  values: Record<string, unknown>;
}

const bySelector = new WeakMap<ContractClass, Map<Felt, [string, EventSpec]>>();

/** The event of `cls` these keys and data encode, or undefined when keys[0] names none of its events. */
export function decodeEvent(cls: ContractClass, keys: readonly Felt[], data: readonly Felt[]): DecodedEvent | undefined {
  let events = bySelector.get(cls);
  if (events === undefined) {
    events = new Map(Object.entries(cls.events).map(([name, spec]) => [selectorFromName(name), [name, spec]]));
    bySelector.set(cls, events);
  }
  const found = keys.length > 0 ? events.get(keys[0]!) : undefined;
  if (found === undefined) return undefined;
  const [name, spec] = found;
  const keyReader = new FeltReader(keys.slice(1));
  const dataReader = new FeltReader(data);
  const values: Record<string, unknown> = {};
  for (const [member, m] of Object.entries(spec)) values[member] = m.type.decode(m.key ? keyReader : dataReader);
  if (keyReader.remaining !== 0 || dataReader.remaining !== 0) throw new CalldataError(`event ${name}: unexpected trailing felt(s)`);
  return { name, values };
}
