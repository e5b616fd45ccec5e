// Names that are not UTF-8 through daxfs-fuse (docs/fuse.md "Names"). With the patched binding
// scripts/setup.sh compiles, a real mount lists, opens, creates and renames them with their exact
// bytes; with fuse-native's prebuild they are hidden and refused with EILSEQ, never served as
// another name (checked on the operation table, which is all that differs).
import * as fs from "node:fs";
import { buildImage, DaxfsImage, decodeName, ERRNO_NUMBER, encodeName, MemoryImage } from "@daxfs/core";
import Fuse from "fuse-native";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BranchFs } from "../src/branch-fs.js";
import { fuseOperations } from "../src/fuse-ops.js";
import { dir, errno, FuseHarness, file, type RunningMount, symlink } from "../src/testing/index.js";

const bytes = (...values: number[]) => decodeName(Uint8Array.from(values));
/** A host path with raw bytes: MNT + "/" + the name's exact bytes. */
const raw = (mnt: string, name: string) => Buffer.concat([Buffer.from(`${mnt}/`), encodeName(name)]);
const latin1 = (name: string) => Buffer.from(encodeName(name)).toString("latin1");
const passesBytes = Fuse.passesBytes === true;

const tree = () =>
  dir({
    [bytes(0x66, 0xfe)]: file("first"),
    [bytes(0x66, 0xff)]: file("second"),
    "f\ufffd": file("a real U+FFFD"),
    café: file("utf-8"),
    "bad-link": symlink(bytes(0x74, 0xe9)),
  });

it("setup compiled the patched binding (CI)", () => {
  // scripts/setup.sh --all installs gcc, so CI must run the byte tests below, not skip them.
  if (process.env.CI !== "true") return;
  expect(passesBytes).toBe(true);
});

describe.runIf(passesBytes)("daxfs-fuse with the patched binding: names are bytes", () => {
  const harness = new FuseHarness();
  let image: string;
  let mount: RunningMount;
  let mnt: string;
  beforeAll(async () => {
    image = harness.image(tree());
    mount = await harness.mount(image, ["--branch", "dev", "--parent", "main"]);
    mnt = mount.mountpoint;
  });
  afterAll(() => harness.cleanup());

  it("lists and opens every name by its exact bytes", () => {
    expect(
      fs
        .readdirSync(mnt, { encoding: "buffer" })
        .map((name) => name.toString("latin1"))
        .sort(),
    ).toEqual(["bad-link", "caf\xc3\xa9", "f\xef\xbf\xbd", "f\xfe", "f\xff"]);
    expect(fs.readFileSync(raw(mnt, bytes(0x66, 0xfe)), "utf8")).toBe("first");
    expect(fs.readFileSync(raw(mnt, bytes(0x66, 0xff)), "utf8")).toBe("second");
    expect(fs.readFileSync(`${mnt}/f\ufffd`, "utf8")).toBe("a real U+FFFD");
    expect(fs.readlinkSync(`${mnt}/bad-link`, { encoding: "buffer" }).toString("latin1")).toBe("t\xe9");
    expect(errno(() => fs.statSync(raw(mnt, bytes(0x66, 0xfd))))).toBe("ENOENT");
  });

  it("creates, renames and links under such names", () => {
    fs.writeFileSync(raw(mnt, bytes(0x67, 0xfe)), "created");
    fs.mkdirSync(raw(mnt, bytes(0x64, 0xe9)));
    fs.symlinkSync(Buffer.from([0x66, 0xff]), raw(mnt, bytes(0x6c, 0x80)));
    fs.renameSync(`${mnt}/café`, raw(mnt, bytes(0x64, 0xe9, 0x2f, 0x63, 0xe9)));
    expect(fs.readFileSync(raw(mnt, bytes(0x6c, 0x80)), "utf8")).toBe("second"); // through the link
    expect(fs.readdirSync(raw(mnt, bytes(0x64, 0xe9)), { encoding: "buffer" })[0]?.toString("latin1")).toBe(
      "c\xe9",
    );
  });

  it("leaves exactly those bytes in the image", async () => {
    expect(await mount.stop()).toBe(0);
    // The branch was dropped at unmount; re-mounting is not needed: its log was read live above.
    const view = DaxfsImage.openFile(image).view("main");
    expect(
      view
        .readdir(view.rootIno)
        .map((entry) => latin1(entry.name))
        .sort(),
    ).toEqual(["bad-link", "caf\xc3\xa9", "f\xef\xbf\xbd", "f\xfe", "f\xff"]);
  });
});

describe("daxfs-fuse with fuse-native's prebuild: names that are not UTF-8 are refused, never mangled", () => {
  // A writable branch over an in-memory image: the table is what a prebuild mount would call.
  const branchFs = BranchFs.open(
    new MemoryImage(buildImage(tree(), { branching: true, deltaSize: 8 << 20 })),
    {
      branch: "dev",
      parent: "main",
    },
  );
  afterAll(() => branchFs.close());
  const table = fuseOperations(branchFs, () => {}, false) as unknown as Record<
    string,
    (...a: unknown[]) => void
  >;
  // The prebuild hands paths over as UTF-8 strings with U+FFFD for the bytes it could not decode.
  const call = (operation: string, ...args: unknown[]) =>
    new Promise<unknown[]>((done) => table[operation]?.(...args, (...reply: unknown[]) => done(reply)));

  it("lists only names the prebuild passes exactly", async () => {
    const [status, names] = await call("readdir", "/");
    expect(status).toBe(0);
    expect(names).toEqual([".", "..", "bad-link", "café"]);
  });

  it("answers EILSEQ for a path or target that lost bytes, and for a target that is not UTF-8", async () => {
    const EILSEQ = -ERRNO_NUMBER.EILSEQ;
    expect((await call("getattr", "/f\ufffd"))[0]).toBe(EILSEQ); // f\xfe, f\xff and the real one alike
    expect((await call("readlink", "/bad-link"))[0]).toBe(EILSEQ);
    expect((await call("create", "/g\ufffd", 0o644))[0]).toBe(EILSEQ);
    expect((await call("symlink", "t\ufffd", "/l"))[0]).toBe(EILSEQ);
    expect((await call("rename", "/café", "/c\ufffd"))[0]).toBe(EILSEQ);
    expect((await call("getattr", "/café"))[0]).toBe(0);
  });
});
