-- CreateTable
CREATE TABLE "oauth_states" (
    "state_hash" TEXT NOT NULL,
    "tenant_id" UUID NOT NULL,
    "provider" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "shop" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),

    CONSTRAINT "oauth_states_pkey" PRIMARY KEY ("state_hash")
);

-- CreateIndex
CREATE INDEX "oauth_states_tenant_id_idx" ON "oauth_states"("tenant_id");

-- AddForeignKey
ALTER TABLE "oauth_states" ADD CONSTRAINT "oauth_states_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Tenant isolation, as for every tenant table.
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "oauth_states" TO zixly_tenant;
ALTER TABLE "oauth_states" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "oauth_states" TO zixly_tenant
  USING ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid)
  WITH CHECK ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid);
