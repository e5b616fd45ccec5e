// The real binary (dist/cli.js, built by `pnpm run build`) in a real terminal: tmux runs it on an
// image built here, send-keys types, capture-pane reads the screen. tmux is a test dependency
// (scripts/setup.sh --all installs it); its own socket keeps this server apart from any other.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../test/harness.js";
import { writeInBranch, writeSampleImage } from "../test/sample-image.js";

const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const inspectCli = fileURLToPath(new URL("../../inspect/dist/cli.js", import.meta.url));
const socket = `daxfs-tui-test-${process.pid}`;
const tmux = (...args: string[]) => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });

let tmp: ReturnType<typeof tempDir>;
let image: string;

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run pnpm run build first`);
  tmp = tempDir();
  image = join(tmp.dir, "sample.img");
  writeSampleImage(image);
});
afterAll(() => {
  spawnSync("tmux", ["-L", socket, "kill-server"]);
  // The server leaves its socket file behind when killed.
  rmSync(join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${process.getuid?.()}`, socket), { force: true });
  tmp.remove();
});

/** daxfs-fuse mounts need /dev/fuse and root; the -m test is reported as skipped otherwise. */
const canMount = existsSync("/dev/fuse") && process.getuid?.() === 0;
const ESC = "\u001b";
/** An SGR foreground colour: what NO_COLOR and TERM=dumb must not draw. */
const FOREGROUND = new RegExp(`${ESC}\\[3[0-7]m`);

const screen = (session: string, escapes = false) =>
  tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", session);

async function waitFor(session: string, text: string, timeoutMs = 10_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const now = screen(session);
    if (now.includes(text)) return now;
    if (Date.now() > until) throw new Error(`screen never showed ${JSON.stringify(text)}; it shows:\n${now}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One key at a time, as a person types. */
async function keys(session: string, ...names: string[]): Promise<void> {
  for (const name of names) {
    tmux("send-keys", "-t", session, name);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

function start(session: string, env = "", columns = 80, rows = 24, command = `node ${cli} ${image}`): void {
  tmux(
    "new-session",
    "-d",
    "-s",
    session,
    "-x",
    String(columns),
    "-y",
    String(rows),
    `${env} ${command}; echo EXIT=$?; sleep 60`,
  );
}

describe("daxfs-tui in tmux", () => {
  it("browses, helps, follows a resize and a live append, and quits with status 0", async () => {
    start("main");
    await waitFor("main", "Branches (2)");
    // One send-keys: the keys arrive in one read, and each counts.
    tmux("send-keys", "-t", "main", "Down", "Tab", "Down", "Enter", "Down", "Down");
    let shown = await waitFor("main", "1 line 1 of the motd");
    expect(shown).toContain(" M     hostname");
    expect(shown).toContain(" +     new");
    expect(shown.split("\n")).toHaveLength(25); // 24 rows and the final newline
    tmux("send-keys", "-t", "main", "?");
    await waitFor("main", "Keys (any key closes this help)");
    tmux("send-keys", "-t", "main", "x");
    await waitFor("main", "Branches (2)");
    tmux("resize-window", "-t", "main", "-x", "100", "-y", "30");
    shown = await waitFor("main", "22 line 22 of the motd");
    expect(shown.split("\n")).toHaveLength(31);
    writeInBranch(image, "agent", (files) => files.create("/etc/later", 0o644, { uid: 0, gid: 0 }));
    shown = await waitFor("main", "later");
    expect(shown).toContain(">      motd");
    tmux("send-keys", "-t", "main", "q");
    shown = await waitFor("main", "EXIT=0");
    // The alternate screen is left: the terminal shows what it did before, not the last frame.
    expect(shown).not.toContain("Branches (2)");
  });

  it("draws colours on a colour terminal and none with NO_COLOR or TERM=dumb", async () => {
    // A shell that exports CI (as CI runners and some dev containers do) still gets a live, coloured
    // screen: Ink and chalk would otherwise draw nothing until exit and no colours.
    start("colour", "CI=true CI_JOB_ID=1");
    await waitFor("colour", "Branches");
    const colour = screen("colour", true);
    expect(colour).toContain(`${ESC}[32m`); // active branches in green
    expect(colour).toMatch(FOREGROUND);
    tmux("send-keys", "-t", "colour", "q");
    start("plain", "NO_COLOR=1");
    await waitFor("plain", "Branches");
    expect(screen("plain", true)).not.toMatch(FOREGROUND);
    tmux("send-keys", "-t", "plain", "q");
    start("dumb", "TERM=dumb");
    await waitFor("dumb", "Branches");
    const dumb = screen("dumb", true);
    expect(dumb).not.toMatch(FOREGROUND);
    expect(dumb).toContain("[#");
    expect(dumb).not.toContain("█");
    tmux("send-keys", "-t", "dumb", "q");
    await waitFor("dumb", "EXIT=0");
  });

  it("is reachable as daxfs-inspect TARGET tui", async () => {
    start("inspect", "", 80, 24, `node ${inspectCli} ${image} tui`);
    await waitFor("inspect", "Branches (2)");
    await keys("inspect", "q");
    await waitFor("inspect", "EXIT=0");
  });

  // -m on a daxfs-fuse mount served by this process: writes through the mount show up live.
  it.skipIf(!canMount)("follows a daxfs-fuse mount (-m) as it is written to", async () => {
    const { mountDaxfs } = await import("@daxfs/fuse-ref");
    const mounted = join(tmp.dir, "mounted.img");
    writeSampleImage(mounted);
    const mountpoint = join(tmp.dir, "mnt");
    mkdirSync(mountpoint);
    const mount = await mountDaxfs({
      image: mounted,
      mountpoint,
      branch: "work",
      parent: "main",
      log: () => {},
    });
    try {
      start("fuse", "", 80, 24, `node ${cli} -m ${mountpoint}`);
      let shown = await waitFor("fuse", `@${mountpoint}`);
      expect(shown).toMatch(new RegExp(` {2}work .* @${mountpoint}`));
      await keys("fuse", "Down", "Down");
      await waitFor("fuse", "Files of work");
      // Async, so this process's event loop stays free to serve the FUSE request.
      await writeFile(join(mountpoint, "hello.txt"), "hi\n");
      shown = await waitFor("fuse", "hello.txt");
      expect(shown).toMatch(/ \+ {3}hello\.txt +3/);
      await keys("fuse", "q");
      await waitFor("fuse", "EXIT=0");
    } finally {
      await mount.close();
    }
  });

  it("exits 2 without a terminal, naming the daxfs-inspect command", () => {
    const run = spawnSync("node", [cli, image], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      `daxfs-tui: standard input/output: not a terminal; \`daxfs-inspect ${image}\` prints the same (also its branches, tree, log BRANCH, diff BRANCH and validate subcommands)\n`,
    );
    expect(run.stdout).toBe("");
  });
});
