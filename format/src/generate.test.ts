// The drift check and the generator's refusals, run through the CLI as CI runs them.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { GENERATED_C_HEADER, GENERATED_TS_CODECS, generate } from "./generate.js";
import { KSY_PATH } from "./kaitai.js";
import { KsyMappingError, parseKsy } from "./ksy-model.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));
const KSY = readFileSync(KSY_PATH, "utf8");

function writeTemp(source: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "daxfs-gen-")), "daxfs.ksy");
  writeFileSync(path, source);
  return path;
}

function runGen(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { encoding: "utf8", cwd: REPO_ROOT });
}

describe("generated files", () => {
  it("committed files equal a fresh generation", () => {
    for (const [relative, content] of generate(KSY)) {
      expect(readFileSync(join(REPO_ROOT, relative), "utf8"), relative).toBe(content);
    }
  });

  it("`gen --check` passes on the repository and fails when one byte of the .ksy changes", () => {
    const ok = runGen(["--check"]);
    expect(ok.status, ok.stderr).toBe(0);

    // One byte: a digit in the doc of superblock.block_size, which both outputs carry as a comment.
    const mutated = KSY.replace("doc: 4096 (written, never checked", "doc: 4097 (written, never checked");
    expect(mutated).not.toBe(KSY);
    const drift = runGen(["--check", "--ksy", writeTemp(mutated)]);
    expect(drift.status).toBe(1);
    expect(drift.stderr).toContain(GENERATED_C_HEADER);
    expect(drift.stderr).toContain(GENERATED_TS_CODECS);
  });

  it("a one-byte change of a struct's layout is refused before anything is written", () => {
    const result = runGen(["--check", "--ksy", writeTemp(KSY.replace("size: 3848", "size: 3849"))]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/types\.superblock: size 4041 is not a multiple of its alignment 8/);
  });
});

describe("the generator refuses what it cannot map to C, naming the field", () => {
  const cases: [string, string, RegExp][] = [
    [
      "an unknown type",
      KSY.replace("type: global_coord", "type: global_cord"),
      /types\.superblock\.seq\[15\]\(coord\): unknown type 'global_cord'/,
    ],
    [
      "a size that is not fixed",
      KSY.replace("        size: 3848\n", "        size: flags\n"),
      /types\.superblock\.seq\[22\]\(reserved\): non-fixed size/,
    ],
    [
      "a conditional field",
      KSY.replace(
        "      - id: block_size\n        type: u4\n",
        "      - id: block_size\n        type: u4\n        if: version == 5\n",
      ),
      /types\.superblock\.seq\[3\]\(block_size\): 'if' has no fixed-size C equivalent/,
    ],
    [
      "a field that C would pad",
      KSY.replace("      - id: coord_lock\n        type: u4", "      - id: coord_lock\n        type: u2"),
      /types\.global_coord\.seq\[3\]\(padding\): offset 18 is not aligned to 4/,
    ],
  ];
  for (const [what, source, message] of cases) {
    it(what, () => {
      expect(() => parseKsy(source)).toThrow(KsyMappingError);
      expect(() => parseKsy(source)).toThrow(message);
    });
  }

  it("the CLI prints one line naming the .ksy and the field, exit 1", () => {
    const result = runGen(["--check", "--ksy", writeTemp(cases[0]![1])]);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/daxfs\.ksy: types\.superblock\.seq\[15\]\(coord\): unknown type/);
  });

  it("the C header compiles with gcc -Wall -Wextra -Werror, static asserts included", () => {
    const dir = mkdtempSync(join(tmpdir(), "daxfs-hdr-"));
    writeFileSync(
      join(dir, "t.c"),
      '#include "daxfs_format.h"\nint main(void) { return sizeof(struct daxfs_super) != 4040; }\n',
    );
    execFileSync("gcc", [
      "-std=gnu11",
      "-Wall",
      "-Wextra",
      "-Werror",
      "-I",
      join(REPO_ROOT, "kernel"),
      "-o",
      join(dir, "t"),
      join(dir, "t.c"),
    ]);
    execFileSync(join(dir, "t"));
  });
});
