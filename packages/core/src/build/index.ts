// The image builder (docs/mkdaxfs.md): an abstract tree in, a DAXFS v5 image out.

export { copyFileContent, hostError } from "./content.js";
export { type EmitOptions, emitImage, superblockFor } from "./encode.js";
export { compileGlob } from "./glob.js";
export { type HostCalls, type HostStat, mtimeMsOf, nodeHostCalls } from "./host-calls.js";
export { ANCHOR_BYTES, isShortPath, openDirectoryPath, withShortPath } from "./long-path.js";
export * from "./plan.js";
export { planContentsText, planInodeTypes } from "./plan-counts.js";
export * from "./scan.js";
export * from "./sink.js";
export * from "./tree.js";
export * from "./write.js";
