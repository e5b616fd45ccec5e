// Just enough of fuse-native's (untyped) API for this package.
declare module "fuse-native" {
  type Callback = (errno: number, ...results: unknown[]) => void;
  export interface FuseOptions {
    force?: boolean;
    mkdir?: boolean;
    debug?: boolean;
    timeout?: number | false;
    fsname?: string;
    subtype?: string;
    autoUnmount?: boolean;
  }
  export default class Fuse {
    // biome-ignore lint/suspicious/noExplicitAny: each operation has its own argument list
    constructor(mnt: string, ops: Record<string, (...args: any[]) => void>, opts?: FuseOptions);
    readonly mnt: string;
    mount(cb: (err: Error | null) => void): void;
    unmount(cb: (err: Error | null) => void): void;
    _fuseOptions(): string;
    static unmount(mnt: string, cb: (err: Error | null) => void): void;
    static isConfigured(cb: (err: Error | null, configured: boolean) => void): void;
    /** Our patch (patches/fuse-native@2.2.6.patch): the loaded binding passes names as Buffers. */
    static passesBytes?: boolean;
  }
  export type { Callback };
}
