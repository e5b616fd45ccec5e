// @daxfs/core: the one DAXFS image model every tool uses (see docs/architecture.md).

export * from "./base/index.js";
export * from "./branch/index.js";
export type { BranchRecord } from "./branch-record.js";
export * from "./build/index.js";
export * from "./delta/entry.js";
export * from "./errors.js";
export * from "./file-type.js";
export * from "./image.js";
export * from "./image-source.js";
export * from "./validate/index.js";
export * from "./view.js";
