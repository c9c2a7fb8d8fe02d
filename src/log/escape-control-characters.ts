// Makes text from outside (file names, certificate subjects, server replies) safe to print on one terminal/log line.

/**
 * C0 controls (newline included), DEL, C1 controls (0x80-0x9f: CSI 0x9b is an escape sequence on its own for some
 * terminals), the Unicode line/paragraph separators, and the bidi embedding/override/isolate controls U+202A-U+202E
 * and U+2066-U+2069 (CVE-2021-42574, "Trojan Source": they reorder what the reader sees).
 */
const CONTROL = '\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';

/**
 * The controls, and a backslash only where it could be read as the start of an escape: before `n r t x u \ "`, before
 * a control (escaped itself) or at the end. So a name holding a literal `\n` never reads like one holding a newline,
 * while RFC 4514 subjects keep their usual `O=Example\, Inc.`.
 */
const UNSAFE = new RegExp(`[${CONTROL}]|\\\\(?=[nrtxu\\\\"${CONTROL}]|$)`, 'g');

const NAMED: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Escapes every character that could move the cursor, recolour or clear a terminal, forge a new log line, or reorder
 * the text shown: `a\x1b[2Jb` is printed as the 10 characters `a\x1b[2Jb`. Printable text, non-ASCII letters
 * included, is unchanged. One function for the text log, the `once` summary and the `status` table, so the same name
 * reads the same everywhere.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}

/** Characters that, in a JSON string, JSON.stringify leaves raw but a terminal showing the JSON still obeys. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON.stringify escapes C0 controls, `"` and `\`, but writes DEL, C1 controls and bidi controls as they are. They
 * can only occur inside string literals of a JSON text, where `\uXXXX` means the same character (RFC 8259 section 7),
 * so escaping them over the whole serialised line keeps it valid and parsing back to the same values.
 */
export function escapeJsonLine(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
