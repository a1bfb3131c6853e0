/** Deepest nesting accepted in an event (vendors' payloads stay far below it). */
export const MAX_JSON_DEPTH = 64;

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `value` cannot be stored as Postgres `jsonb`/`text`, or `undefined` when it can. JSON
 * that parses in JavaScript can still be refused by Postgres (NUL characters, lone UTF-16
 * surrogates) or break serialisation (very deep nesting, `__proto__` keys); such a delivery
 * must be a 400, never a 500 the sender would retry forever.
 */
export function unstorableReason(value: unknown): string | undefined {
  // Iterative walk: recursion would overflow on the deep nesting it must reject.
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value, depth: 0, path: "$" }];
  while (stack.length > 0) {
    const { value: v, depth, path } = stack.pop()!;
    if (typeof v === "string") {
      const problem = badString(v);
      if (problem) return `${path}: ${problem}`;
      continue;
    }
    if (typeof v !== "object" || v === null) continue;
    if (depth >= MAX_JSON_DEPTH) return `${path}: nested deeper than ${MAX_JSON_DEPTH} levels`;
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries())
        stack.push({ value: item, depth: depth + 1, path: `${path}[${i}]` });
      continue;
    }
    for (const key of Object.keys(v)) {
      if (key === "__proto__") return `${path}: the key "__proto__" is not accepted`;
      const problem = badString(key);
      if (problem) return `${path}: a key ${problem}`;
      stack.push({
        value: (v as Record<string, unknown>)[key],
        depth: depth + 1,
        path: `${path}.${key.slice(0, 40)}`,
      });
    }
  }
  return undefined;
}

function badString(s: string): string | undefined {
  if (s.includes("\u0000")) return "contains a NUL character";
  if (loneSurrogate.test(s)) return "contains an unpaired UTF-16 surrogate";
  return undefined;
}

/** A timestamp Postgres `timestamptz` can hold (years 1–9999), else `null`. */
export function storableDate(iso: string | undefined): Date | null {
  if (!iso) return null;
  const date = new Date(iso);
  const year = date.getUTCFullYear();
  return Number.isNaN(date.getTime()) || year < 1 || year > 9999 ? null : date;
}
