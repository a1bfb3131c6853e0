import { createBullmqDriver } from "@zixly/queue/bullmq";
const q = createBullmqDriver({ connection: "redis://127.0.0.1:1", prefix: "x", onError: () => {} });
for (let i = 0; i < 3; i++) {
  const t = Date.now();
  try { await q.enqueue("jobs", [{ id: `a${i}`, body: {} }]); } catch (e) { console.log(i, Date.now() - t, (e as Error).message); }
}
await q.close();
process.exit(0);
