// One problem an image has, and the sinks the decoders report problems to. Every decoder of an
// on-media structure (geometry.ts, branch-record.ts, delta/rules.ts, base/base-super.ts) reports
// to a ProblemSink: a reader passes throwOnProblem() and stops at the first problem, the validator
// passes a ProblemLog, collects them all and adds the checks only it needs (as fsck.erofs calls
// the library's readers). The shape follows fsck.erofs: where, which field, what was expected,
// what was found; "unsupported" (EOPNOTSUPP: a version or feature we do not know) is told apart
// from "corrupt" (EUCLEAN).
import { CorruptImageError } from "./errors.js";
import { plural } from "./file-type.js";

export type ProblemKind = "corrupt" | "unsupported";

export interface Problem {
  /** Absolute byte offset of the offending field in the image. */
  offset: number;
  /** The structure instance, e.g. "superblock", "inode 7", "dirent 3[12]", "branch 2", "delta main@0xa000" (the entry's offset). */
  structure: string;
  /** The C field name (docs/format.md), or a derived property such as "nlink" or "range". */
  field: string;
  expected: string;
  actual: string;
  message: string;
  kind: ProblemKind;
}

export interface ValidationReport {
  /** At most `maxProblems` problems, in the order found (regions first, then base, branches, logs). */
  problems: Problem[];
  /** Problems found beyond the cap and not listed. */
  omitted: number;
  /** What was checked, for summaries and the benchmark. */
  stats: ValidationStats;
}

export interface ValidationStats {
  inodes: number;
  directoryEntries: number;
  branches: number;
  deltaEntries: number;
}

export const DEFAULT_MAX_PROBLEMS = 1000;

/** Where decoders report what they find wrong. */
export interface ProblemSink {
  add(problem: Problem): void;
}

/**
 * The readers' sink: the first problem throws a CorruptImageError naming `where` (the image) and
 * the problem, at the offending field's offset. Decoders never continue past a call to it.
 */
export function throwOnProblem(where: string): ProblemSink {
  return {
    add(problem: Problem): never {
      throw new CorruptImageError(`${where}: ${problem.message}`, problem.offset);
    },
  };
}

/** Collects problems up to a cap; past it, only counts them, so a hostile image cannot exhaust memory. */
export class ProblemLog implements ProblemSink {
  readonly problems: Problem[] = [];
  omitted = 0;

  constructor(readonly maxProblems = DEFAULT_MAX_PROBLEMS) {}

  add(problem: Problem): void {
    if (this.problems.length < this.maxProblems) this.problems.push(problem);
    else this.omitted++;
  }

  corrupt(
    offset: number,
    structure: string,
    field: string,
    expected: string,
    actual: string,
    message: string,
  ): void {
    this.add({ offset, structure, field, expected, actual, message, kind: "corrupt" });
  }

  get count(): number {
    return this.problems.length + this.omitted;
  }
}

/**
 * "STRUCTURE at 0xOFF: FIELD: expected X, got Y (message)": one problem, the field's image offset
 * in hex as info's region map shows offsets (docs/cli.md "Numbers"), where the image is already
 * named (the TUI's validate screen, a daxfs-fuse error line). One argument, so `.map(formatProblem)`
 * stays right.
 */
export function formatProblem(problem: Problem): string {
  // A log entry's structure already names its offset ("delta main@0x1b321"): say it once.
  const at = hex(problem.offset);
  const where = problem.structure.endsWith(`@${at}`) ? problem.structure : `${problem.structure} at ${at}`;
  return `${where}: ${problem.field}: expected ${problem.expected}, got ${problem.actual} (${problem.message})`;
}

/** "IMAGE: STRUCTURE at 0xOFF: ...", the validator's line per problem (docs/inspect.md "validate"). */
export function problemLine(problem: Problem, image: string): string {
  return `${image}: ${formatProblem(problem)}`;
}

/** "checked 7 inodes, 6 directory entries, 1 branch, 3 log entries": what a validation covered. */
export function validationStatsText(stats: ValidationStats): string {
  return `checked ${plural(stats.inodes, "inode")}, ${plural(stats.directoryEntries, "directory entry", "directory entries")}, ${plural(stats.branches, "branch", "branches")}, ${plural(stats.deltaEntries, "log entry", "log entries")}`;
}

export function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}
