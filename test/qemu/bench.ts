// TypeScript front end of the QEMU bench (run.sh): boots a kernel with a pack of images, runs
// shell scenarios in the guest and returns each scenario's exit status and output. Infrastructure
// failures (build error, timeout, oops/BUG/WARNING in the console, a guest that did not finish,
// rmmod failing) throw, with the console tail in the message; scenario failures are data.
import { execFile } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const runScript = join(benchDir, "run.sh");

export interface GuestImage {
  /** [A-Za-z0-9_]+; guest scenarios mount it with `daxmount NAME MNT [OPTIONS]`. */
  name: string;
  bytes: Uint8Array;
}

export interface GuestScenario {
  /** File-name safe; scenarios run in the order given. */
  name: string;
  /** Shell (busybox ash) run with guest/daxlib.sh sourced, cwd /tmp. */
  script: string;
  /** With `guests`: the guest (0-based) that runs it; default 0. */
  guest?: number;
}

export interface ScenarioResult {
  exitCode: number;
  output: string;
  lines: string[];
}

/** What one guest of a run left: its console and its scenarios' results. */
export interface GuestOutput {
  console: string;
  scenarios: Map<string, ScenarioResult>;
  /** Stopped by the host (`GuestControl.kill`) rather than finished. */
  killed: boolean;
}

export interface GuestRun {
  kernel: string;
  /** Guest 0's console and scenarios (the only guest without `guests`). */
  console: string;
  scenarios: Map<string, ScenarioResult>;
  /** Every guest's, by index (one element without `guests`). */
  guests: GuestOutput[];
  wallMs: number;
  /** With `returnImages`: each image's bytes as the guest left them in the pack (by name). */
  images: Map<string, Uint8Array>;
}

/**
 * Kernels (by short name) that have both an image in /boot and headers, and QEMU to boot them.
 * Under CI (CI=true) both kernels must be there: .ci/run installs them, so a missing one is a
 * broken setup, and the kernel suites must fail rather than report themselves skipped.
 */
export function installedKernels(): string[] {
  const found = findKernels();
  if (process.env.CI === "true" && found.length < 2) {
    throw new Error(
      `CI=true but only [${found.join(", ")}] of 6.1, 6.12 can be booted: run scripts/setup.sh --all`,
    );
  }
  return found;
}

function findKernels(): string[] {
  if (!existsSync("/usr/bin/qemu-system-x86_64") || !existsSync("/usr/bin/busybox")) return [];
  const images = existsSync("/boot") ? readdirSync("/boot").filter((f) => f.startsWith("vmlinuz-")) : [];
  return ["6.1", "6.12"].filter((short) =>
    images.some((f) => {
      const version = f.slice("vmlinuz-".length);
      return (
        (version.startsWith(`${short}.`) || version.startsWith(`${short}-`)) &&
        existsSync(`/usr/src/linux-headers-${version}`)
      );
    }),
  );
}

function parseResults(text: string): Map<string, ScenarioResult> {
  const scenarios = new Map<string, ScenarioResult>();
  let current: { name: string; lines: string[] } | null = null;
  for (const line of text.replace(/\r/g, "").split("\n")) {
    const begin = /^@@BEGIN \d+-(.+)$/.exec(line);
    const end = /^@@END \d+-(.+) (\d+)$/.exec(line);
    if (begin) current = { name: begin[1] as string, lines: [] };
    else if (end && current) {
      scenarios.set(current.name, {
        exitCode: Number(end[2]),
        output: current.lines.join("\n"),
        lines: current.lines,
      });
      current = null;
    } else if (current) current.lines.push(line);
  }
  return scenarios;
}

export interface GuestOptions {
  kernel: string;
  images: GuestImage[];
  scenarios: GuestScenario[];
  timeoutSec?: number;
  keep?: boolean;
  /**
   * Share the host's root read-only (virtio-9p) so scenarios can run the host's node and our CLIs with
   * `host_run CMD...` (guest/daxlib.sh; test/qemu/README.md "Running host programs").
   */
  hostRoot?: boolean;
  /** Read every image back from the pack after the run (guest writes land there). */
  returnImages?: boolean;
  /**
   * Runs on the host while the guest runs, with the pack's path and each image's offset in it
   * (the pack is shared memory with the guest: host writes are seen by the guest kernel).
   * It must finish by itself; its error fails the run.
   */
  whileRunning?: (packPath: string, offsets: Map<string, number>, control: GuestControl) => Promise<void>;
  /**
   * Boot this many guests at once on the one pack (run.sh --guests; test/qemu/README.md "Several
   * guests"): each scenario runs in the guest its `guest` names.
   */
  guests?: number;
}

/** What `whileRunning` may do to the guests of a run. */
export interface GuestControl {
  /** Offset in the pack of the sync area (guest/shmsync.c), with `guests` > 1; else -1. */
  syncOffset: number;
  /** Kills guest `index`'s QEMU (SIGKILL); the run then does not require that guest to finish. */
  kill(index: number): void;
  /** Resolves when every guest's QEMU has exited. */
  done: Promise<void>;
}

/** Byte offset of flag word `word` (64..255) of the sync area (guest/shmsync.c's layout). */
export function syncWordOffset(control: GuestControl, word: number): number {
  if (control.syncOffset < 0) throw new Error("the run has no sync area: pass guests > 1");
  if (word < 64 || word > 255) throw new Error(`sync flag word ${word} is outside 64..255`);
  return control.syncOffset + word * 64;
}

/** The images as run.sh lays them out in the pack: each at the next 2 MiB boundary. */
function packOffsets(images: GuestImage[]): Map<string, number> {
  const out = new Map<string, number>();
  let offset = 0;
  for (const image of images) {
    out.set(image.name, offset);
    offset = Math.ceil((offset + image.bytes.length) / PACK_ALIGN) * PACK_ALIGN;
  }
  return out;
}

const PACK_ALIGN = 2 * 1024 * 1024;

/** The sync area: the 2 MiB block after the last image (run.sh --guests). */
function packSyncOffset(images: GuestImage[]): number {
  const last = images[images.length - 1];
  if (!last) return 0;
  const offset = packOffsets(images).get(last.name) as number;
  return Math.ceil((offset + last.bytes.length) / PACK_ALIGN) * PACK_ALIGN;
}

function imagesFromPack(pack: Uint8Array, images: GuestImage[]): Map<string, Uint8Array> {
  const offsets = packOffsets(images);
  return new Map(
    images.map((image) => {
      const offset = offsets.get(image.name) as number;
      return [image.name, pack.slice(offset, offset + image.bytes.length)];
    }),
  );
}

/**
 * Boots `kernel` ("6.1", "6.12" or a full version) and runs every scenario in it. Boots a second
 * time only when the guest kernel died before any module was loaded ("Modules linked in:" empty;
 * seen as an int3 oops in the idle loop under TCG on a busy host), which cannot be daxfs.ko's
 * doing; any other failure is reported at once.
 */
export async function runGuest(options: GuestOptions): Promise<GuestRun> {
  try {
    return await runGuestOnce(options);
  } catch (error) {
    if (!/Modules linked in:[ \t]*$/m.test(error instanceof Error ? error.message : String(error)))
      throw error;
    console.warn(
      `Linux ${options.kernel}: the guest kernel crashed before loading any module; booting again`,
    );
    return runGuestOnce(options);
  }
}

async function runGuestOnce(options: GuestOptions): Promise<GuestRun> {
  const work = mkdtempSync(join(tmpdir(), "daxfs-guest-"));
  const guests = options.guests ?? 1;
  const args = [
    "--kernel",
    options.kernel,
    "--out",
    join(work, "out"),
    "--timeout",
    String(options.timeoutSec ?? 300),
  ];
  if (options.hostRoot) args.push("--host-root");
  if (guests > 1) args.push("--guests", String(guests));
  mkdirSync(join(work, "in"));
  for (let g = 0; g < guests; g++) mkdirSync(join(work, "in", `guest-${g}`));
  for (const image of options.images) {
    const path = join(work, "in", `${image.name}.img`);
    writeFileSync(path, image.bytes);
    args.push("--image", `${image.name}=${path}`);
  }
  for (const scenario of options.scenarios) {
    // One directory per guest: guests may run scenarios of the same name (the name run.sh reports).
    const path = join(work, "in", `guest-${scenario.guest ?? 0}`, `${scenario.name}.sh`);
    writeFileSync(path, scenario.script);
    args.push("--guest", String(scenario.guest ?? 0), "--scenario", path);
  }
  const out = join(work, "out");
  const kill = (index: number) => {
    const pidFile = join(out, `guest-${index}.pid`);
    if (!existsSync(pidFile)) throw new Error(`guest ${index} is not running`);
    writeFileSync(join(out, `guest-${index}.killed`), "");
    // SIGKILL: the guest stops at once, whatever its kernel is doing (a power cut, not a shutdown).
    process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGKILL");
  };
  const started = Date.now();
  const finished = new Promise<{ code: number; stderr: string; stdout: string }>((resolve) => {
    execFile(runScript, args, { maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stderr, stdout });
    });
  });
  const control: GuestControl = {
    syncOffset: guests > 1 ? packSyncOffset(options.images) : -1,
    kill,
    done: finished.then(() => undefined),
  };
  const side = options.whileRunning
    ? options.whileRunning(join(out, "pack.img"), packOffsets(options.images), control).then(
        () => null,
        (error: unknown) => error,
      )
    : Promise.resolve(null);
  const { code, stderr, stdout } = await finished;
  const sideError = await side;
  const read = (name: string) => (existsSync(join(out, name)) ? readFileSync(join(out, name), "utf8") : "");
  const guestDir = (index: number) => (index === 0 ? "" : `guest-${index}/`);
  try {
    // Scenario failures also make run.sh exit 1; only its own "qemu bench:" lines are fatal.
    if (code !== 0 && (code !== 1 || /^qemu bench:/m.test(stderr))) {
      throw new Error(`QEMU bench failed on ${options.kernel} (exit ${code}):\n${stderr}`);
    }
    if (sideError) throw sideError;
    const outputs = Array.from({ length: guests }, (_, index) => ({
      console: read(`${guestDir(index)}console.log`),
      scenarios: parseResults(read(`${guestDir(index)}results.txt`)),
      killed: new RegExp(`^KILLED guest ${index} `, "m").test(stdout),
    }));
    const first = outputs[0] as GuestOutput;
    return {
      kernel: options.kernel,
      console: first.console,
      scenarios: first.scenarios,
      guests: outputs,
      wallMs: Date.now() - started,
      images: options.returnImages
        ? imagesFromPack(new Uint8Array(readFileSync(join(work, "out", "pack.img"))), options.images)
        : new Map(),
    };
  } finally {
    if (!options.keep) rmSync(work, { recursive: true, force: true });
  }
}
