// Text from an image (names, symlink targets, file contents, branch names) is untrusted: a name
// holding an escape sequence must not reach the terminal as one. Every component that prints such
// text passes it through printable().

// C0 and C1 control characters and DEL.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** `text` with each control character shown as `?`. */
export function printable(text: string): string {
  return text.replace(CONTROL, "?");
}
