// @daxfs/core: the one DAXFS image model every tool uses (see docs/architecture.md).
export * from "./errors.js";
export * from "./image-source.js";
