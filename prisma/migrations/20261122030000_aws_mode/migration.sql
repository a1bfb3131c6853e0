-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "record_key" TEXT;

-- CreateTable
CREATE TABLE "queue_pending_ids" (
    "queue" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "queue_pending_ids_pkey" PRIMARY KEY ("queue","id")
);
