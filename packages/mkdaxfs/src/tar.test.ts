import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { DaxfsImage, encodeName, FileImage } from "@daxfs/core";
import { readBaseTree } from "@daxfs/core/testing";
import fc from "fast-check";
import { pack } from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

/** mkdaxfs --tar - with `input` on stdin, as a separate process (stdin is the process's). */
async function buildFromStdin(input: Buffer) {
  const output = join(scratch, `stdin-img-${Math.random().toString(36).slice(2)}`);
  const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
  const result = spawnSync(process.execPath, ["--import", "tsx", cli, "--tar", "-", "-o", output], {
    input,
    encoding: "utf8",
  });
  return {
    code: result.status,
    stderr: result.stderr,
    tree: result.status === 0 ? readBaseTree(readFileSync(output)) : null,
  };
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
      "mkdaxfs: warning: skipping upper.tar: dev/null: FIFO (DAXFS stores files, directories and symlinks only)\n".replace(
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
      `mkdaxfs: ${climbing}: member "../evil" contains '..'\n`,
    );
    const dangling = await tarFile("dangling.tar", [{ name: "a", type: "link", linkname: "missing" }]);
    expect((await build(["--tar", dangling])).stderr).toBe(
      `mkdaxfs: ${dangling}: a: hard link to missing "missing"\n`,
    );
    const toDirectory = await tarFile("link-dir.tar", [
      { name: "d", type: "directory" },
      { name: "a", type: "link", linkname: "d" },
    ]);
    expect((await build(["--tar", toDirectory])).stderr).toBe(
      `mkdaxfs: ${toDirectory}: a: hard link to directory "d" (directories cannot be hard-linked)\n`,
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
      `mkdaxfs: ${path}: etc/passwd: uid 4294967295 ((uid_t)-1) is not a valid owner\n`,
    );
    expect(existsSync(output)).toBe(false);
    // The same archive with --all-root stores uid 0 and is accepted.
    const allRoot = await build(["--tar", path, "--all-root"]);
    expect(allRoot.stderr).toBe("");
    expect(allRoot.tree?.children?.etc?.children?.passwd?.uid).toBe(0);
  });

  it("refuses ids past 32 bits (PAX records, GNU base-256), naming the archive and the member", async () => {
    for (const format of ["PAX_FORMAT", "GNU_FORMAT"] as const) {
      const records = format === "PAX_FORMAT" ? { uid: "4294967296" } : undefined;
      const archive = pythonTar(`wide-id-${format}.tar`, format, [["f", "0", "x", 1e9, records]]);
      if (format === "GNU_FORMAT") {
        // Python writes ids over 2097151 in base-256; make this one 2^32 + 1000.
        const bytes = readFileSync(archive);
        const header = bytes.subarray(0, 512);
        header.set([0x80, 0, 0, 1, 0, 0, 0x03, 0xe8], 108);
        header.fill(0x20, 148, 156);
        const sum = header.reduce((total, byte) => total + byte, 0);
        header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
        writeFileSync(archive, bytes);
      }
      const output = join(scratch, `wide-id-${format}.img`);
      const result = await build(["--tar", archive], output);
      const uid = format === "PAX_FORMAT" ? 4294967296 : 4294968296;
      expect([result.code, result.stderr]).toEqual([
        1,
        `mkdaxfs: ${archive}: f: uid ${uid} does not fit 32 bits\n`,
      ]);
      expect(existsSync(output)).toBe(false);
    }
  });

  it("reports a truncated archive as one line", async () => {
    const good = await tarFile("whole.tar", [{ name: "big", body: "z".repeat(5000) }]);
    const cut = join(scratch, "cut.tar");
    writeFileSync(cut, readFileSync(good).subarray(0, 2048));
    const result = await build(["--tar", cut]);
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n")).toHaveLength(2);
    expect(result.stderr).toMatch(/^mkdaxfs: .*cut\.tar/);
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

  it("reads a named pipe as a stream (--tar <(zcat layer.gz)), plain or compressed; a directory is one line", async () => {
    const plain = await tarFile("piped.tar", [{ name: "f", body: "piped" }]);
    const gzipped = join(scratch, "piped.tar.gz");
    writeFileSync(gzipped, gzipSync(readFileSync(plain)));
    for (const source of [plain, gzipped]) {
      const fifo = join(scratch, `fifo-${Math.random().toString(36).slice(2)}`);
      run("mkfifo", [fifo]);
      // The writer is another process: opening the pipe here waits for it, not the reverse.
      const writer = spawn("sh", ["-c", 'cat "$1" > "$2"', "-", source, fifo]);
      const written = new Promise((resolve) => writer.on("close", resolve));
      const result = await build(["--tar", fifo]);
      expect(await written).toBe(0);
      expect(result.stderr).toBe("");
      expect(Buffer.from(result.tree?.children?.f?.data ?? "", "hex").toString()).toBe("piped");
    }
    const directory = await build(["--tar", scratch]);
    expect([directory.code, directory.stderr]).toEqual([
      1,
      `mkdaxfs: ${scratch}: is a directory, not a tar archive\n`,
    ]);
  });
});

describe("garbage as tar input", () => {
  it("gives exit 0 or one 'mkdaxfs:' line, never an internal error", async () => {
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
          if (result.code !== 0) expect(result.stderr).toMatch(/^mkdaxfs: (?!internal)[^\n]*\n$/);
          else expect(result.stderr).not.toContain("Error");
        },
      ),
      { numRuns: Number(process.env.DAXFS_FUZZ_RUNS ?? 60) },
    );
  });
});

/** Runs a program, failing the test with its stderr if it fails. */
function run(program: string, args: string[], options: { cwd?: string; input?: Buffer } = {}): Buffer {
  const result = spawnSync(program, args, { cwd: options.cwd, input: options.input, maxBuffer: 1 << 30 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${program} ${args.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout;
}

const isRoot = process.getuid?.() === 0;

/**
 * A tree that needs every header extension: names over 100 and 255 bytes, a symlink target over 100,
 * a hard link, setuid, a sparse file of 10 data segments with a leading and a trailing hole (GNU 'S'
 * needs extension blocks past 4), an all-hole file, an empty directory and, as root, ids over
 * 2097151 (octal overflow: GNU base-256, PAX uid/gid records).
 */
function makeFullTree(root: string): void {
  run("python3", [
    "-c",
    `import os, sys
r = sys.argv[1]; big = sys.argv[2] == "1"
os.makedirs(r + "/d"); os.makedirs(r + "/empty")
f = open(r + "/sp", "wb")
for i in range(10):
    f.seek(i * 65536 + 1000); f.write(bytes([i + 1]) * 3000)
f.truncate(2 << 20); f.close()
f = open(r + "/holes", "wb"); f.truncate(1 << 20); f.close()
deep = r + "/" + "p" * 150 + "/" + "q" * 150
os.makedirs(deep); open(deep + "/" + "n" * 120, "w").write("deep\\n")
os.symlink("t" * 150, r + "/longlink")
open(r + "/d/f", "w").write("x"); os.link(r + "/d/f", r + "/d/hard"); os.chmod(r + "/d/f", 0o4755)
if big:
    os.chown(r + "/d/f", 3000000, 3000001); os.chown(r + "/d", 2097152, 5)`,
    root,
    isRoot ? "1" : "0",
  ]);
}

describe("archives written by real tools read back as the directory itself (-d)", () => {
  const full = join(scratch, "full");
  makeFullTree(full);
  const plain = join(scratch, "plain");
  run("sh", [
    "-c",
    'mkdir -p "$1/a/b" && echo hi > "$1/a/b/f" && ln -s b/f "$1/a/l" && chmod 2750 "$1/a"',
    "-",
    plain,
  ]);
  const reference: Record<"full" | "plain", ReturnType<typeof readBaseTree> | null> = {
    full: null,
    plain: null,
  };
  beforeAll(async () => {
    reference.full = (await build(["-d", full])).tree;
    reference.plain = (await build(["-d", plain])).tree;
    expect(reference.full?.children?.sp).toBeDefined();
  });
  const python = (format: string) => (source: string, out: string) =>
    run("python3", [
      "-c",
      `import tarfile, sys; t = tarfile.open(sys.argv[2], "w", format=tarfile.${format}); t.add(sys.argv[1], arcname="."); t.close()`,
      source,
      out,
    ]);
  const gnuTar =
    (...flags: string[]) =>
    (source: string, out: string) =>
      run("tar", [...flags, "-cf", out, "-C", source, "."]);
  const bsdtar = (format: string) => (source: string, out: string) =>
    run("bsdtar", [`--format=${format}`, "-cf", out, "-C", source, "."]);
  const writers: Array<[string, "full" | "plain", (source: string, out: string) => void]> = [
    ["GNU tar --format=gnu -S", "full", gnuTar("--format=gnu", "-S")],
    ["GNU tar --format=oldgnu -S", "full", gnuTar("--format=oldgnu", "-S")],
    [
      "GNU tar --format=posix -S --sparse-version=0.0",
      "full",
      gnuTar("--format=posix", "-S", "--sparse-version=0.0"),
    ],
    [
      "GNU tar --format=posix -S --sparse-version=0.1",
      "full",
      gnuTar("--format=posix", "-S", "--sparse-version=0.1"),
    ],
    [
      "GNU tar --format=posix -S --sparse-version=1.0",
      "full",
      gnuTar("--format=posix", "-S", "--sparse-version=1.0"),
    ],
    ["GNU tar --format=posix", "full", gnuTar("--format=posix")],
    ["GNU tar --format=ustar", "plain", gnuTar("--format=ustar")],
    ["GNU tar --format=v7", "plain", gnuTar("--format=v7")],
    ["bsdtar --format=pax (sparse 1.0)", "full", bsdtar("pax")],
    ["bsdtar --format=gnutar", "full", bsdtar("gnutar")],
    ["bsdtar --format=ustar", "plain", bsdtar("ustar")],
    ["python3 tarfile GNU_FORMAT", "full", python("GNU_FORMAT")],
    ["python3 tarfile PAX_FORMAT", "full", python("PAX_FORMAT")],
    ["python3 tarfile USTAR_FORMAT", "plain", python("USTAR_FORMAT")],
  ];
  it.each(writers)("%s", async (_, tree, write) => {
    const archive = join(scratch, `${Math.random().toString(36).slice(2)}.tar`);
    write(tree === "full" ? full : plain, archive);
    const result = await build(["--tar", archive]);
    expect(result.stderr).toBe("");
    expect(result.tree).toEqual(reference[tree]);
  });

  it("the sparse members really are sparse in the archives (GNU 'S' with extension blocks)", () => {
    const archive = join(scratch, "sparse-only.tar");
    run("tar", ["--format=gnu", "-S", "-cf", archive, "-C", full, "sp"]);
    const header = readFileSync(archive).subarray(0, 512);
    expect(String.fromCharCode(header[156]!)).toBe("S");
    expect(header[482]).toBe(1); // isextended: the map continues past the header
    expect(readFileSync(archive).length).toBeLessThan(64 * 1024);
  });

  it.each([
    ["gzip", "--gzip"],
    ["zstd", "--zstd"],
    ["xz", "--xz"],
    ["bzip2", "--bzip2"],
  ])("reads %s layers, from a file and from stdin; a truncated one is one error line", async (name, flag) => {
    const archive = join(scratch, `layer.tar.${name}`);
    run("tar", [flag, "-S", "-cf", archive, "-C", full, "."]);
    expect((await build(["--tar", archive])).tree).toEqual(reference.full);
    const output = join(scratch, `stdin-${name}.img`);
    const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
    const fromStdin = spawnSync(process.execPath, ["--import", "tsx", cli, "--tar", "-", "-o", output], {
      input: readFileSync(archive),
      encoding: "utf8",
    });
    expect(fromStdin.stderr).toBe("");
    expect(readBaseTree(readFileSync(output))).toEqual(reference.full);

    const cut = join(scratch, `cut.tar.${name}`);
    const bytes = readFileSync(archive);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const image = join(scratch, `cut-${name}.img`);
    const result = await build(["--tar", cut], image);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^mkdaxfs: ${cut}: (${name}: |truncated archive)[^\\n]+\\n$`));
    expect(existsSync(image)).toBe(false);
  });
});

describe("a compressed layer whose decoder is not installed", () => {
  it("is one line naming the Debian package", () => {
    const plain = join(scratch, "nodecoder");
    run("sh", ["-c", 'mkdir -p "$1" && echo x > "$1/f"', "-", plain]);
    const archive = join(scratch, "nodecoder.tar.zst");
    run("tar", ["--zstd", "-cf", archive, "-C", plain, "."]);
    const output = join(scratch, "nodecoder.img");
    const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
    const result = spawnSync(process.execPath, ["--import", "tsx", cli, "--tar", archive, "-o", output], {
      encoding: "utf8",
      env: { ...process.env, PATH: "/nonexistent" },
    });
    expect(result.stderr).toBe(
      `mkdaxfs: ${archive}: zstd-compressed, and the zstd program is not installed (apt-get install zstd)\n`,
    );
    expect(result.status).toBe(1);
    expect(existsSync(output)).toBe(false);
  });
});

describe("tars the reader does not understand are errors, never silent changes", () => {
  /** Rewrites the header at `at` with `edit` and fixes its checksum. */
  function patchHeader(path: string, at: number, edit: (header: Buffer) => void): void {
    const bytes = readFileSync(path);
    const header = bytes.subarray(at, at + 512);
    edit(header);
    header.fill(0x20, 148, 156);
    const sum = header.reduce((total, byte) => total + byte, 0);
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
    writeFileSync(path, bytes);
  }

  it.each([
    ["gnu", "--format=gnu"],
    ["posix", "--format=posix"],
  ])(
    "member names that are not UTF-8 (%s format) are refused without --byte-names, as with -d",
    async (_, format) => {
      const source = join(scratch, `bytes-${format.slice(9)}`);
      run("sh", [
        "-c",
        `mkdir -p "$1" && printf 1 > "$1/f$(printf '\\376')" && printf 2 > "$1/f$(printf '\\377')"`,
        "-",
        source,
      ]);
      const archive = join(scratch, `bytes-${format.slice(9)}.tar`);
      run("tar", [format, "-cf", archive, "-C", source, "."]);
      const image = join(scratch, "bytes.img");
      const result = await build(["--tar", archive], image);
      expect(result.stderr).toBe(
        `mkdaxfs: ${archive}: /f\\xfe: name is not valid UTF-8 (--byte-names stores it as bytes)\n`,
      );
      expect(existsSync(image)).toBe(false);
      const fromDirectory = await build(["-d", source]);
      expect(fromDirectory.stderr).toMatch(
        /f\\xfe: name is not valid UTF-8 \(--byte-names stores it as bytes\)\n$/,
      );
    },
  );

  it("an unknown member type (GNU multi-volume 'M') names the member", async () => {
    const archive = await tarFile("volume.tar", [{ name: "part", body: "abc" }]);
    patchHeader(archive, 0, (header) => header.write("M", 156, "latin1"));
    expect((await build(["--tar", archive])).stderr).toBe(
      `mkdaxfs: ${archive}: part: tar member type 'M' is not supported\n`,
    );
  });

  it("a sparse map that does not add up to the stored bytes", async () => {
    const source = join(scratch, "one-sparse");
    run("sh", ["-c", 'mkdir -p "$1" && printf ab > "$1/sp" && truncate -s 20000 "$1/sp"', "-", source]);
    const archive = join(scratch, "bad-map.tar");
    run("tar", ["--format=gnu", "-S", "-cf", archive, "-C", source, "sp"]);
    // First map entry's length field (bytes 398..410): claim 3 bytes where 2 are stored... then more.
    patchHeader(archive, 0, (header) => header.write("00000000777\0", 398, "latin1"));
    const result = await build(["--tar", archive]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^mkdaxfs: ${archive}: sp: GNU sparse member: sparse map holds \\d+ bytes but \\d+ are stored\\n$`,
      ),
    );
  });

  it("an empty file is not an archive (GNU tar and tarfile refuse it too)", async () => {
    const empty = join(scratch, "empty.tar");
    writeFileSync(empty, "");
    expect((await build(["--tar", empty])).stderr).toBe(
      `mkdaxfs: ${empty}: empty input: not a tar archive\n`,
    );
  });

  it("a first block that is no tar header says the input is not a tar archive, then why", async () => {
    const junk = join(scratch, "junk.img");
    writeFileSync(junk, Buffer.alloc(4096, 0x41));
    expect((await build(["--tar", junk])).stderr).toBe(
      `mkdaxfs: ${junk}: not a tar archive: header at byte 0: checksum field is not a number\n`,
    );
    // Octal digits where the checksum is, but the wrong sum.
    const wrongSum = Buffer.alloc(1024, 0x30);
    writeFileSync(junk, wrongSum);
    expect((await build(["--tar", junk])).stderr).toBe(
      `mkdaxfs: ${junk}: not a tar archive: header at byte 0: checksum mismatch\n`,
    );
  });

  it("a first member whose name spells a compression's magic number is a plain tar", async () => {
    // bzip2's "BZh9" and lzip's "LZIP" are printable: the header's checksum decides, not the name.
    for (const name of ["BZh91AY&SYx", "LZIPfile"]) {
      const archive = await tarFile(`magic-${name.slice(0, 4)}.tar`, [{ name, body: "x" }]);
      for (const args of [
        ["--tar", archive],
        ["--tar", "-"],
      ]) {
        const result =
          args[1] === "-" ? await buildFromStdin(readFileSync(archive)) : await build(args as string[]);
        expect(result.stderr).toBe("");
        expect(Object.keys(result.tree?.children ?? {})).toEqual([name]);
      }
    }
  });

  it("a layer in a compression that is not read is named as such (lz4, lzip, compress, zip)", async () => {
    const archive = await tarFile("plain.tar", [{ name: "f", body: "x" }]);
    const lz4 = join(scratch, "layer.tar.lz4");
    run("lz4", ["-q", "-f", archive, lz4]);
    const hint = "not a tar archive (gzip, zstd, xz and bzip2 layers are read; decompress it first)";
    expect((await build(["--tar", lz4])).stderr).toBe(`mkdaxfs: ${lz4}: lz4 data, ${hint}\n`);
    expect((await buildFromStdin(readFileSync(lz4))).stderr).toBe(`mkdaxfs: (stdin): lz4 data, ${hint}\n`);
    const lzip = join(scratch, "layer.tar.lz");
    writeFileSync(lzip, Buffer.concat([Buffer.from("LZIP\x01"), Buffer.alloc(100)]));
    expect((await build(["--tar", lzip])).stderr).toBe(`mkdaxfs: ${lzip}: lzip data, ${hint}\n`);
  });

  it("a bad header checksum says where", async () => {
    const archive = await tarFile("checksum.tar", [
      { name: "a", body: "x" },
      { name: "b", body: "y" },
    ]);
    const bytes = readFileSync(archive);
    bytes[1024] = 0x41; // the second header's name
    writeFileSync(archive, bytes);
    expect((await build(["--tar", archive])).stderr).toBe(
      `mkdaxfs: ${archive}: header at byte 1024: checksum mismatch (not a tar archive, or corrupt)\n`,
    );
  });
});

describe("OCI whiteouts apply to lower layers whatever their order in the layer", () => {
  /** GNU tar of `members` (paths under `root`, listed in this order, not recursed). */
  function layer(name: string, root: string, members: string[]): string {
    const archive = join(scratch, name);
    run("tar", ["--no-recursion", "-cf", archive, "-C", root, ...members]);
    return archive;
  }
  const make = (root: string, script: string) =>
    run("sh", ["-c", `mkdir -p "$1" && cd "$1" && ${script}`, "-", root]);

  it("an opaque marker listed after its siblings; .wh.d after d/ was re-created; a whiteout of a file the same layer wrote", async () => {
    const l1 = join(scratch, "wl1");
    make(
      l1,
      "mkdir -p a/b/c d && echo bar > a/b/c/bar && echo old > d/old && echo keep > a/keep && echo f > f",
    );
    const l2 = join(scratch, "wl2");
    make(
      l2,
      "mkdir -p a/b/c d && echo foo > a/b/c/foo && : > a/.wh..wh..opq && echo new > d/new && : > .wh.d && echo f2 > f && : > .wh.f",
    );
    const lower = layer("wl1.tar", l1, ["a", "a/b", "a/b/c", "a/b/c/bar", "a/keep", "d", "d/old", "f"]);
    const upper = layer("wl2.tar", l2, [
      "a",
      "a/b",
      "a/b/c",
      "a/b/c/foo",
      "a/.wh..wh..opq",
      "d",
      "d/new",
      ".wh.d",
      "f",
      ".wh.f",
    ]);
    const { stderr, tree } = await build(["--tar", lower, "--tar", upper]);
    expect(stderr).toBe("");
    expect(Object.keys(tree?.children?.a?.children ?? {})).toEqual(["b"]);
    expect(Object.keys(tree?.children?.a?.children?.b?.children?.c?.children ?? {})).toEqual(["foo"]);
    expect(Object.keys(tree?.children?.d?.children ?? {})).toEqual(["new"]);
    // .wh.f hides the lower f only: the f this layer wrote stays.
    expect(Buffer.from(tree?.children?.f?.data ?? "", "hex").toString()).toBe("f2\n");
  });

  it("a whiteout of a lower directory keeps what the same layer put in it without a member of its own", async () => {
    const l1 = join(scratch, "implicit1");
    make(l1, "mkdir -p a && echo old > a/old");
    const l2 = join(scratch, "implicit2");
    make(l2, "mkdir -p a && echo new > a/new && : > .wh.a");
    const lower = layer("implicit1.tar", l1, ["a", "a/old"]);
    const upper = layer("implicit2.tar", l2, ["a/new", ".wh.a"]);
    const { stderr, tree } = await build(["--tar", lower, "--tar", upper]);
    expect(stderr).toBe("");
    expect(Object.keys(tree?.children?.a?.children ?? {})).toEqual(["new"]);
  });

  it("--exclude of a directory drops its members too, as -d does", async () => {
    const root = join(scratch, "excl");
    make(root, "mkdir -p root/.ssh etc && echo k > root/.ssh/key && echo p > etc/passwd && chmod 700 root");
    const archive = layer("excl.tar", root, ["etc", "etc/passwd", "root", "root/.ssh", "root/.ssh/key"]);
    const fromTar = await build(["--tar", archive, "--exclude", "root"]);
    expect(Object.keys(fromTar.tree?.children ?? {})).toEqual(["etc"]);
    const fromDirectory = await build(["-d", root, "--exclude", "root"]);
    expect(Object.keys(fromDirectory.tree?.children ?? {})).toEqual(["etc"]);
  });
});

describe("real-tool archives with bytes changed, headers re-checksummed", () => {
  /** Offsets of the blocks that are tar headers (their checksum field matches). */
  function headerBlocks(bytes: Buffer): number[] {
    const found: number[] = [];
    for (let at = 0; at + 512 <= bytes.length; at += 512) {
      const block = bytes.subarray(at, at + 512);
      const stored = Number.parseInt(block.toString("latin1", 148, 156).replace(/[\0 ]/g, ""), 8);
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
      if (sum === stored && sum !== 256) found.push(at);
    }
    return found;
  }
  function resum(block: Buffer): void {
    block.fill(0x20, 148, 156);
    const sum = block.reduce((total, byte) => total + byte, 0);
    block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  }

  it("give exit 0 or one 'mkdaxfs:' line for every sparse and PAX format, never an internal error", async () => {
    const source = join(scratch, "fuzz-src");
    run("python3", [
      "-c",
      `import os, sys
r = sys.argv[1]; os.makedirs(r + "/" + "l" * 120)
f = open(r + "/sp", "wb")
for i in range(6):
    f.seek(i * 8192 + 100); f.write(b"x" * 700)
f.truncate(60000); f.close()
os.symlink("t" * 120, r + "/link")`,
      source,
    ]);
    const seeds = [
      ["--format=gnu", "-S"],
      ["--format=posix", "-S", "--sparse-version=0.0"],
      ["--format=posix", "-S", "--sparse-version=0.1"],
      ["--format=posix", "-S", "--sparse-version=1.0"],
    ].map((flags, i) => {
      const path = join(scratch, `fuzz-seed-${i}.tar`);
      run("tar", [...flags, "-cf", path, "-C", source, "."]);
      const bytes = readFileSync(path);
      return { bytes, headers: headerBlocks(bytes) };
    });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat({ max: 8191 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        async (seed, flips) => {
          const { bytes: valid, headers } = seeds[seed]!;
          const bytes = Buffer.from(valid);
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          for (const at of headers) resum(bytes.subarray(at, at + 512));
          const path = join(scratch, `fuzz-${n++}.tar`);
          writeFileSync(path, bytes);
          const result = await build(["--tar", path]);
          if (result.code !== 0) expect(result.stderr).toMatch(/^mkdaxfs: (?!internal)[^\n]*\n$/);
          else expect(result.stderr).not.toContain("Error");
        },
      ),
      { numRuns: Number(process.env.DAXFS_FUZZ_RUNS ?? 60) },
    );
  });
});

describe("names are bytes", () => {
  // Names are bytes (docs/semantics.md "Names"): f\xfe and f\xff stay two files with exactly those
  // names, whatever format carries them; a Latin-1 "é" (0xe9) is not re-encoded as UTF-8.
  const latin1Names = (tree: ReturnType<typeof readBaseTree> | null) =>
    Object.entries(tree?.children ?? {})
      .map(([name, node]) => [Buffer.from(encodeName(name)).toString("latin1"), node.data])
      .sort();
  const expected = [
    ["f\xe9", Buffer.from("3").toString("hex")],
    ["f\xfe", Buffer.from("1").toString("hex")],
    ["f\xff", Buffer.from("2").toString("hex")],
  ];
  const byteTree = () => {
    const source = join(scratch, `bytes-${Math.random().toString(36).slice(2)}`);
    run("sh", [
      "-c",
      `mkdir -p "$1" && printf 1 > "$1/f$(printf '\\376')" && printf 2 > "$1/f$(printf '\\377')" && printf 3 > "$1/f$(printf '\\351')"`,
      "-",
      source,
    ]);
    return source;
  };
  it.each([
    ["GNU tar --format=gnu", ["tar", "--format=gnu"]],
    ["GNU tar --format=posix", ["tar", "--format=posix"]],
    ["bsdtar --format=pax", ["bsdtar", "--format=pax"]],
    ["bsdtar --format=ustar", ["bsdtar", "--format=ustar"]],
  ])("member names that are not UTF-8 are kept as bytes (%s)", async (_, [tool, format]) => {
    const source = byteTree();
    const archive = `${source}.tar`;
    run(tool as string, [format as string, "-cf", archive, "-C", source, "."]);
    // bsdtar's pax names such members with hdrcharset=BINARY records.
    if (tool === "bsdtar" && format === "--format=pax")
      expect(readFileSync(archive).includes("hdrcharset=BINARY")).toBe(true);
    const result = await build(["--byte-names", "--tar", archive]);
    expect(result.stderr).toBe("");
    expect(latin1Names(result.tree)).toEqual(expected);
    // -d reads the same bytes from the directory.
    expect(latin1Names((await build(["--byte-names", "-d", source])).tree)).toEqual(expected);
  });

  it.each([
    ["GNU", "GNU_FORMAT", "latin-1", "'f\\xfe', 'f\\xff', 'f\\xe9'"],
    ["USTAR", "USTAR_FORMAT", "latin-1", "'f\\xfe', 'f\\xff', 'f\\xe9'"],
    // PAX path records are UTF-8; Python writes names it cannot encode with hdrcharset=BINARY.
    ["PAX", "PAX_FORMAT", "utf-8", "'f\\udcfe', 'f\\udcff', 'f\\udce9'"],
  ])("Python tarfile %s with Latin-1 names", async (_, format, encoding, names) => {
    const archive = join(scratch, `python-${format}.tar`);
    run("python3", [
      "-c",
      `import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.${format}, encoding="${encoding}", errors="surrogateescape") as t:
    for n, body in zip([${names}], [b"1", b"2", b"3"]):
        info = tarfile.TarInfo(n)
        info.size = len(body)
        t.addfile(info, io.BytesIO(body))`,
      archive,
    ]);
    if (format === "PAX_FORMAT") expect(readFileSync(archive).includes("hdrcharset=BINARY")).toBe(true);
    const result = await build(["--byte-names", "--tar", archive]);
    expect(result.stderr).toBe("");
    expect(latin1Names(result.tree)).toEqual(expected);
  });
});

/**
 * An archive written by Python's tarfile, members in the given order (any order, duplicates too,
 * which no directory can give GNU tar): [name, type ("0" file, "1" hard link, "2" symlink, "5"
 * directory, "6" FIFO), body or link target, mtime in seconds (default 1e9), PAX records].
 */
function pythonTar(
  name: string,
  format: "GNU_FORMAT" | "PAX_FORMAT",
  members: Array<[string, string, string?, number?, Record<string, string>?]>,
): string {
  const archive = join(scratch, name);
  run("python3", [
    "-c",
    `import io, json, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.${format}) as t:
    for name, kind, text, mtime, pax in json.loads(sys.argv[2]):
        info = tarfile.TarInfo(name); info.type = kind.encode(); info.mtime = mtime
        info.mode = 0o755 if kind == "5" else 0o644
        if pax: info.pax_headers = pax
        body = (text or "").encode()
        if kind == "0": info.size = len(body); t.addfile(info, io.BytesIO(body))
        else: info.linkname = text or ""; t.addfile(info)`,
    archive,
    JSON.stringify(
      members.map(([n, kind, text, mtime, pax]) => [n, kind, text ?? "", mtime ?? 1e9, pax ?? {}]),
    ),
  ]);
  return archive;
}

describe("members the image does not store: excluded, device nodes and FIFOs", () => {
  it("a hard link to an excluded member keeps the file under its other name, as -d does", async () => {
    const root = join(scratch, "excluded-link");
    run("sh", ["-c", 'mkdir -p "$1/x" && echo body > "$1/x/f" && ln "$1/x/f" "$1/g"', "-", root]);
    // GNU tar stores x/f with its bytes first, then g as a link to it.
    const archive = join(scratch, "excluded-link.tar");
    run("tar", ["--no-recursion", "-cf", archive, "-C", root, "x", "x/f", "g"]);
    const fromDirectory = (await build(["-d", root, "--exclude", "x"])).tree;
    expect(Buffer.from(fromDirectory?.children?.g?.data ?? "", "hex").toString()).toBe("body\n");
    const fromTar = await build(["--tar", archive, "--exclude", "x"]);
    expect(fromTar.stderr).toBe("");
    expect(fromTar.tree).toEqual(fromDirectory);
    // The same from a compressed layer, whose bodies are spooled rather than referenced in place.
    const gzipped = join(scratch, "excluded-link.tar.gz");
    writeFileSync(gzipped, gzipSync(readFileSync(archive)));
    expect((await build(["--tar", gzipped, "--exclude", "x"])).tree).toEqual(fromDirectory);
  });

  it("a FIFO replaces an earlier member of its path, and a hard link to it is skipped with it", async () => {
    const archive = pythonTar("fifo-later.tar", "GNU_FORMAT", [
      ["p", "0", "was a file"],
      ["p", "6"],
      ["h", "1", "p"],
      ["f", "0", "kept"],
    ]);
    const result = await build(["--tar", archive]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      `mkdaxfs: warning: skipping ${archive}: p: FIFO (DAXFS stores files, directories and symlinks only)\n` +
        `mkdaxfs: warning: skipping ${archive}: h: hard link to a FIFO (DAXFS stores files, directories and symlinks only)\n`,
    );
    expect(Object.keys(result.tree?.children ?? {})).toEqual(["f"]);
    const strict = await build(["--tar", archive, "--strict"]);
    expect([strict.code, strict.stderr]).toEqual([
      1,
      `mkdaxfs: ${archive}: p: FIFO cannot be stored in a DAXFS image\n`,
    ]);
  });
});

describe("whiteouts create nothing", () => {
  it("a whiteout under a directory no layer has, or inside a lower directory later whited out, leaves no directory behind", async () => {
    const lower = pythonTar("wh-lower.tar", "GNU_FORMAT", [
      ["a", "5"],
      ["a/old", "0", "o"],
      ["keep", "0", "k"],
    ]);
    for (const order of [
      ["nodir/.wh.q", "a/.wh.old", ".wh.a"],
      [".wh.a", "a/.wh.old", "nodir/.wh.q"],
    ]) {
      const upper = pythonTar(
        "wh-upper.tar",
        "GNU_FORMAT",
        order.map((name) => [name, "0"]),
      );
      const { stderr, tree } = await build(["--tar", lower, "--tar", upper]);
      expect(stderr).toBe("");
      expect(Object.keys(tree?.children ?? {})).toEqual(["keep"]);
    }
  });
});

describe("ACLs are extended attributes too (warned about, --strict fails)", () => {
  /** A POSIX access ACL (user 1000 may read) set through its xattr; false where the file system has no ACLs. */
  const setAcl = (path: string) =>
    spawnSync("python3", [
      "-c",
      `import os, struct, sys
entries = [(1, 6, 0xffffffff), (2, 4, 1000), (4, 4, 0xffffffff), (0x10, 4, 0xffffffff), (0x20, 4, 0xffffffff)]
os.setxattr(sys.argv[1], "system.posix_acl_access", struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries))`,
      path,
    ]).status === 0;
  const root = join(scratch, "acl");
  run("sh", ["-c", 'mkdir -p "$1" && echo x > "$1/f"', "-", root]);
  const aclsWork = setAcl(join(root, "f"));

  it.skipIf(!aclsWork)(
    "bsdtar's SCHILY.acl.access record (its only form of an ACL), as -d sees it",
    async () => {
      const archive = join(scratch, "acl-bsdtar.tar");
      run("bsdtar", ["--format=pax", "-cf", archive, "-C", root, "f"]);
      expect(readFileSync(archive).includes("SCHILY.acl.access")).toBe(true);
      expect(readFileSync(archive).includes("SCHILY.xattr.system.posix_acl_access")).toBe(false);
      const warning =
        "mkdaxfs: warning: 1 file has extended attributes (system.posix_acl_access), not stored\n";
      expect((await build(["--tar", archive])).stderr).toBe(warning);
      expect((await build(["-d", root])).stderr).toBe(warning);
      const strict = await build(["--tar", archive, "--strict"]);
      expect([strict.code, strict.stderr]).toEqual([
        1,
        `mkdaxfs: ${archive}: f: extended attribute system.posix_acl_access cannot be stored in a DAXFS image (--strict)\n`,
      ]);
    },
  );

  it("a hard link counts its file's attributes once more, as -d counts every name of a file", async () => {
    // GNU tar and bsdtar write the records on the file's first member only, none on the link.
    const archive = pythonTar("xattr-link.tar", "PAX_FORMAT", [
      ["f", "0", "x", 1e9, { "SCHILY.xattr.user.k": "v" }],
      ["g", "1", "f"],
    ]);
    expect((await build(["--tar", archive])).stderr).toBe(
      "mkdaxfs: warning: 2 files have extended attributes (user.k), not stored\n",
    );
  });

  it("a default ACL record on a directory (Python tarfile)", async () => {
    const archive = pythonTar("acl-default.tar", "PAX_FORMAT", [
      ["d", "5", "", 1e9, { "SCHILY.acl.default": "user::rwx,group::r-x,other::r-x,user:7:rwx,mask::rwx" }],
      ["constructor", "0", "", 1e9, { constructor: "x" }],
    ]);
    expect((await build(["--tar", archive])).stderr).toBe(
      "mkdaxfs: warning: 1 file has extended attributes (system.posix_acl_default), not stored\n",
    );
  });
});

describe("members under a symlink an earlier member made", () => {
  it("land in its target inside the image, as GNU tar extracts them and runtimes apply a merged-/usr layer", async () => {
    const base = join(scratch, "merged-usr");
    run("sh", [
      "-c",
      'mkdir -p "$1/usr/lib" "$1/usr/bin" && echo old > "$1/usr/lib/old" && ln -s usr/lib "$1/lib" && ln -s /usr/bin "$1/bin" && ln -s ../../.. "$1/up"',
      "-",
      base,
    ]);
    const upper = join(scratch, "merged-usr-upper");
    run("sh", [
      "-c",
      'mkdir -p "$1/lib/sub" "$1/bin" "$1/up/usr/lib" && echo new > "$1/lib/new" && : > "$1/lib/.wh.old" && echo d > "$1/lib/sub/deep" && echo t > "$1/bin/tool" && echo u > "$1/up/usr/lib/viaup"',
      "-",
      upper,
    ]);
    const lower = join(scratch, "merged-usr.tar");
    run("tar", ["-cf", lower, "-C", base, "."]);
    // The layer lists no member for lib/, bin/ or up/ themselves: the base's symlinks stay.
    const layer = join(scratch, "merged-usr-upper.tar");
    run("tar", [
      "--no-recursion",
      "-cf",
      layer,
      "-C",
      upper,
      "lib/new",
      "lib/.wh.old",
      "lib/sub",
      "lib/sub/deep",
      "bin/tool",
      "up/usr/lib/viaup",
    ]);
    const { stderr, tree } = await build(["--tar", lower, "--tar", layer]);
    expect(stderr).toBe("");
    // bin -> /usr/bin starts at the image root, up -> ../../.. stops there.
    expect(Object.keys(tree?.children?.usr?.children?.lib?.children ?? {}).sort()).toEqual([
      "new",
      "sub",
      "viaup",
    ]);
    expect(Object.keys(tree?.children?.usr?.children?.bin?.children ?? {})).toEqual(["tool"]);
    expect([tree?.children?.lib?.data, tree?.children?.bin?.data]).toEqual(["usr/lib", "/usr/bin"]);

    // One archive, as GNU tar extracts it: the member under s lands in d.
    const single = join(scratch, "through-symlink.tar");
    const source = join(scratch, "through-symlink");
    run("sh", ["-c", 'mkdir -p "$1/d" && ln -s d "$1/s" && echo x > "$1/x"', "-", source]);
    run("tar", ["--no-recursion", "--transform=s,^x$,s/x,", "-cf", single, "-C", source, "d", "s", "x"]);
    expect(run("tar", ["-tf", single]).toString()).toBe("d/\ns\ns/x\n");
    const extracted = join(scratch, "through-symlink-extracted");
    run("sh", ["-c", 'mkdir "$1" && tar -xf "$2" -C "$1"', "-", extracted, single]);
    const fromTar = (await build(["--tar", single])).tree;
    expect(Object.keys(fromTar?.children?.d?.children ?? {})).toEqual(["x"]);
    expect(fromTar).toEqual((await build(["-d", extracted])).tree);
  });

  it("a symlink that leads to no directory of the image, or loops, is one error line", async () => {
    const archive = pythonTar("bad-symlink-parents.tar", "GNU_FORMAT", [
      ["f", "0", "f"],
      ["tof", "2", "f"],
      ["dangling", "2", "nowhere"],
      ["loop", "2", "loop"],
    ]);
    for (const [member, why] of [
      ["tof", "a symlink to f, not a directory of the image"],
      ["dangling", "a symlink to nowhere, not a directory of the image"],
      ["loop", "a symlink to loop, a loop"],
    ]) {
      const layer = pythonTar(`under-${member}.tar`, "GNU_FORMAT", [[`${member}/x`, "0", "x"]]);
      const output = join(scratch, `under-${member}.img`);
      const result = await build(["--tar", archive, "--tar", layer], output);
      expect([result.code, result.stderr]).toEqual([
        1,
        `mkdaxfs: ${layer}: ${member}/x: ${member} is ${why}\n`,
      ]);
      expect(existsSync(output)).toBe(false);
    }
  });
});

describe("AUFS metadata in a layer (the reserved .wh..wh. prefix)", () => {
  it("is never stored, but its .wh..wh.plnk files stay hard-link targets, as moby reads them", async () => {
    const root = join(scratch, "aufs");
    run("sh", [
      "-c",
      'mkdir -p "$1/.wh..wh.plnk" "$1/.wh..wh.orph" "$1/usr" && echo shared > "$1/.wh..wh.plnk/123.456" && ln "$1/.wh..wh.plnk/123.456" "$1/usr/bin" && : > "$1/.wh..wh.aufs"',
      "-",
      root,
    ]);
    const archive = join(scratch, "aufs.tar");
    run("tar", [
      "--no-recursion",
      "-cf",
      archive,
      "-C",
      root,
      ".wh..wh.aufs",
      ".wh..wh.orph",
      ".wh..wh.plnk",
      ".wh..wh.plnk/123.456",
      "usr",
      "usr/bin",
    ]);
    const { stderr, tree } = await build(["--tar", archive]);
    expect(stderr).toBe("");
    expect(Object.keys(tree?.children ?? {})).toEqual(["usr"]);
    expect(Buffer.from(tree?.children?.usr?.children?.bin?.data ?? "", "hex").toString()).toBe("shared\n");
  });
});

describe("times a v5 mtime cannot hold", () => {
  const mtimeOf = (image: string, path: string) => {
    const view = DaxfsImage.open(FileImage.open(image)).view();
    return view.stat(view.resolve(path)).mtime;
  };
  it.each([
    ["GNU base-256", "GNU_FORMAT"],
    ["PAX", "PAX_FORMAT"],
  ] as const)(
    "before 1970 is stored as 0 and after 2262 as the latest time there is (%s)",
    async (_, format) => {
      // Python writes a GNU header's out-of-octal mtimes in base-256, a PAX one as an mtime record.
      const archive = pythonTar(`times-${format}.tar`, format, [
        ["old", "0", "", -1000],
        ["far", "0", "", 2 ** 36],
        ["now", "0", "", 1_700_000_000],
      ]);
      const image = join(scratch, `times-${format}.img`);
      const result = await build(["--tar", archive], image);
      expect([result.code, result.stderr]).toEqual([0, ""]);
      expect([mtimeOf(image, "/old"), mtimeOf(image, "/far"), mtimeOf(image, "/now")]).toEqual([
        0n,
        2n ** 63n - 1n,
        1_700_000_000_000_000_000n,
      ]);
    },
  );
});
