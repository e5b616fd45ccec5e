// Numeric arguments (SPEC 2.1): C-style base detection (decimal, 0x hex, leading-0 octal) like the
// public tool's strtoull(…, 0), plus an optional K, M or G suffix (binary units). Unlike the public
// tool, anything else in the argument is an error rather than silently ignored.

const UNITS: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

function parseCNumber(digits: string): bigint | null {
  if (/^0[xX][0-9a-fA-F]+$/.test(digits)) return BigInt(digits);
  if (/^0[0-7]*$/.test(digits)) return BigInt(`0o${digits.slice(1) || "0"}`);
  if (/^[1-9][0-9]*$/.test(digits)) return BigInt(digits);
  return null;
}

/** "64M", "0x1000", "1g", "4096" → bytes; null if the text is not a size. */
export function parseSize(text: string): number | null {
  const match = /^(.*?)([kKmMgG]?)(?:i?[bB])?$/.exec(text.trim());
  if (!match) return null;
  const value = parseCNumber(match[1] ?? "");
  if (value === null) return null;
  const bytes = value * BigInt(UNITS[(match[2] ?? "").toLowerCase()] ?? 1);
  return bytes <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(bytes) : null;
}

/** A physical address for -p (no suffix). */
export function parseAddress(text: string): bigint | null {
  return parseCNumber(text.trim());
}
