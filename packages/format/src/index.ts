// The DAXFS v5 on-media format for TypeScript: every struct codec, enum and constant is generated
// from format/daxfs.ksy (see format.generated.ts); nothing here restates a layout by hand.
export * from "./format.generated.js";
