// Prisma CLI configuration. The CLI's migration commands need a schema engine downloaded
// from Prisma's servers; where that is impossible, use `npm run db:migrate` (docs/database.md).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/zixly" },
});
