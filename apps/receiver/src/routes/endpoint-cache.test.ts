import { describe, expect, it } from "vitest";
import { createEndpointCache } from "./endpoint-cache.js";

interface Row {
  id: string;
  tenantId: string;
  source: string;
  active: boolean;
  secretCiphertext: string | null;
  previousSecretCiphertext: string | null;
  settings: unknown;
}

/** A stand-in for `prisma.webhookEndpoint` that counts lookups and answers when told to. */
function fakeEndpoints(row: () => Row | null) {
  const waiting: Array<() => void> = [];
  let lookups = 0;
  const prisma = {
    webhookEndpoint: {
      findUnique: async () => {
        lookups += 1;
        await new Promise<void>((resolve) => waiting.push(resolve));
        return row();
      },
    },
  };
  return {
    prisma: prisma as unknown as Parameters<typeof createEndpointCache>[0],
    lookups: () => lookups,
    answer: () => {
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}

const secretBox = { decrypt: (c: string) => c.replace("enc:", "") };
const row = (secret: string | null): Row => ({
  id: "e1",
  tenantId: "t1",
  source: "shopify",
  active: true,
  secretCiphertext: secret,
  previousSecretCiphertext: null,
  settings: {},
});

describe("createEndpointCache", () => {
  it("makes one lookup for concurrent deliveries to an endpoint not cached yet", async () => {
    const db = fakeEndpoints(() => row("enc:s1"));
    const cache = createEndpointCache(db.prisma, secretBox);
    const all = Promise.all(Array.from({ length: 20 }, () => cache.get("e1")));
    db.answer();
    const values = await all;
    expect(db.lookups()).toBe(1);
    expect(values.every((v) => v?.secrets[0] === "s1")).toBe(true);
    expect(await cache.get("e1")).toEqual(values[0]);
    expect(db.lookups()).toBe(1);
  });

  it("reads the row again once the entry has expired", async () => {
    const db = fakeEndpoints(() => row("enc:s1"));
    const cache = createEndpointCache(db.prisma, secretBox, 1);
    const first = cache.get("e1");
    db.answer();
    await first;
    await new Promise((r) => setTimeout(r, 5));
    const second = cache.get("e1");
    db.answer();
    await second;
    expect(db.lookups()).toBe(2);
  });

  it("a lookup overtaken by forget() does not cache what it read before the change", async () => {
    let secret: string | null = null;
    const db = fakeEndpoints(() => row(secret));
    const cache = createEndpointCache(db.prisma, secretBox);
    const stale = cache.get("e1"); // reads the row before the secret is stored...
    secret = "enc:learned";
    cache.forget("e1"); // ...which the handshake then stores, and forgets the entry
    db.answer();
    await stale;
    const fresh = cache.get("e1");
    db.answer();
    expect((await fresh)?.secrets).toEqual(["learned"]);
    expect(db.lookups()).toBe(2);
  });

  it("an unknown or inactive endpoint is cached as null; a failed lookup is not cached", async () => {
    let fail = true;
    const db = fakeEndpoints(() => {
      if (fail) throw new Error("db down");
      return null;
    });
    const cache = createEndpointCache(db.prisma, secretBox);
    const failed = cache.get("e1");
    db.answer();
    await expect(failed).rejects.toThrow("db down");
    fail = false;
    const missing = cache.get("e1");
    db.answer();
    expect(await missing).toBeNull();
    expect(await cache.get("e1")).toBeNull();
    expect(db.lookups()).toBe(2);
  });
});
