/** Error codes and messages that mean "the database cannot be reached right now". */
const unavailableCodes = new Set([
  "P1001",
  "P1002",
  "P1017",
  "P2024",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "57P01",
  "57P03",
  "53300",
]);
const unavailableMessage =
  /ECONNREFUSED|ECONNRESET|Connection terminated|connection timeout|timeout exceeded when trying to connect|the database system is (starting up|shutting down)|too many clients|Can't reach database server/i;

/**
 * True when `err` (or its cause chain) says the database is unreachable. The webhook path
 * answers these with `503` + `Retry-After`: the sender retries and nothing is half-accepted.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (typeof err !== "object" || err === null || depth > 5) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; kind?: unknown };
  if (typeof e.code === "string" && unavailableCodes.has(e.code)) return true;
  if (typeof e.message === "string" && unavailableMessage.test(e.message)) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}
