// A stand-in for a daxfs-fuse control channel (docs/branch.md): a Unix socket answering one JSON line per request.
import { createServer, type Server } from "node:net";

export interface FakeFuseServer {
  path: string;
  requests: string[];
  close(): Promise<void>;
}

/** `answer` maps an op to the reply object, or to a raw string sent as is (for protocol-error tests). */
export function startFakeFuseServer(
  path: string,
  answer: (op: string) => object | string,
): Promise<FakeFuseServer> {
  const requests: string[] = [];
  const server: Server = createServer((socket) => {
    let buffered = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      const newline = buffered.indexOf("\n");
      if (newline < 0) return;
      const { op } = JSON.parse(buffered.slice(0, newline)) as { op: string };
      requests.push(op);
      const reply = answer(op);
      if (typeof reply === "string") socket.end(reply);
      else socket.end(`${JSON.stringify(reply)}\n`);
    });
    socket.on("error", () => {});
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () =>
      resolve({
        path,
        requests,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    );
  });
}
