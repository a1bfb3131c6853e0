// TEMPORARY A/B entry (deleted after measuring): the receiver with a Prisma pool of AB_POOL_MAX.
import { createLogger } from "@zixly/core";
import { createPrismaClient } from "@zixly/db";
import { loadReceiverEnv, startReceiver } from "@zixly/receiver";

const env = loadReceiverEnv();
const log = createLogger({ name: "receiver", level: env.LOG_LEVEL });
const prisma = createPrismaClient(env.DATABASE_URL, { max: Number(process.env.AB_POOL_MAX ?? 50) });
const receiver = await startReceiver(env, { log, prisma });
process.on("SIGTERM", () => void receiver.stop().then(() => process.exit(0)));
