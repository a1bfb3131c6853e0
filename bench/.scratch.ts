import "./lib/pg-stats-preload.ts";
import pg from "pg";
const pool = new pg.Pool({ connectionString: "postgresql://postgres@127.0.0.1/postgres", max: 2 });
console.log((await pool.query("select 1 as a")).rows);
console.log((await pool.query({ text: "select $1::int as b", values: [2], rowMode: "array" })).rows);
const c = await pool.connect();
console.log((await c.query("select 3")).rows);
c.release();
await pool.end();
