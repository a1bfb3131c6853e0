/**
 * The two kinds of ioredis client the BullMQ driver needs. They fail in opposite ways on
 * purpose: producers fail fast (the receiver must fall back to its outbox), consumers wait out
 * outages (a worker should resume by itself when Redis is back).
 */
import { Redis, type RedisOptions } from "ioredis";

/** Where Redis is: a `redis://` / `rediss://` URL or a host and port. */
export type RedisConnection =
  | string
  | { host: string; port: number; username?: string; password?: string; db?: number };

function create(connection: RedisConnection, options: RedisOptions): Redis {
  return typeof connection === "string"
    ? new Redis(connection, options)
    : new Redis({ ...connection, ...options });
}

/**
 * A client for enqueue, depth and dead-letter reads. With the offline queue off, a command
 * issued while disconnected rejects at once instead of waiting for a reconnect that may never
 * come; `commandTimeout` bounds commands on a half-open socket.
 */
export function createProducerClient(connection: RedisConnection, commandTimeoutMs: number): Redis {
  return create(connection, {
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 1,
    connectionName: "zixly:producer",
  });
}

/**
 * A client for one consumer. BullMQ requires `maxRetriesPerRequest: null` on workers: commands
 * (including lock renewals) wait for the reconnect rather than erroring out of the worker loop.
 * Auto-pipelining sends the commands of concurrent jobs issued in one tick (each job's
 * move-to-finished, lock extensions) as one socket write: at concurrency 50 the per-command
 * writes were the worker's largest CPU cost.
 */
export function createConsumerClient(connection: RedisConnection): Redis {
  return create(connection, {
    maxRetriesPerRequest: null,
    enableAutoPipelining: true,
    connectionName: "zixly:consumer",
  });
}

/**
 * Close a client without hanging: `quit` flushes politely when connected; otherwise (Redis down,
 * reconnecting) `disconnect` drops it, since a queued QUIT would wait for Redis forever.
 */
export async function closeClient(client: Redis, timeoutMs = 1_000): Promise<void> {
  if (client.status === "end") return;
  if (client.status !== "ready") {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const fallback = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      client.disconnect();
      resolve();
    }, timeoutMs);
  });
  await Promise.race([
    client.quit().then(
      () => undefined,
      () => client.disconnect(),
    ),
    fallback,
  ]);
  clearTimeout(timer);
}
