// Everything the screens show, derived from the session and the state with one useMemo per item,
// each recomputed only when its inputs or the live revision change; reads are lazy (a log, a diff
// or a validation only while its screen is open).
import { type BranchRecord, deltaTypeName } from "@daxfs/core";
import { BranchState } from "@daxfs/format";
import { branchLabel, stateName } from "@daxfs/inspect";
import { useMemo } from "react";
import { fileRows, ownChanges, removedNames } from "./derive.js";
import { changeContent } from "./line-diff.js";
import { previewOf } from "./preview.js";
import { load, type Session } from "./session.js";
import type { State } from "./state.js";

/** The branch the file pane views: its name, or why it cannot be viewed. */
function viewable(record: BranchRecord | undefined, staticImage: boolean): { name?: string; why?: string } {
  if (staticImage || !record) return { name: "main" };
  if (record.state !== BranchState.ACTIVE)
    return {
      why: `branch ${branchLabel(record)} is ${stateName(record.state)} (ESTALE): its files are no longer viewable`,
    };
  return { name: record.name };
}

export function useAppData(session: Session, state: State, screenSize: { columns: number; rows: number }) {
  const rev = state.revision;
  const { columns, rows: termRows } = screenSize;
  // biome-ignore lint/correctness/useExhaustiveDependencies: rev is the live refresh's signal
  const summaryRead = useMemo(() => load(() => session.summary()), [session, rev]);
  const summary = summaryRead.ok ? summaryRead.value : null;
  // biome-ignore lint/correctness/useExhaustiveDependencies: rev is the live refresh's signal
  const branchRead = useMemo(() => load(() => session.branchRows()), [session, rev]);
  const branchRows = branchRead.ok ? branchRead.value : [];
  // What stops the image-wide reads (a branch table or superblock damaged since the open). The
  // branch table's own error first: the summary reads the table too (leases, space in use) and
  // its error names the image, which the header already shows.
  const imageError = !branchRead.ok ? branchRead.error : !summaryRead.ok ? summaryRead.error : undefined;
  const branchKeys = branchRows.map((r) => String(r.record.id));
  const branchKey =
    state.selected.branches !== undefined && branchKeys.includes(state.selected.branches)
      ? state.selected.branches
      : String((branchRows.find((r) => r.record.name === "main") ?? branchRows[0])?.record.id ?? "");
  const record = branchRows.find((r) => String(r.record.id) === branchKey)?.record;
  const staticImage = summary?.mode === "static";
  // A static image has no branch pane: its files have the focus.
  const focus = staticImage && state.focus === "branches" ? "files" : state.focus;
  const target = session.image
    ? viewable(record, staticImage)
    : { why: `the image does not open: ${session.openError}` };
  const branch = target.name;

  // The branch's own log: marks for what it changed and rows for what it deleted (main: none).
  const parentName = record
    ? branchRows.find((r) => r.record.id === record.parentId)?.record.name
    : undefined;
  // biome-ignore lint/correctness/useExhaustiveDependencies: rev is the live refresh's signal
  const ownLog = useMemo(() => {
    if (branch === undefined || !record || record.parentId === 0) return [];
    const log = load(() => session.branchLog(record));
    return log.ok ? log.value.entries : [];
  }, [session, branch, record?.id, record?.logSize, rev]);
  const marks = useMemo(() => ownChanges(ownLog), [ownLog]);
  const removed = useMemo(
    () => (parentName ? removedNames(ownLog, parentName) : undefined),
    [ownLog, parentName],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: rev is the live refresh's signal
  const files = useMemo(
    () =>
      branch === undefined
        ? undefined
        : load(() => fileRows(session, branch, state.expanded, state.search, removed)),
    [session, branch, state.expanded, state.search, removed, rev],
  );
  const fileList = files?.ok ? files.value : [];
  const fileKeys = fileList.map((r) => r.path);
  const file = fileList.find((r) => r.path === state.selected.files) ?? fileList[0];

  const body = Math.max(6, termRows - 2);
  // The title and a line a branch; when no branch decodes, room for the message saying why (it wraps).
  const branchLines = branchRows.length > 0 ? branchRows.length : imageError ? 3 : 1;
  const branchHeight = Math.min(branchLines + 1, Math.max(3, Math.floor(body / 3)));
  const lowerHeight = body - (staticImage ? 0 : branchHeight);
  const filesWidth = Math.max(24, Math.floor(columns * 0.4));
  const previewWidth = columns - filesWidth - 1;

  // biome-ignore lint/correctness/useExhaustiveDependencies: rev is the live refresh's signal
  const preview = useMemo(() => {
    if (branch === undefined || !file) return undefined;
    return load(() =>
      previewOf(
        session,
        { branch: file.removedFrom ?? branch, ino: file.ino, path: file.path },
        state.preview,
        lowerHeight - 2,
        previewWidth,
      ),
    );
  }, [
    session,
    branch,
    file?.ino,
    file?.path,
    file?.removedFrom,
    state.preview,
    lowerHeight,
    previewWidth,
    rev,
  ]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: rev is the live refresh's signal
  const log = useMemo(() => {
    if (state.screen !== "log" || !record) return undefined;
    return load(() => session.branchLog(record));
  }, [session, state.screen, record?.id, record?.logSize, rev]);
  const logEntries = (log?.ok ? log.value.entries : []).filter(
    (e) =>
      (state.logType === "" || deltaTypeName(e.type) === state.logType) &&
      (state.logIno === null || e.ino === state.logIno),
  );
  const logEntry = logEntries.find((e) => String(e.offset) === state.selected.log) ?? logEntries[0];

  // biome-ignore lint/correctness/useExhaustiveDependencies: rev is the live refresh's signal
  const diff = useMemo(() => {
    if (state.screen !== "diff" || branch === undefined) return undefined;
    // A branch is never diffed against itself: that pair falls back to the parent.
    const against = state.diffAgainst === branch ? undefined : state.diffAgainst;
    return load(() => session.diff(branch, against));
  }, [session, state.screen, branch, state.diffAgainst, rev]);
  const changes = diff?.ok ? diff.value.changes : [];
  const change = changes.find((c) => c.path === state.selected.diff) ?? changes[0];
  // biome-ignore lint/correctness/useExhaustiveDependencies: rev is the live refresh's signal
  const diffContent = useMemo(
    () => (diff?.ok && change ? changeContent(session, diff.value, change) : []),
    [session, diff, change, rev],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: rev is the live refresh's signal
  const report = useMemo(
    () => (state.screen === "validate" ? session.validate() : undefined),
    [session, state.screen, rev],
  );
  const problemKeys = (report?.problems ?? []).map((_, i) => String(i));

  return {
    summary,
    parentName,
    imageError,
    branchRows,
    branchKeys,
    branchKey,
    record,
    staticImage,
    focus,
    target,
    branch,
    marks,
    files,
    fileList,
    fileKeys,
    file,
    body,
    branchHeight,
    lowerHeight,
    filesWidth,
    preview,
    log,
    logEntries,
    logEntry,
    diff,
    changes,
    change,
    diffContent,
    report,
    problemKeys,
  };
}
