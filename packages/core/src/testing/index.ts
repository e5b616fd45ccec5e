// Test helpers shared by the packages' tests; deliberately not exported from @daxfs/core and not
// built into its dist (packages/core/tsconfig.json excludes src/**/testing/**).
export * from "./damage.js";
export * from "./raw-log.js";
export * from "./test-image.js";
export * from "./tree.js";
