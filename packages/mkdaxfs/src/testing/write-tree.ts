// Test helper: materialise a build tree on the host file system (as root: exact owners and modes),
// so property tests can run the real scanner and CLI over it. Names and targets go to the host as
// their exact bytes (hostPath).
import { chmodSync, lchownSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { type BuildDir, type BuildNode, hostPath } from "@daxfs/core";

export function writeTreeToDisk(root: BuildDir, directory: string): void {
  const firstPath = new Map<BuildNode, string>();
  const attributes: Array<{ path: string; node: BuildNode }> = [];
  const pending: Array<{ dir: BuildDir; path: string }> = [{ dir: root, path: directory }];
  mkdirSync(directory, { recursive: true });
  while (pending.length > 0) {
    const { dir, path } = pending.pop() as { dir: BuildDir; path: string };
    attributes.push({ path, node: dir });
    for (const [name, node] of dir.children) {
      const child = `${path}/${name}`;
      const known = firstPath.get(node);
      if (known) {
        linkSync(hostPath(known), hostPath(child));
        continue;
      }
      firstPath.set(node, child);
      if (node.kind === "dir") {
        mkdirSync(hostPath(child));
        pending.push({ dir: node, path: child });
      } else if (node.kind === "symlink") {
        symlinkSync(hostPath(node.target), hostPath(child));
        attributes.push({ path: child, node });
      } else {
        writeFileSync(hostPath(child), node.content as Uint8Array);
        attributes.push({ path: child, node });
      }
    }
  }
  // Owners before modes (chown clears setuid/setgid), children before their directories.
  for (const { path, node } of attributes.reverse()) {
    lchownSync(hostPath(path), node.uid, node.gid);
    if (node.kind !== "symlink") chmodSync(hostPath(path), node.mode & 0o7777);
  }
}
