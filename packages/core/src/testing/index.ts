// @daxfs/core/testing: test helpers shared by the packages' tests (test images, raw logs, damaged
// images for fuzzing, tree arbitraries, tree readers). Published as a source-only subpath of
// @daxfs/core and never built into its dist (packages/core/tsconfig.json excludes src/**/testing/**).
export * from "./arbitraries.js";
export * from "./branch-writes.js";
export * from "./damage.js";
export * from "./history-image.js";
export * from "./raw-log.js";
export * from "./read-tree.js";
export * from "./test-image.js";
export * from "./tree.js";
