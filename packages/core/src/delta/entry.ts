// Delta log entries (SPEC 1.5, OVERVIEW 4): types, decoding and encoding of branch log entries.
export * from "./decode.js";
export * from "./encode.js";
export * from "./types.js";
