import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeDir } from "@daxfs/core";
import { buildTestImage } from "@daxfs/core/testing";
import { describe, expect, it } from "vitest";
import { tempDir } from "../test/harness.js";
import { EXIT_OK, EXIT_USAGE, inspectCommand, main } from "./main.js";
import { themeFromEnv } from "./theme.js";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) } };
}

describe("daxfs-tui main", () => {
  it("refuses to run without a terminal, naming the daxfs-inspect command that prints the same", async () => {
    const tmp = tempDir();
    try {
      const image = join(tmp.dir, "image.img");
      writeFileSync(image, buildTestImage(makeDir()).bytes);
      const { err, io: tio } = io();
      expect(await main([image], tio)).toBe(EXIT_USAGE);
      expect(err.join("")).toContain(
        `daxfs-tui: standard input/output: not a terminal; \`daxfs-inspect ${image}\` prints the same`,
      );
      // A file that is no image says that, not that there is no terminal: the terminal would not help.
      const zeros = join(tmp.dir, "zeros.img");
      writeFileSync(zeros, Buffer.alloc(4096));
      const notImage = io();
      expect(await main([zeros], notImage.io)).toBe(EXIT_USAGE);
      expect(notImage.err.join("")).toBe(`daxfs-tui: ${zeros}: bad magic 0x0: not a DAXFS image (at 0x0)\n`);
    } finally {
      tmp.remove();
    }
    expect(inspectCommand(["-m", "/mnt/dax"])).toBe("daxfs-inspect -m /mnt/dax info");
  });

  it("names a missing image file without a terminal too (the target is checked first)", async () => {
    const { err, io: tio } = io();
    expect(await main(["/nonexistent/image.img"], tio)).toBe(EXIT_USAGE);
    expect(err.join("")).toMatch(/^daxfs-tui: \/nonexistent\/image\.img: no such file or directory\n$/);
  });

  it("prints its usage on --help and refuses unknown options and two targets", async () => {
    const help = io();
    expect(await main(["--help"], help.io)).toBe(EXIT_OK);
    expect(help.out.join("")).toContain("Usage: daxfs-tui IMAGE");
    const bad = io();
    expect(await main(["--frobnicate"], bad.io)).toBe(EXIT_USAGE);
    expect(bad.err.join("")).toBe("daxfs-tui: --frobnicate: unknown option\nTry 'daxfs-tui --help'.\n");
    const none = io();
    expect(await main([], none.io)).toBe(EXIT_USAGE);
    expect(none.err.join("")).toBe(
      "daxfs-tui: TARGET: an image file, -m MNT or -p ADDR -s SIZE is required\nTry 'daxfs-tui --help'.\n",
    );
    const empty = io();
    expect(await main([""], empty.io)).toBe(EXIT_USAGE);
    expect(empty.err.join("")).toBe("daxfs-tui: IMAGE: empty path\nTry 'daxfs-tui --help'.\n");
    const two = io();
    expect(await main(["a.img", "b.img"], two.io)).toBe(EXIT_USAGE);
    expect(two.err.join("")).toBe(
      "daxfs-tui: b.img: one TARGET only (got a.img b.img)\nTry 'daxfs-tui --help'.\n",
    );
    const version = io();
    expect(await main(["--version"], version.io)).toBe(EXIT_OK);
    expect(version.out.join("")).toMatch(/^daxfs-tui \d+\.\d+\.\d+ \(DAXFS format v5\)\n$/);
  });

  it("reports a target it cannot open as one line, before touching the terminal", async () => {
    const { err, io: tio } = io();
    const terminal = { stdin: process.stdin, stdout: process.stdout };
    expect(await main(["/nonexistent/image.img"], { ...tio, terminal })).toBe(EXIT_USAGE);
    expect(err.join("")).toMatch(/^daxfs-tui: .*\/nonexistent\/image\.img.*\n$/);
  });
});

describe("start-up", () => {
  // Ink and React load only to draw: the built binary (dist/cli.js, `pnpm run build`) answers
  // --version, a usage error and a target it cannot read with both made unresolvable.
  it("--version, a usage error and a missing target never load Ink or React", () => {
    const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
    const hooks = `export async function resolve(specifier, context, next) {
      if (specifier === "ink" || specifier === "react") throw new Error("loaded " + specifier);
      return next(specifier, context);
    }`;
    const register = `import { register } from "node:module";
      register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
    const run = (...args: string[]) =>
      spawnSync(
        process.execPath,
        ["--import", `data:text/javascript,${encodeURIComponent(register)}`, cli, ...args],
        {
          encoding: "utf8",
        },
      );
    expect(run("--version")).toMatchObject({ status: 0, stderr: "" });
    expect(run("--bogus")).toMatchObject({
      status: 2,
      stderr: "daxfs-tui: --bogus: unknown option\nTry 'daxfs-tui --help'.\n",
    });
    expect(run("/nonexistent.img")).toMatchObject({
      status: 2,
      stderr: "daxfs-tui: /nonexistent.img: no such file or directory\n",
    });
  });
});

describe("theme", () => {
  it("drops colours on NO_COLOR and colours and Unicode on a dumb terminal", () => {
    expect(themeFromEnv({ TERM: "xterm-256color" })).toEqual({ color: true, ascii: false });
    expect(themeFromEnv({ TERM: "xterm", NO_COLOR: "" })).toEqual({ color: false, ascii: false });
    expect(themeFromEnv({ TERM: "dumb" })).toEqual({ color: false, ascii: true });
  });
});
