/**
 * Client of the control channel every daxfs-fuse process serves (docs/branch.md, "FUSE control channel"):
 * a Unix socket named after the mount point, speaking newline-delimited JSON. One request per connection:
 *   {"op":"info"|"commit"|"abort"}  ->  {"ok":true, image, branch, parent, writable, pid}
 *                                   or  {"ok":false, "errno":"ESTALE", "message":"..."}
 */
import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type FuseControlOp = "info" | "commit" | "abort";

/** What a daxfs-fuse process says about its mount. */
export interface FuseMountInfo {
  /** Path of the image file it serves. */
  image: string;
  /** Mounted branch name ("main" for a main mount). */
  branch: string;
  /** Parent branch name; "" or null for main. */
  parent: string | null;
  writable: boolean;
  pid: number;
  /** "/main/a/b" when the server sends it (optional extension). */
  branchPath?: string;
  /** Why the branch can no longer be used, when it was invalidated (optional extension). */
  stale?: string;
}

/** The server refused the request (it answered {"ok":false}). */
export class FuseControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "FuseControlError";
  }
}

/** No server answered on any socket path for the mount (process gone, or not a daxfs-fuse mount). */
export class FuseControlUnreachable extends Error {
  constructor(
    readonly mountPoint: string,
    readonly tried: string[],
    readonly code: string,
  ) {
    super(`cannot reach the daxfs-fuse process for '${mountPoint}' (${code}; tried ${tried.join(", ")})`);
    this.name = "FuseControlUnreachable";
  }
}

/** Directories the server may use, in the order it tries them: /run/daxfs-fuse, then $TMPDIR/daxfs-fuse. */
export function controlSocketDirs(): string[] {
  return ["/run/daxfs-fuse", join(tmpdir(), "daxfs-fuse")];
}

/** `<first 16 hex digits of sha256(realpath(MNT))>.sock` (realpath failing: the path as given). */
export function controlSocketName(mountPoint: string): string {
  let real = mountPoint;
  try {
    real = realpathSync(mountPoint);
  } catch {
    // A vanished mount point still names its socket by the path the caller had.
  }
  return `${createHash("sha256").update(real).digest("hex").slice(0, 16)}.sock`;
}

export function controlSocketPaths(mountPoint: string): string[] {
  const name = controlSocketName(mountPoint);
  return controlSocketDirs().map((dir) => join(dir, name));
}

export interface FuseControlOptions {
  /** Give up on a server that does not answer within this many milliseconds (default 10 s; commit can be slow). */
  timeoutMs?: number;
  /** Socket paths to try instead of the standard ones (tests). */
  socketPaths?: string[];
}

type Reply = Record<string, unknown>;

/** Sends one request to the socket; resolves with the parsed reply line. */
function requestOnce(socketPath: string, op: FuseControlOp, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let received = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`no reply within ${timeoutMs} ms`), { code: "ETIMEDOUT" }));
    }, timeoutMs);
    const finish = (err: Error | null, reply?: Reply) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(reply as Reply);
    };
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${JSON.stringify({ op })}\n`));
    socket.on("data", (chunk: string) => {
      received += chunk;
      const newline = received.indexOf("\n");
      if (newline < 0) return;
      try {
        const reply = JSON.parse(received.slice(0, newline)) as unknown;
        if (typeof reply !== "object" || reply === null) throw new Error("reply is not a JSON object");
        finish(null, reply as Reply);
      } catch (err) {
        finish(
          Object.assign(new Error(`bad reply from ${socketPath}: ${(err as Error).message}`), {
            code: "EPROTO",
          }),
        );
      }
    });
    socket.on("end", () =>
      finish(Object.assign(new Error("connection closed without a reply"), { code: "EPROTO" })),
    );
    socket.on("error", (err) => finish(err));
  });
}

/**
 * Sends `op` to the daxfs-fuse process serving `mountPoint`, trying each socket path in turn while the socket is
 * absent or refuses connections. Throws FuseControlError when the server answers {"ok":false}, and
 * FuseControlUnreachable when no socket answers.
 */
export async function fuseControl(
  mountPoint: string,
  op: FuseControlOp,
  options: FuseControlOptions = {},
): Promise<Reply> {
  const paths = options.socketPaths ?? controlSocketPaths(mountPoint);
  const timeoutMs = options.timeoutMs ?? 10_000;
  let lastCode = "ENOENT";
  for (const path of paths) {
    let reply: Reply;
    try {
      reply = await requestOnce(path, op, timeoutMs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "EIO";
      // Absent or stale socket: the server may be listening on the next path. Anything else is this server's answer.
      if (code === "ENOENT" || code === "ECONNREFUSED" || code === "ENOTSOCK") {
        lastCode = code;
        continue;
      }
      throw new FuseControlUnreachable(mountPoint, [path], code);
    }
    if (reply.ok === true) return reply;
    const code = typeof reply.errno === "string" ? reply.errno : "EIO";
    const message = typeof reply.message === "string" ? reply.message : `${op} refused`;
    throw new FuseControlError(code, message);
  }
  throw new FuseControlUnreachable(mountPoint, paths, lastCode);
}

/** The `info` request, checked for the fields the tools rely on. */
export async function fuseInfo(mountPoint: string, options: FuseControlOptions = {}): Promise<FuseMountInfo> {
  const reply = await fuseControl(mountPoint, "info", options);
  const { image, branch, parent, writable, pid, branchPath, stale } = reply;
  if (typeof image !== "string" || typeof branch !== "string" || typeof writable !== "boolean") {
    throw new FuseControlError("EPROTO", `info reply for '${mountPoint}' lacks image, branch or writable`);
  }
  return {
    image,
    branch,
    parent: typeof parent === "string" && parent !== "" ? parent : null,
    writable,
    pid: typeof pid === "number" ? pid : 0,
    ...(typeof branchPath === "string" ? { branchPath } : {}),
    ...(typeof stale === "string" ? { stale } : {}),
  };
}
