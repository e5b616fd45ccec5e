// @daxfs/fuse-ref/testing: a daxfs-fuse mount for tests (FuseHarness), as a source-only subpath
// that is never built into dist (tsconfig.json excludes src/testing).
export * from "./harness.js";
