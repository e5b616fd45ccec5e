import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { notifyPeers } from "./control.js";

const dir = mkdtempSync(join(tmpdir(), "daxfs-control-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("notifyPeers", () => {
  it("removes sockets nobody listens on (left by killed processes) and keeps live ones", async () => {
    // A socket file whose process is gone: bound, never listened on, the process exited.
    const stale = join(dir, "stale.sock");
    const bound = spawnSync("python3", [
      "-c",
      "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])",
      stale,
    ]);
    expect(bound.status).toBe(0);
    expect(existsSync(stale)).toBe(true);
    // A live peer answers {"op":"changed"} as a daxfs-fuse process does.
    const live = join(dir, "live.sock");
    const asked: string[] = [];
    const server = createServer((socket) => {
      socket.setEncoding("utf8");
      socket.on("data", (line: string) => {
        asked.push(line.trim());
        socket.write(`${JSON.stringify({ ok: true })}\n`);
      });
    });
    await new Promise<void>((ok) => server.listen(live, ok));
    try {
      await notifyPeers(join(dir, "ours.sock"));
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(live)).toBe(true);
      expect(asked).toEqual(['{"op":"changed"}']);
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });
});
