-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "cancel_requested_at" TIMESTAMPTZ(3),
ADD COLUMN     "lease_expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "wake_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "callback_tokens" (
    "token_hash" TEXT NOT NULL,
    "tenant_id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "step_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),

    CONSTRAINT "callback_tokens_pkey" PRIMARY KEY ("token_hash")
);

-- CreateIndex
CREATE UNIQUE INDEX "callback_tokens_job_id_step_name_key" ON "callback_tokens"("job_id", "step_name");

-- AddForeignKey
ALTER TABLE "callback_tokens" ADD CONSTRAINT "callback_tokens_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
