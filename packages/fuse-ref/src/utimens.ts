// utimens through fuse-native (docs/fuse.md "Times"). Upstream fuse-native 2.2.6 passes the atime
// as both times and turns libfuse's UTIME_NOW and UTIME_OMIT into the same 1073 ms, so an mtime
// cannot be kept (cp -p, touch -d with two times). The patched source (patches/fuse-native@2.2.6.patch,
// compiled by scripts/build-fuse-binding.mjs) passes both times and marks NOW and OMIT distinctly;
// the addon says so by exporting daxfs_utimens_fixed = 1. Without it we read the one time for both.
import { fuseNativeBinding } from "./binding.js";

/** libfuse's tv_sec 0 / tv_nsec UTIME_NOW or UTIME_OMIT after upstream's ms conversion. */
export const UPSTREAM_UTIME_SENTINEL_MS = 1073;
/** The patched addon's UTIME_NOW and UTIME_OMIT (2^52 and 2^52 + 2^32 ms; exact numbers). */
export const PATCHED_UTIME_NOW_MS = 2 ** 52;
export const PATCHED_UTIME_OMIT_MS = 2 ** 52 + 2 ** 32;

/** True when fuse-native's loaded addon is the patched one (it exports daxfs_utimens_fixed). */
export function fuseNativeUtimensFixed(): boolean {
  return fuseNativeBinding()?.daxfs_utimens_fixed === 1;
}

const ns = (ms: number) => BigInt(Math.round(ms)) * 1_000_000n;

/**
 * The times to keep from fuse-native's utimens arguments (ms), in ns; undefined leaves that time
 * (UTIME_OMIT). `now` resolves UTIME_NOW.
 */
export function utimensTimes(
  atimeMs: number,
  mtimeMs: number,
  patched: boolean,
  now: () => bigint,
): { atime: bigint | undefined; mtime: bigint | undefined } {
  if (!patched) {
    // Upstream: one time, meant for both (its mtime argument repeats the atime).
    const time = atimeMs === UPSTREAM_UTIME_SENTINEL_MS ? now() : ns(atimeMs);
    return { atime: time, mtime: time };
  }
  // One reading of the clock for both: `touch` (both UTIME_NOW) gives equal atime and mtime, as
  // on tmpfs (entry timestamps are unique, so two readings would differ).
  let nowNs: bigint | undefined;
  const one = (ms: number): bigint | undefined => {
    if (ms === PATCHED_UTIME_OMIT_MS) return undefined;
    if (ms !== PATCHED_UTIME_NOW_MS) return ns(ms);
    nowNs ??= now();
    return nowNs;
  };
  return { atime: one(atimeMs), mtime: one(mtimeMs) };
}
