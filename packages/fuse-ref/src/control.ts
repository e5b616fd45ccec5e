// The control channel of a daxfs-fuse mount (docs/fuse.md): FUSE has no remount,commit, so each
// process listens on a Unix socket named after its mount point and takes newline-delimited JSON
// requests {"op":"info"|"commit"|"abort"}, answering {"ok":true,...info} or
// {"ok":false,"errno":"ESTALE","message":"..."}. {"op":"changed"} is what a process that just
// committed sends every other daxfs-fuse process before it answers its own client, so that a main
// mount drops the kernel's cached names first (kernel-cache.ts) and shows the commit at once.
import { createHash } from "node:crypto";
import { accessSync, constants, mkdirSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { DaxfsError, isDaxfsError } from "@daxfs/core";
import type { BranchFs } from "./branch-fs.js";

const RUN_DIR = "/run/daxfs-fuse";

/** `/run/daxfs-fuse/<first 16 hex of sha256(realpath(MNT))>.sock`, or under $TMPDIR if /run is not writable. */
export function controlSocketPath(mountpoint: string): string {
  const id = createHash("sha256").update(canonicalMountpoint(mountpoint)).digest("hex").slice(0, 16);
  for (const dir of [RUN_DIR, join(process.env.TMPDIR ?? tmpdir(), "daxfs-fuse")]) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      accessSync(dir, constants.W_OK);
      return join(dir, `${id}.sock`);
    } catch {}
  }
  throw new Error(`cannot create a directory for the control socket of ${mountpoint}`);
}

/**
 * realpath(MNT). A mount of an invalidated branch answers ESTALE even to lstat of its root, so
 * then the parent directory is resolved instead and the last component appended.
 */
export function canonicalMountpoint(mountpoint: string): string {
  try {
    return realpathSync(mountpoint);
  } catch {
    return join(realpathSync(dirname(resolve(mountpoint))), basename(resolve(mountpoint)));
  }
}

export interface ControlReply {
  ok: boolean;
  [key: string]: unknown;
}

export function handleControlRequest(fs: BranchFs, line: string): ControlReply {
  let op: unknown;
  try {
    op = (JSON.parse(line) as { op?: unknown }).op;
  } catch {
    return { ok: false, errno: "EINVAL", message: "request is not JSON" };
  }
  try {
    if (op === "commit") fs.commit();
    else if (op === "abort") fs.abort();
    else if (op !== "info")
      return { ok: false, errno: "EINVAL", message: `unknown op ${JSON.stringify(op)}` };
    return { ok: true, ...fs.info() };
  } catch (error) {
    if (isDaxfsError(error)) return { ok: false, errno: error.code, message: error.message };
    return { ok: false, errno: "EIO", message: error instanceof Error ? error.message : String(error) };
  }
}

export interface ControlHooks {
  /** Another process committed: check whether the served tree moved (resolves when handled). */
  changed(): Promise<void>;
}

/** How long a committer waits for one peer's answer to "changed". */
const PEER_TIMEOUT_MS = 1000;

/**
 * Tells every other daxfs-fuse process (the sockets beside ours) that main may have changed and
 * waits for their answers. A socket left by a killed process refuses the connection (no process
 * listens on it) and is removed, so the directory does not keep every socket ever made.
 */
export async function notifyPeers(socketPath: string): Promise<void> {
  const dir = dirname(socketPath);
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith(".sock"));
  } catch {
    return;
  }
  await Promise.all(
    names
      .map((name) => join(dir, name))
      .filter((path) => path !== socketPath)
      .map((path) =>
        controlRequest(path, "changed", PEER_TIMEOUT_MS).catch((error: NodeJS.ErrnoException) => {
          if (error.code === "ECONNREFUSED") rmSync(path, { force: true });
        }),
      ),
  );
}

async function answer(
  fs: BranchFs,
  line: string,
  socketPath: string,
  hooks: ControlHooks,
): Promise<ControlReply> {
  let op: unknown;
  try {
    op = (JSON.parse(line) as { op?: unknown }).op;
  } catch {
    op = undefined;
  }
  if (op === "changed") {
    await hooks.changed();
    return { ok: true };
  }
  const reply = handleControlRequest(fs, line);
  if (op === "commit" && reply.ok) await notifyPeers(socketPath);
  return reply;
}

/** Whether a process answers on `socketPath` (a live daxfs-fuse), as opposed to a stale file or none. */
function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Listens on `socketPath`; a stale socket file left by a killed process is replaced, a live one
 * (another daxfs-fuse serving this mount point) is an EBUSY error and stays as it is.
 */
export async function startControlServer(
  fs: BranchFs,
  socketPath: string,
  hooks: ControlHooks,
): Promise<Server> {
  if (await socketAnswers(socketPath))
    throw new DaxfsError("EBUSY", `${socketPath}: control socket in use by a running daxfs-fuse`);
  rmSync(socketPath, { force: true });
  const server = createServer((socket: Socket) => {
    let pending = "";
    // One request at a time per connection, answered in order.
    let replies = Promise.resolve();
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      pending += chunk;
      for (let cut = pending.indexOf("\n"); cut >= 0; cut = pending.indexOf("\n")) {
        const line = pending.slice(0, cut).trim();
        pending = pending.slice(cut + 1);
        if (line)
          replies = replies
            .then(() => answer(fs, line, socketPath, hooks))
            .then((reply) => void socket.write(`${JSON.stringify(reply)}\n`));
      }
    });
    socket.on("error", () => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve(server));
  });
}

/** Client side (used by tests and tools): one request, one reply (ETIMEDOUT after `timeoutMs`). */
export function controlRequest(
  socketPath: string,
  op: "info" | "commit" | "abort" | "changed",
  timeoutMs?: number,
): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    if (timeoutMs !== undefined)
      socket.setTimeout(timeoutMs, () => {
        socket.destroy();
        reject(Object.assign(new Error(`${socketPath}: no answer`), { code: "ETIMEDOUT" }));
      });
    let received = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${JSON.stringify({ op })}\n`));
    socket.on("data", (chunk: string) => {
      received += chunk;
      const cut = received.indexOf("\n");
      if (cut >= 0) {
        socket.end();
        resolve(JSON.parse(received.slice(0, cut)) as ControlReply);
      }
    });
    socket.on("error", reject);
  });
}
