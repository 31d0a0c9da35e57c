// Public surface of contracts/: the runtime, the built-in contracts, genesis.
export * from "./runtime/index.js";
export * from "./runtime/transaction-executor.js";
export { accountClass, account, ACCOUNT_ERRORS, VALIDATED, ISRC5_ID, ISRC6_ID, CallType } from "./account.js";
export { erc20Class, erc20, ERC20_ERRORS, erc20ConstructorCalldata, erc20BalanceSlots, ERC20_TOTAL_SUPPLY_SLOT } from "./erc20.js";
export { udcClass, udc } from "./udc.js";
export * from "./genesis.js";
