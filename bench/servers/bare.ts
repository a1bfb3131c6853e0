// The ingest baseline: a bare Express 5 app whose webhook route only answers 202.
import express from "express";

const app = express();
app.post("/webhooks/:id", (_req, res) => {
  res.status(202).end();
});
app.get("/health", (_req, res) => {
  res.json({ status: "ok" });
});
app.listen(Number(process.env.PORT ?? 0), "127.0.0.1");
