// The started receiver's HTTP server settings, against real Postgres (the queue is a double:
// nothing is enqueued here).
import { Agent, get } from "node:http";
import type { Socket } from "node:net";
import { createLogger } from "@zixly/core";
import { createTestDatabase, type TestDatabase } from "@zixly/db/testing";
import type { QueueDriver } from "@zixly/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadReceiverEnv } from "./env.js";
import { type RunningReceiver, startReceiver } from "./server.js";

let db: TestDatabase;
const queue = {
  enqueue: async () => undefined,
  depth: async () => ({ waiting: 0, active: 0, delayed: 0, dead: 0 }),
  close: async () => undefined,
} as unknown as QueueDriver;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function receiverWith(keepAliveMs: number): Promise<RunningReceiver> {
  const env = loadReceiverEnv({
    DATABASE_URL: db.url,
    PORT: "0",
    ZIXLY_ADMIN_TOKEN: "0123456789abcdef0123",
    ZIXLY_ENCRYPTION_KEY: "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    HTTP_KEEP_ALIVE_TIMEOUT_MS: String(keepAliveMs),
    API_RATE_LIMIT_PER_MINUTE: "0",
    WEBHOOK_RATE_LIMIT_PER_MINUTE: "0",
  });
  return startReceiver(env, { queue, log: createLogger({ name: "server-test", level: "silent" }) });
}

/** GET /health on a kept-alive connection; resolves with that connection once answered. */
function healthOnKeptAliveSocket(url: string, agent: Agent): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const req = get(`${url}/health`, { agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(req.socket as Socket));
    });
    req.on("error", reject);
  });
}

const closedWithin = (socket: Socket, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });

describe("receiver HTTP server", () => {
  it("keeps an idle connection open for HTTP_KEEP_ALIVE_TIMEOUT_MS, then closes it", async () => {
    const short = await receiverWith(1_000);
    const long = await receiverWith(5_000);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const [shortSocket, longSocket] = await Promise.all([
        healthOnKeptAliveSocket(short.url, agent),
        healthOnKeptAliveSocket(long.url, agent),
      ]);
      // Node's own default (5 s) would close neither within 2 s.
      const [shortClosed, longClosed] = await Promise.all([
        closedWithin(shortSocket, 2_000),
        closedWithin(longSocket, 2_000),
      ]);
      expect(shortClosed).toBe(true);
      expect(longClosed).toBe(false);
    } finally {
      agent.destroy();
      await Promise.all([short.stop(), long.stop()]);
    }
  });
});
