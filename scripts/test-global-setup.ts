// Runs once per Vitest project before any test file: fail fast, with a clear message, when
// the services the integration tests need are not reachable.
import net from "node:net";

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    socket.once("connect", () => {
      socket.end();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export default async function setup(): Promise<void> {
  const pg = new URL(process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres");
  const redis = new URL(process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379");
  const missing: string[] = [];
  if (!(await reachable(pg.hostname, Number(pg.port || 5432)))) missing.push(`PostgreSQL at ${pg.host}`);
  if (!(await reachable(redis.hostname, Number(redis.port || 6379)))) missing.push(`Redis at ${redis.host}`);
  if (missing.length > 0) {
    throw new Error(
      `Integration tests need ${missing.join(" and ")}; start them (see README) or set TEST_DATABASE_URL / TEST_REDIS_URL.`,
    );
  }
}
