// Where Postgres time goes, without pg_stat_statements (it needs shared_preload_libraries, which
// a shared server may not have): samples this database's active sessions every 100 ms, like an
// "active session history", and tallies them by statement and by wait event.
import type pg from "pg";

export interface ActivityReport {
  samples: number;
  /** Average number of busy sessions (≈ Postgres cores in use + sessions waiting). */
  avgActiveSessions: number;
  byWait: Record<string, number>;
  topStatements: { share: number; statement: string }[];
}

export function sampleActivity(sql: pg.Pool, dbName: string, everyMs = 100) {
  const byWait = new Map<string, number>();
  const byStatement = new Map<string, number>();
  let samples = 0;
  let active = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await sql.query<{ wait: string | null; query: string }>(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait, query FROM pg_stat_activity
          WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()`,
        [dbName],
      );
      samples++;
      for (const row of rows) {
        active++;
        const wait = row.wait ?? "CPU";
        byWait.set(wait, (byWait.get(wait) ?? 0) + 1);
        const statement = row.query.replace(/\s+/g, " ").replace(/\$\d+/g, "$").slice(0, 140);
        byStatement.set(statement, (byStatement.get(statement) ?? 0) + 1);
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop(): Promise<ActivityReport> {
      stopped = true;
      await loop;
      const share = (n: number) => Math.round((n / Math.max(1, active)) * 1000) / 1000;
      return {
        samples,
        avgActiveSessions: Math.round((active / Math.max(1, samples)) * 100) / 100,
        byWait: Object.fromEntries([...byWait].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, share(v)])),
        topStatements: [...byStatement]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8)
          .map(([statement, n]) => ({ share: share(n), statement })),
      };
    },
  };
}
