import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { readBaseTree } from "@daxfs/core/testing";
import fc from "fast-check";
import { pack } from "tar-stream";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "./cli.js";

const scratch = mkdtempSync(join(tmpdir(), "mkdaxfs-tar-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Member = {
  name: string;
  type?: "file" | "directory" | "symlink" | "link" | "fifo";
  body?: string;
  linkname?: string;
  mode?: number;
  uid?: number;
};

async function tarFile(name: string, members: Member[]): Promise<string> {
  const archive = pack();
  for (const m of members) archive.entry({ mode: 0o644, uid: 1000, gid: 1000, ...m }, m.body ?? "");
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  const path = join(scratch, name);
  writeFileSync(path, Buffer.concat(chunks));
  return path;
}

async function build(args: string[], output = join(scratch, `img-${Math.random().toString(36).slice(2)}`)) {
  let stderr = "";
  const sink = (into: (s: string) => void) =>
    ({
      write: (s: string) => {
        into(s);
        return true;
      },
    }) as unknown as NodeJS.WritableStream;
  const code = await main([...args, "-o", output], {
    stdout: sink(() => {}),
    stderr: sink((s) => (stderr += s)),
    env: {},
  });
  return { code, stderr, tree: code === 0 ? readBaseTree(readFileSync(output)) : null };
}

describe("--tar layers with OCI whiteouts", () => {
  it("applies .wh.NAME and .wh..wh..opq of upper layers to the layers below only", async () => {
    const lower = await tarFile("lower.tar", [
      { name: "./", type: "directory", mode: 0o755, uid: 0 },
      { name: "etc/", type: "directory", mode: 0o755 },
      { name: "etc/passwd", body: "root:x:0:0\n" },
      { name: "etc/shadow", body: "secret" },
      { name: "opt/", type: "directory" },
      { name: "opt/old1", body: "1" },
      { name: "opt/old2", body: "2" },
      { name: "bin/sh", body: "#!" },
      { name: "bin/bash", type: "link", linkname: "bin/sh" },
    ]);
    const upper = await tarFile("upper.tar", [
      { name: "etc/.wh.shadow" },
      { name: "opt/new", body: "n" },
      { name: "opt/.wh..wh..opq" },
      { name: "etc/passwd", body: "root:x:0:0\nuser:x:1000:1000\n", mode: 0o600 },
      { name: "link", type: "symlink", linkname: "etc/passwd" },
      { name: "dev/null", type: "fifo" },
    ]);
    const { code, stderr, tree } = await build(["--tar", lower, "--tar", upper]);
    expect(code).toBe(0);
    expect(stderr).toBe(
      "Warning: skipping upper.tar: dev/null: fifo (DAXFS stores files, directories and symlinks only)\n".replace(
        "upper.tar",
        upper,
      ),
    );
    expect(Object.keys(tree?.children?.etc?.children ?? {})).toEqual(["passwd"]);
    expect(Buffer.from(tree?.children?.etc?.children?.passwd?.data ?? "", "hex").toString()).toBe(
      "root:x:0:0\nuser:x:1000:1000\n",
    );
    expect(tree?.children?.etc?.children?.passwd?.mode).toBe(0o100600);
    expect(Object.keys(tree?.children?.opt?.children ?? {})).toEqual(["new"]);
    expect(tree?.children?.bin?.children?.bash?.linkGroup).toBe(tree?.children?.bin?.children?.sh?.linkGroup);
    expect(tree?.children?.bin?.children?.sh?.nlink).toBe(2);
    expect(tree?.children?.link?.data).toBe("etc/passwd");
    expect(tree?.children?.dev?.children).toEqual({});
    expect(tree?.uid).toBe(0);
    expect(tree?.children?.etc?.uid).toBe(1000);
  });

  it("refuses members that climb out with '..' and hard links to missing files", async () => {
    const climbing = await tarFile("escape.tar", [{ name: "../evil", body: "x" }]);
    expect((await build(["--tar", climbing])).stderr).toBe(
      `Error: ${climbing}: member "../evil" contains '..'\n`,
    );
    const dangling = await tarFile("dangling.tar", [{ name: "a", type: "link", linkname: "missing" }]);
    expect((await build(["--tar", dangling])).stderr).toBe(
      `Error: ${dangling}: a: hard link to missing "missing"\n`,
    );
  });

  it("refuses a member owned by uid 4294967295 ((uid_t)-1), naming it, and writes nothing", async () => {
    const path = await tarFile("no-owner.tar", [
      { name: "etc", type: "directory" },
      { name: "etc/passwd", body: "x" },
    ]);
    // tar-stream writes ids in octal and cannot encode 2^32-1; patch a GNU base-256 uid into the
    // second header and fix its checksum (ustar: header bytes summed with the checksum as spaces).
    const bytes = readFileSync(path);
    const header = bytes.subarray(512, 1024);
    expect(header.subarray(0, 10).toString()).toBe("etc/passwd");
    header.set([0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], 108);
    header.fill(0x20, 148, 156);
    const sum = header.reduce((total, byte) => total + byte, 0);
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
    writeFileSync(path, bytes);

    const output = join(scratch, "no-owner.img");
    const result = await build(["--tar", path], output);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error: ${path}: etc/passwd: uid 4294967295 ((uid_t)-1) is not a valid owner\n`,
    );
    expect(existsSync(output)).toBe(false);
    // The same archive with --all-root stores uid 0 and is accepted.
    const allRoot = await build(["--tar", path, "--all-root"]);
    expect(allRoot.stderr).toBe("");
    expect(allRoot.tree?.children?.etc?.children?.passwd?.uid).toBe(0);
  });

  it("reports a truncated archive as one line", async () => {
    const good = await tarFile("whole.tar", [{ name: "big", body: "z".repeat(5000) }]);
    const cut = join(scratch, "cut.tar");
    writeFileSync(cut, readFileSync(good).subarray(0, 2048));
    const result = await build(["--tar", cut]);
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n")).toHaveLength(2);
    expect(result.stderr).toMatch(/^Error: .*cut\.tar/);
  });
});

describe("tar sources", () => {
  it("reads gzip-compressed files and a tar on stdin (docker export | mkdaxfs --tar -)", async () => {
    const members: Member[] = [
      { name: "app/", type: "directory", mode: 0o750 },
      { name: "app/run.sh", body: "#!/bin/sh\n", mode: 0o755 },
    ];
    const plain = await tarFile("plain.tar", members);
    const gzipped = join(scratch, "plain.tar.gz");
    writeFileSync(gzipped, gzipSync(readFileSync(plain)));
    const fromGzip = await build(["--tar", gzipped]);
    expect(fromGzip.code).toBe(0);
    expect(fromGzip.tree?.children?.app?.children?.["run.sh"]?.mode).toBe(0o100755);

    const output = join(scratch, "stdin.img");
    const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
    const result = spawnSync(process.execPath, ["--import", "tsx", cli, "--tar", "-", "-o", output], {
      input: readFileSync(plain),
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(readBaseTree(readFileSync(output))).toEqual(fromGzip.tree);
  });
});

describe("garbage as tar input", () => {
  it("gives exit 0 or one 'Error:' line, never an internal error", async () => {
    const valid = readFileSync(
      await tarFile("seed.tar", [
        { name: "a/b", body: "hello" },
        { name: "c", type: "symlink", linkname: "a/b" },
      ]),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 3000 }),
          // A valid archive with a few bytes flipped: reaches the header and body parsers.
          fc
            .array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), {
              maxLength: 6,
            })
            .map((flips) => {
              const bytes = Buffer.from(valid);
              for (const [at, value] of flips) bytes[at] = value;
              return bytes;
            }),
        ),
        async (bytes) => {
          const path = join(scratch, `garbage-${n++}.tar`);
          writeFileSync(path, bytes);
          const result = await build(["--tar", path]);
          if (result.code !== 0) expect(result.stderr).toMatch(/^Error: (?!internal)[^\n]*\n$/);
          else expect(result.stderr).not.toContain("Error");
        },
      ),
      { numRuns: Number(process.env.DAXFS_FUZZ_RUNS ?? 60) },
    );
  });
});
