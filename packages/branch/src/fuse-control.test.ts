import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  controlSocketName,
  controlSocketPaths,
  FuseControlError,
  FuseControlUnreachable,
  fuseControl,
  fuseInfo,
} from "./fuse-control.js";
import { type FakeFuseServer, startFakeFuseServer } from "./test-support/fake-fuse-server.js";

let dir: string;
let servers: FakeFuseServer[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "daxfs-ctl-"));
  servers = [];
});
afterEach(async () => {
  for (const server of servers) await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(name: string, answer: (op: string) => object | string): Promise<FakeFuseServer> {
  const server = await startFakeFuseServer(join(dir, name), answer);
  servers.push(server);
  return server;
}

const info = {
  ok: true,
  image: "/img/a.daxfs",
  branch: "feature",
  parent: "main",
  writable: true,
  pid: 4242,
};

describe("control socket naming", () => {
  it("uses the first 16 hex digits of sha256 of the mount point's realpath", () => {
    const real = realpathSync(dir);
    const expected = `${createHash("sha256").update(real).digest("hex").slice(0, 16)}.sock`;
    expect(controlSocketName(dir)).toBe(expected);
    expect(controlSocketName(`${dir}/.`)).toBe(expected);
    expect(controlSocketPaths(dir)[0]).toBe(`/run/daxfs-fuse/${expected}`);
    expect(controlSocketPaths(dir)[1]).toBe(join(tmpdir(), "daxfs-fuse", expected));
  });
});

describe("fuseControl", () => {
  it("sends one JSON request line and returns the info reply", async () => {
    const server = await serve("a.sock", () => info);
    const reply = await fuseInfo("/mnt/x", { socketPaths: [server.path] });
    expect(reply).toEqual({
      image: "/img/a.daxfs",
      branch: "feature",
      parent: "main",
      writable: true,
      pid: 4242,
    });
    expect(server.requests).toEqual(["info"]);
  });

  it("treats an empty parent as none and passes a server's branchPath through", async () => {
    const server = await serve("a.sock", () => ({
      ...info,
      branch: "main",
      parent: "",
      writable: false,
      branchPath: "/main",
    }));
    expect(await fuseInfo("/mnt/x", { socketPaths: [server.path] })).toMatchObject({
      parent: null,
      branchPath: "/main",
    });
  });

  it("turns an ok:false reply into a FuseControlError with the server's errno and message", async () => {
    const server = await serve("a.sock", () => ({
      ok: false,
      errno: "ESTALE",
      message: "branch was invalidated",
    }));
    const err = await fuseControl("/mnt/x", "commit", { socketPaths: [server.path] }).catch((e) => e);
    expect(err).toBeInstanceOf(FuseControlError);
    expect(err).toMatchObject({ code: "ESTALE", message: "branch was invalidated" });
    expect(server.requests).toEqual(["commit"]);
  });

  it("tries the next socket path when one is missing or stale", async () => {
    // A socket file nobody listens on any more (its server was SIGKILLed): connecting gives ECONNREFUSED.
    const stale = join(dir, "stale.sock");
    const child = spawn(process.execPath, [
      "-e",
      `require("net").createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, "SIGKILL"))`,
    ]);
    await new Promise((resolve) => child.on("exit", resolve));
    expect(existsSync(stale)).toBe(true);
    const server = await serve("b.sock", () => ({
      ok: true,
      image: "/i",
      branch: "b",
      parent: "main",
      writable: true,
      pid: 1,
    }));
    const reply = await fuseControl("/mnt/x", "abort", {
      socketPaths: [join(dir, "missing.sock"), stale, server.path],
    });
    expect(reply.ok).toBe(true);
    expect(server.requests).toEqual(["abort"]);
  });

  it("reports FuseControlUnreachable with every path tried when nothing answers", async () => {
    const paths = [join(dir, "none1.sock"), join(dir, "none2.sock")];
    const err = await fuseControl("/mnt/gone", "info", { socketPaths: paths }).catch((e) => e);
    expect(err).toBeInstanceOf(FuseControlUnreachable);
    expect(err.message).toContain("/mnt/gone");
    expect(err.message).toContain(paths[1]);
    expect(err.code).toBe("ENOENT");
  });

  it("rejects a reply that is not JSON, one that never comes, and an info without its fields", async () => {
    const garbage = await serve("g.sock", () => "not json\n");
    await expect(fuseControl("/m", "info", { socketPaths: [garbage.path] })).rejects.toThrow(
      /EPROTO|bad reply/,
    );
    const silent = await serve("s.sock", () => "");
    await expect(fuseControl("/m", "info", { socketPaths: [silent.path] })).rejects.toThrow(
      /EPROTO|without a reply/,
    );
    const partial = await serve("p.sock", () => ({ ok: true, branch: "x" }));
    await expect(fuseInfo("/m", { socketPaths: [partial.path] })).rejects.toThrow(/lacks image/);
  });

  it("times out on a server that accepts and never answers", async () => {
    const path = join(dir, "mute.sock");
    const mute = createServer(() => {});
    await new Promise<void>((resolve) => mute.listen(path, () => resolve()));
    try {
      const err = await fuseControl("/m", "info", { socketPaths: [path], timeoutMs: 200 }).catch((e) => e);
      expect(err).toBeInstanceOf(FuseControlUnreachable);
      expect(err.code).toBe("ETIMEDOUT");
    } finally {
      mute.close();
    }
  });
});
