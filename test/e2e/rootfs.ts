// A real Debian rootfs for the end-to-end tests: made once by test/rootfs/make-rootfs.sh
// (debootstrap, cached), local .deb packages built with dpkg-deb, a chroot with /proc, /dev and
// /dev/pts bound in, and our CLIs run from their builds as a user runs them.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const repoRoot = resolve(import.meta.dirname, "../..");

/** The built CLIs (docs/cli.md): the tests run what setup.sh puts on PATH, so build first. */
export const TOOLS = {
  mkdaxfs: join(repoRoot, "packages/mkdaxfs/dist/bundle/cli.cjs"),
  inspect: join(repoRoot, "packages/inspect/dist/bundle/cli.cjs"),
  branch: join(repoRoot, "packages/branch/dist/cli.js"),
};

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command; `check` throws with its output when it does not exit 0. */
export function run(
  command: string,
  args: string[],
  options: { check?: boolean; env?: NodeJS.ProcessEnv } = {},
): RunResult {
  const result = spawnSync(command, args, {
    encoding: "utf8",
    env: options.env ?? process.env,
    maxBuffer: 64 << 20,
    timeout: 600_000,
  });
  const out = { status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
  if ((options.check ?? true) && out.status !== 0)
    throw new Error(
      `${command} ${args.join(" ")} exited ${out.status ?? result.signal}: ${out.stderr.trim() || out.stdout.trim()}`,
    );
  return out;
}

/** One of our CLIs from its build. */
export function tool(name: keyof typeof TOOLS, args: string[], check = true): RunResult {
  if (!existsSync(TOOLS[name])) throw new Error(`${TOOLS[name]} is missing: run pnpm run -s build first`);
  return run(process.execPath, [TOOLS[name], ...args], { check });
}

/** The cached debootstrap rootfs (made now if missing or stale: about a minute with a good mirror). */
export function ensureRootfs(): string {
  const result = run("bash", [join(repoRoot, "test/rootfs/make-rootfs.sh")]);
  return result.stdout.trim();
}

export interface DebFile {
  path: string;
  content: Uint8Array;
  mode?: number;
}

/**
 * Builds `name_1.0_all.deb` in `dir` holding `files` (paths under the package root), uncompressed
 * (-Znone: the tests' payloads are random bytes, and xz would only cost time).
 */
export function buildDeb(dir: string, name: string, files: DebFile[]): string {
  const root = join(dir, `${name}-root`);
  mkdirSync(join(root, "DEBIAN"), { recursive: true });
  writeFileSync(
    join(root, "DEBIAN/control"),
    [
      `Package: ${name}`,
      "Version: 1.0",
      "Architecture: all",
      "Maintainer: DAXFS tests <tests@daxfs.invalid>",
      `Description: ${name}, built by the DAXFS end-to-end test`,
      "",
    ].join("\n"),
  );
  for (const file of files) {
    const path = join(root, file.path);
    mkdirSync(resolve(path, ".."), { recursive: true });
    writeFileSync(path, file.content);
    chmodSync(path, file.mode ?? 0o644);
  }
  const deb = join(dir, `${name}_1.0_all.deb`);
  run("dpkg-deb", ["--root-owner-group", "-Znone", "--build", root, deb]);
  return deb;
}

/** `count` files of random bytes, `bytes` in all, for a package of that size. */
export function payloadFiles(prefix: string, bytes: number, count: number): DebFile[] {
  const each = Math.ceil(bytes / count);
  return Array.from({ length: count }, (_, i) => ({
    path: `${prefix}/blob${i}`,
    content: randomBytes(each),
  }));
}

/**
 * A chroot into `root` (a daxfs-fuse branch mount) with /proc, /dev and /dev/pts bound in, as apt
 * needs them; `close` takes them out again (lazily, so a failed test still leaves no mount).
 */
export class Chroot {
  private bound: string[] = [];

  constructor(readonly root: string) {
    for (const [source, target] of [
      ["/proc", "proc"],
      ["/dev", "dev"],
      ["/dev/pts", "dev/pts"],
    ] as const) {
      const at = join(root, target);
      run("mount", ["--bind", source, at]);
      this.bound.unshift(at);
    }
  }

  /** Runs a shell command line in the chroot as root, or as `uid` (setpriv from the rootfs). */
  sh(command: string, options: { uid?: number; check?: boolean } = {}): RunResult {
    const env = {
      PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: "/root",
      LANG: "C.UTF-8",
      DEBIAN_FRONTEND: "noninteractive",
    };
    const asUser =
      options.uid === undefined
        ? []
        : ["setpriv", `--reuid=${options.uid}`, `--regid=${options.uid}`, "--clear-groups"];
    return run("chroot", [this.root, ...asUser, "/bin/sh", "-c", command], { check: options.check, env });
  }

  close(): void {
    for (const at of this.bound) run("umount", ["-l", at], { check: false });
    this.bound = [];
  }
}
