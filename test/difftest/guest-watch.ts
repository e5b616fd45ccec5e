// Watching a guest from the host while it runs (runGuest's whileRunning): its QEMU process and
// the lines it has written to its result port so far (the second serial port, a file beside the
// pack). Guests boot one at a time machine-wide (DAXFS_GUEST_LOCK), so a guest may start long after
// whileRunning is called: deadlines count from QEMU's start.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The QEMU process whose memory backend is `pack` (ours: the path is a fresh temporary one). */
export function qemuPid(pack: string): number | null {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (args[0]?.endsWith("qemu-system-x86_64") && args.some((a) => a.includes(`mem-path=${pack},`)))
        return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/** The guest's result lines so far. */
export function resultLines(pack: string): string[] {
  try {
    return readFileSync(join(dirname(pack), "results.txt"), "utf8").split("\n");
  } catch {
    return [];
  }
}

/**
 * Waits until `ready(lines)` holds and returns the lines, or null when the guest stopped first.
 * Waits up to `queueMs` for QEMU to start (other guests hold the machine's lock), then up to
 * `runMs` of the guest's own time.
 */
export async function waitForGuest(
  pack: string,
  ready: (lines: string[]) => boolean,
  runMs: number,
  queueMs = 4 * 3600_000,
  pollMs = 100,
): Promise<string[] | null> {
  const queued = Date.now();
  let started = 0;
  for (;;) {
    const lines = resultLines(pack);
    if (ready(lines)) return lines;
    const running = qemuPid(pack) !== null;
    if (running && !started) started = Date.now();
    if (started && !running) return ready(resultLines(pack)) ? resultLines(pack) : null;
    if (!started && Date.now() - queued > queueMs)
      throw new Error(`the guest did not start within ${queueMs / 1000} s`);
    if (started && Date.now() - started > runMs)
      throw new Error(`the guest ran ${runMs / 1000} s without getting there`);
    await sleep(pollMs);
  }
}
