// Names are bytes end to end (docs/inspect.md "Names"): whatever bytes a tree's names and symlink
// targets hold, `tree --json` gives them back exactly (in the names.ts string form), the text
// output shows them escaped one-to-one, and `extract` writes exactly those bytes.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildImage, decodeName, encodeName, makeDir, makeFile, makeSymlink } from "@daxfs/core";
import {
  buildTree,
  canonicalLinkGroups,
  describeBuildTree,
  describeHostTree,
  hostId,
  type TreeDescription,
} from "@daxfs/core/testing";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "./main.js";

const runs = Number(process.env.DAXFS_FUZZ_RUNS ?? 25);
const work = mkdtempSync(join(tmpdir(), "daxfs-inspect-names-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let serial = 0;

async function inspect(...args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => {
      stdout += text;
    },
    stdoutBytes: (bytes) => {
      stdout += Buffer.from(bytes).toString("latin1");
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

function pathsOf(tree: TreeDescription, path = ""): string[] {
  const here = path === "" ? "/" : path;
  return [
    here,
    ...Object.entries(tree.children ?? {}).flatMap(([name, child]) => pathsOf(child, `${path}/${name}`)),
  ];
}

const replacementCharacters = (text: string) => text.split("\ufffd").length - 1;

/** U+FFFD characters the tree's names and symlink targets really hold (each name is listed once). */
function replacementCharactersIn(tree: TreeDescription): number {
  return Object.entries(tree.children ?? {}).reduce(
    (count, [name, child]) =>
      count +
      replacementCharacters(name) +
      replacementCharacters(child.data ?? "") +
      replacementCharactersIn(child),
    0,
  );
}

const bytes = (...values: number[]) => decodeName(Uint8Array.from(values));

describe("random byte names through build, inspect --json and extract", () => {
  it("come back exactly", async () => {
    await fc.assert(
      fc.asyncProperty(buildTree(4, hostId), async (root) => {
        const image = join(work, `img${serial}`);
        const target = join(work, `out${serial++}`);
        writeFileSync(image, buildImage(root));
        const expected = canonicalLinkGroups(describeBuildTree(root));

        const listed = await inspect(image, "tree", "--json");
        expect(listed.code).toBe(0);
        const rows = JSON.parse(listed.stdout) as { path: string }[];
        expect(rows.map((row) => row.path).sort()).toEqual(pathsOf(expected).sort());

        // Text: every name escaped, nothing a terminal would act on, no lone surrogate, and no U+FFFD
        // but those the names and targets really hold (a lossy decode would print one per bad byte).
        const text = await inspect(image, "tree");
        const unprintable = [...text.stdout].filter((char) => {
          const code = char.codePointAt(0) as number;
          return (code < 0x20 && code !== 0x0a) || code === 0x7f || (code >= 0xd800 && code <= 0xdfff);
        });
        expect(unprintable).toEqual([]);
        expect(replacementCharacters(text.stdout)).toBe(replacementCharactersIn(expected));

        expect((await inspect(image, "extract", target)).code).toBe(0);
        expect(canonicalLinkGroups(describeHostTree(target))).toEqual(expected);
        rmSync(target, { recursive: true });
        rmSync(image);
      }),
      { numRuns: runs },
    );
  }, 120_000);
});

describe("names that are not UTF-8", () => {
  const root = makeDir();
  root.children.set(bytes(0x66, 0xfe), makeFile("first"));
  root.children.set(bytes(0x66, 0xff), makeFile("second"));
  root.children.set("a\nb", makeFile(""));
  root.children.set("back\\slash", makeSymlink(bytes(0x74, 0xe9)));
  const image = join(work, "bytes.img");
  writeFileSync(image, buildImage(root));

  it("are escaped in text (\\xHH, \\\\) and exact in JSON", async () => {
    const text = await inspect(image, "ls", "/");
    expect(text.stdout.split("\n").map((line) => line.split(/ +/).slice(7).join(" "))).toEqual([
      "a\\x0ab",
      "back\\\\slash -> t\\xe9",
      "f\\xfe",
      "f\\xff",
      "",
    ]);
    const json = await inspect(image, "ls", "/", "--json");
    expect(json.stdout).toContain('"name": "f\\udcfe"');
    const names = (JSON.parse(json.stdout) as { name: string; target?: string }[]).map((row) => [
      Buffer.from(encodeName(row.name)).toString("latin1"),
      row.target === undefined ? undefined : Buffer.from(encodeName(row.target)).toString("latin1"),
    ]);
    expect(names).toEqual([
      ["a\nb", undefined],
      ["back\\slash", "t\xe9"],
      ["f\xfe", undefined],
      ["f\xff", undefined],
    ]);
  });

  it("are found by path, and two of them stay two files", async () => {
    expect((await inspect(image, "cat", `/${bytes(0x66, 0xfe)}`)).stdout).toBe("first");
    expect((await inspect(image, "cat", `/${bytes(0x66, 0xff)}`)).stdout).toBe("second");
    const missing = await inspect(image, "stat", `/${bytes(0x66, 0xfd)}`);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no entry "f\\xfd" in /');
  });

  it("reach the tool as bytes from the real command line", () => {
    // Node decodes argv as UTF-8 with U+FFFD; the bin reads the exact bytes back (names.ts).
    const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
    const result = spawnSync(
      "sh",
      ["-c", `exec "$1" "$2" "$3" cat "$(printf '/f\\377')"`, "-", process.execPath, cli, image],
      { encoding: "latin1" },
    );
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("second");
  });
});
