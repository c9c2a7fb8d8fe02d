// Shares equal strings among certificates: the issuer name and AIA URLs of 10,000 leaves of one CA are one string
// each instead of 10,000 copies. Bounded, and only for values that repeat in practice. Module-level on purpose, unlike
// the validation memos (validation-memos.ts): sharing equal strings is pure, never switched off, never saved.

const LIMIT = 4096;
const strings = new Map<string, string>();
const lists = new Map<string, readonly string[]>();
const EMPTY: readonly string[] = Object.freeze([]);

export function intern(value: string): string {
  const known = strings.get(value);
  if (known !== undefined) return known;
  if (strings.size >= LIMIT) strings.clear();
  strings.set(value, value);
  return value;
}

/** The same frozen array for equal lists (URL lists of one CA's certificates). */
export function internList(values: readonly string[]): readonly string[] {
  if (values.length === 0) return EMPTY;
  const key = values.join('\n');
  const known = lists.get(key);
  if (known !== undefined) return known;
  if (lists.size >= LIMIT) lists.clear();
  const list = Object.freeze(values.map(intern));
  lists.set(key, list);
  return list;
}
