// The kernel side of the cross tests: which kernels run, and one guest boot per kernel whose
// failure (build error, timeout, oops, a scenario that did not finish) fails the tests instead of
// skipping them. Skipping is only allowed when QEMU or the kernel images are not installed at
// all, and never under CI=true (test/qemu/README.md lists the packages).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type GuestImage,
  type GuestRun,
  type GuestScenario,
  installedKernels,
  runGuest,
} from "../qemu/bench.js";
import { guestWalk, type WalkEntry } from "./walk.js";

export interface KernelPlan {
  /** Installed kernels among the wanted ones: these boot, and any bench error fails the tests. */
  run: string[];
  /** Wanted but not installed, with the reason: a skip outside CI, a failure under CI=true. */
  missing: { kernel: string; reason: string }[];
  mustRun: boolean;
}

export function planKernels(wanted: string[]): KernelPlan {
  const installed = installedKernels();
  const tools = "qemu-system-x86, busybox-static and the kernel image + headers (test/qemu/README.md)";
  return {
    run: wanted.filter((k) => installed.includes(k)),
    missing: wanted
      .filter((k) => !installed.includes(k))
      .map((kernel) => ({ kernel, reason: `Linux ${kernel} cannot be booted here: needs ${tools}` })),
    mustRun: process.env.CI === "true",
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * One guest at a time from these test files (vitest runs files in parallel): run.sh rebuilds
 * the kernel's base initramfs (rm -rf, cpio) and runs make in one shared directory per kernel on
 * every run, so two concurrent runs for the same kernel can race; one TCG guest also keeps the
 * 2-core host from starving the other. A lock left by a dead process is taken over.
 */
async function withBenchLock<T>(body: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), "daxfs-cross-qemu.lock");
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      let owner = 0;
      try {
        owner = Number(readFileSync(join(lock, "pid"), "utf8"));
      } catch {}
      if (owner > 0 && !alive(owner)) rmSync(lock, { recursive: true, force: true });
      else await sleep(500);
    }
  }
  try {
    return await body();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** One boot's outcome: the run, or the error the bench threw (rethrown by every test that needs it). */
export class GuestSession {
  private run: GuestRun | null = null;
  private error: unknown = null;

  constructor(readonly kernel: string) {}

  /** Boots once (runGuest itself retries a guest that died before loading any module). */
  async boot(images: GuestImage[], scenarios: GuestScenario[], timeoutSec = 240): Promise<void> {
    try {
      this.run = await withBenchLock(() => runGuest({ kernel: this.kernel, images, scenarios, timeoutSec }));
      this.error = null;
    } catch (error) {
      this.error = error;
    }
  }

  /** A scenario's output lines; throws when the boot failed or the scenario did not exit 0. */
  lines(name: string): string[] {
    if (this.error) {
      const message = this.error instanceof Error ? this.error.message : String(this.error);
      throw new Error(`the QEMU bench failed on Linux ${this.kernel}:\n${message.slice(-4000)}`);
    }
    const run = this.run;
    if (!run) throw new Error(`Linux ${this.kernel}: the guest was never booted`);
    const result = run.scenarios.get(name);
    if (!result)
      throw new Error(
        `Linux ${this.kernel}: scenario ${name} did not run; console tail:\n${run.console.slice(-3000)}`,
      );
    if (result.exitCode !== 0)
      throw new Error(
        `Linux ${this.kernel}: scenario ${name} exited ${result.exitCode}:\n${result.output.slice(-3000)}`,
      );
    return result.lines;
  }

  walk(name: string): WalkEntry[] {
    return guestWalk(this.lines(name));
  }
}

/**
 * A guest scenario that mounts image `name` (first with `validate`, which must accept it, then
 * as a plain mount), prints walkScript's listing and runs `extra`. Exit 3: validate refused it;
 * 4: mount failed; 5: umount failed.
 */
export function walkScenario(
  name: string,
  walkScript: (mnt: string) => string,
  extra: (mnt: string) => string = () => "",
): GuestScenario {
  const mnt = `/mnt/${name}`;
  return {
    name,
    script: `if ! err=$(daxmount ${name} ${mnt} validate 2>&1); then
  echo "validate refused ${name}: $err | $(last_kmsg)"; exit 3
fi
umount ${mnt}
daxmount ${name} ${mnt} || { echo "mount failed: $(last_kmsg)"; exit 4; }
${walkScript(mnt)}
${extra(mnt)}
umount ${mnt} || exit 5
`,
  };
}

/** Guest shell: mmapcheck (test/qemu/README.md) on every non-empty file, then "MMAP-CHECKED n". */
export function mmapScript(mnt: string): string {
  return `find ${mnt} -type f -size +0 -exec mmapcheck {} + > /tmp/mmap.txt
grep -v '^OK ' /tmp/mmap.txt
echo "MMAP-CHECKED $(grep -c '^OK ' /tmp/mmap.txt)"`;
}
