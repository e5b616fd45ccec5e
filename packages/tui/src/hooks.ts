// The App's effects as hooks: the terminal's size, the live refresh's poll, the branch mounts.
import { useStdin, useStdout } from "ink";
import { useEffect, useRef, useState } from "react";
import { splitKeys } from "./keymap.js";
import { branchMounts, type TargetPaths } from "./mounts.js";
import type { Session } from "./session.js";

/** The terminal's size, following resizes (80x24 when the output is not a terminal). */
export function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  });
  return size;
}

/**
 * Live refresh (issue 12 item 7): every `pollMs` the image's fingerprint is read; when it changed,
 * `onChange` runs (the App bumps its revision). 0 turns polling off.
 */
export function useLiveRefresh(session: Session, pollMs: number, onChange: () => void): void {
  useEffect(() => {
    if (pollMs <= 0 || !session.image) return;
    let last = session.fingerprint();
    const timer = setInterval(() => {
      const now = session.fingerprint();
      if (now !== last) {
        last = now;
        onChange();
      }
    }, pollMs);
    return () => clearInterval(timer);
  }, [session, pollMs, onChange]);
}

/** Where branches are mounted: read after the first screen and again whenever `revision` moves. */
export function useBranchMounts(
  session: Session,
  target: TargetPaths | undefined,
  revision: number,
): ReadonlyMap<string, string[]> {
  const [mounts, setMounts] = useState<ReadonlyMap<string, string[]>>(new Map());
  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is the live refresh's signal
  useEffect(() => {
    if (!target || !session.image) return;
    let current = true;
    branchMounts(target).then(
      (found) => current && setMounts(found),
      () => {}, // no mount table (another OS, a sandbox): no mount points shown
    );
    return () => {
      current = false;
    };
  }, [target, session, revision]);
  return mounts;
}

/**
 * Every key pressed, by name (keymap.ts splitKeys), in order: unlike Ink's useInput, which takes a
 * read of several keys for one unknown key, a burst (a held arrow key) moves once per key.
 */
export function useKeys(onKey: (name: string) => void): void {
  const { setRawMode, internal_eventEmitter: input } = useStdin();
  const latest = useRef(onKey);
  latest.current = onKey;
  useEffect(() => {
    setRawMode(true);
    return () => setRawMode(false);
  }, [setRawMode]);
  useEffect(() => {
    const onData = (data: string | Buffer) => {
      for (const name of splitKeys(String(data))) latest.current(name);
    };
    input.on("input", onData);
    return () => {
      input.removeListener("input", onData);
    };
  }, [input]);
}
