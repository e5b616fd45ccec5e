// Test helpers shared by the packages' tests; deliberately not exported from @daxfs/core.
export * from "./test-image.js";
