// Extended attributes, which DAXFS v5 cannot store (no field for them; docs/mkdaxfs.md). Dropping
// security.capability silently would leave e.g. ping without its capability in the image, so the
// builder counts the files that carry any and warns once, or with --strict refuses the first.
import { DaxfsError } from "@daxfs/core";

/** How many names a warning lists before "...". */
const NAMES_SHOWN = 3;

export class XattrCensus {
  private files = 0;
  private readonly names = new Set<string>();

  constructor(private readonly strict: boolean) {}

  /** `shown` (a path for messages) carries the extended attributes `names`. */
  note(shown: string, names: string[]): void {
    if (names.length === 0) return;
    if (this.strict)
      throw new DaxfsError(
        "EOPNOTSUPP",
        `${shown}: extended attribute ${names[0]} cannot be stored in a DAXFS image (--strict)`,
      );
    this.files++;
    for (const name of names) this.names.add(name);
  }

  /** The one warning for the whole source, or null when no file had any. */
  warning(): string | null {
    if (this.files === 0) return null;
    // security.* first: those change what a program may do (capabilities, SELinux labels).
    const sorted = [...this.names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const listed = sorted.slice(0, NAMES_SHOWN).join(", ") + (sorted.length > NAMES_SHOWN ? " ..." : "");
    const files = this.files === 1 ? "1 file has" : `${this.files} files have`;
    return `${files} extended attributes (${listed}), not stored`;
  }
}

function rank(name: string): number {
  return name.startsWith("security.") ? 0 : 1;
}
