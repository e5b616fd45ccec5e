// Output helpers shared by the commands: every command builds a plain result object, printed either
// as text lines or, with --json, as one JSON document (u64 values as numbers when exact, else strings).

export interface Output {
  json: boolean;
  write(text: string): void;
  writeBytes?(bytes: Uint8Array): void;
}

export function jsonValue(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, item) => {
      if (typeof item === "bigint")
        return item <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(item) : item.toString();
      if (item instanceof Uint8Array) return Buffer.from(item).toString("hex");
      if (item instanceof Map) return Object.fromEntries(item);
      return item;
    }),
  );
}

/** Prints `result` as JSON, or its text form. */
export function emit(out: Output, result: unknown, text: () => string[]): void {
  if (out.json) out.write(`${JSON.stringify(jsonValue(result), null, 2)}\n`);
  else for (const line of text()) out.write(`${line}\n`);
}

export function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}

/** A time in ns since the epoch as UTC with all nine digits (2020-01-01T00:00:00.000000000Z). */
export function timeText(ns: bigint | number): string {
  const value = BigInt(ns);
  const seconds = value / 1_000_000_000n - (value < 0n && value % 1_000_000_000n !== 0n ? 1n : 0n);
  const fraction = value - seconds * 1_000_000_000n;
  const date = new Date(Number(seconds) * 1000);
  if (Number.isNaN(date.getTime())) return `${value} ns`;
  return `${date.toISOString().slice(0, 19)}.${fraction.toString().padStart(9, "0")}Z`;
}

/** `ls -l`'s time column: the minute, in UTC (2026-12-01 06:12). */
export function shortTime(ns: bigint | number): string {
  return timeText(ns).slice(0, 16).replace("T", " ");
}

/** "12345 bytes (12.1 KB)", as the public tool shows sizes. */
export function bytesAndKb(value: number | bigint): string {
  return `${value} bytes (${(Number(value) / 1024).toFixed(1)} KB)`;
}

export function humanSize(value: number | bigint): string {
  const n = Number(value);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let scaled = n;
  let unit = 0;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${scaled.toFixed(1)} ${units[unit]}`;
}

export function percent(part: number, whole: number): string {
  return whole === 0 ? "0.0%" : `${((100 * part) / whole).toFixed(1)}%`;
}

/** `-rw-r--r--` from st_mode. */
export function modeString(mode: number): string {
  const type = mode & 0o170000;
  const kind = type === 0o040000 ? "d" : type === 0o120000 ? "l" : type === 0o100000 ? "-" : "?";
  const rwx = ["r", "w", "x"];
  let bits = "";
  for (let i = 8; i >= 0; i--) bits += mode & (1 << i) ? rwx[(8 - i) % 3] : "-";
  const chars = bits.split("");
  if (mode & 0o4000) chars[2] = chars[2] === "x" ? "s" : "S";
  if (mode & 0o2000) chars[5] = chars[5] === "x" ? "s" : "S";
  if (mode & 0o1000) chars[8] = chars[8] === "x" ? "t" : "T";
  return kind + chars.join("");
}

/** Left-justified columns separated by two spaces; the last column is free width. */
export function columns(widths: number[], cells: string[]): string {
  return cells
    .map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]!) : cell))
    .join("  ")
    .trimEnd();
}
