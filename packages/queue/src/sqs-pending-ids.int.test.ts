// The pending-id stores: the Postgres one on the test Postgres (two pools stand for two
// processes), and the in-memory one, against the same expectations.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createInMemoryPendingIdStore,
  createPgPendingIdStore,
  type PendingIdStore,
} from "./sqs-pending-ids.js";
import {
  createTestPendingIds,
  TEST_DATABASE_URL,
  type TestPendingIds,
} from "./test-support/sqs-pending-table.js";

let pgIds: TestPendingIds;
let otherPool: pg.Pool;
let otherProcess: PendingIdStore;

beforeAll(async () => {
  pgIds = await createTestPendingIds();
  otherPool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
  otherProcess = createPgPendingIdStore({
    query: (text, values) => otherPool.query(text, values),
    table: pgIds.table,
  });
});

afterAll(async () => {
  await otherPool?.end();
  await pgIds?.dispose();
});

const stores: [string, () => { a: PendingIdStore; b: PendingIdStore }][] = [
  ["postgres", () => ({ a: pgIds.store, b: otherProcess })],
  [
    "in-memory",
    () => {
      const store = createInMemoryPendingIdStore();
      return { a: store, b: store };
    },
  ],
];

describe.each(stores)("pending ids: %s", (_, make) => {
  const queue = () => `q-${randomUUID()}`;

  it("claims an id once while it is pending, for whichever producer comes first", async () => {
    const { a, b } = make();
    const q = queue();
    expect(
      await a.claim(
        q,
        [
          { id: "x", token: "t1" },
          { id: "y", token: "t2" },
        ],
        60_000,
      ),
    ).toEqual(expect.arrayContaining(["x", "y"]));
    expect(
      await b.claim(
        q,
        [
          { id: "x", token: "t3" },
          { id: "z", token: "t4" },
        ],
        60_000,
      ),
    ).toEqual(["z"]);
    // Another queue is another namespace.
    expect(await b.claim(`${q}-other`, [{ id: "x", token: "t5" }], 60_000)).toEqual(["x"]);
  });

  it("releases by token only: a stale release leaves a newer claim alone", async () => {
    const { a, b } = make();
    const q = queue();
    await a.claim(q, [{ id: "x", token: "old" }], 60_000);
    await b.release(q, [{ id: "x", token: "someone-else" }]);
    expect(await b.claim(q, [{ id: "x", token: "new" }], 60_000)).toEqual([]);
    await a.release(q, [{ id: "x", token: "old" }]);
    expect(await b.claim(q, [{ id: "x", token: "new" }], 60_000)).toEqual(["x"]);
  });

  it("lets an expired claim be taken over, and extends a claim by its token", async () => {
    const { a, b } = make();
    const q = queue();
    await a.claim(
      q,
      [
        { id: "short", token: "s" },
        { id: "kept", token: "k" },
      ],
      200,
    );
    await a.extend(q, [{ id: "kept", token: "k" }], 60_000);
    await sleep(300);
    expect(
      await b.claim(
        q,
        [
          { id: "short", token: "s2" },
          { id: "kept", token: "k2" },
        ],
        60_000,
      ),
    ).toEqual(["short"]);
  });

  it("gives one winner when producers race on the same id", async () => {
    const { a, b } = make();
    const q = queue();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).claim(q, [{ id: "race", token: `t${i}` }], 60_000)),
    );
    expect(results.flat()).toEqual(["race"]);
  });
});
