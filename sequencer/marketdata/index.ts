// Public surface of the guarded market-data path, for the node and the scripts.

export * from "./update.js";
export * from "./guards.js";
export * from "./breaker.js";
export * from "./aggregate.js";
export * from "./pipeline.js";
export * from "./source.js";
export * from "./simulator-source.js";
export * from "./replay-source.js";
