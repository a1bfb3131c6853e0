-- Tenant isolation in the database (defence in depth under the API's own tenant filters).
-- The API runs tenant-scoped work as the role "zixly_tenant" with the tenant in the
-- transaction-local setting "zixly.tenant_id" (see withTenant in @zixly/db). Row-level security
-- policies then only show that tenant's rows; without the setting, nothing is visible.
-- System paths (webhook ingestion, workers, migrations) keep the connecting role, which owns the
-- tables and is not subject to these policies.

DO $$
BEGIN
  CREATE ROLE zixly_tenant NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL; -- roles are cluster-wide: another database of this server already created it
END
$$;

-- Lets the application's own login role switch to it (superusers may anyway).
DO $$
BEGIN
  EXECUTE format('GRANT zixly_tenant TO %I', current_user);
EXCEPTION WHEN others THEN
  NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO zixly_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE
  "tenants", "users", "api_keys", "webhook_endpoints", "webhook_events", "jobs", "job_steps",
  "related_records", "connections", "callback_tokens"
TO zixly_tenant;

ALTER TABLE "tenants" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "users" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "api_keys" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "webhook_endpoints" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "webhook_events" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "jobs" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "job_steps" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "related_records" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "connections" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "callback_tokens" ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON "tenants" TO zixly_tenant
  USING ("id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid)
  WITH CHECK ("id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON "users" TO zixly_tenant
  USING ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid)
  WITH CHECK ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON "api_keys" TO zixly_tenant
  USING ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid)
  WITH CHECK ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON "webhook_endpoints" TO zixly_tenant
  USING ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid)
  WITH CHECK ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON "webhook_events" TO zixly_tenant
  USING ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid)
  WITH CHECK ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON "jobs" TO zixly_tenant
  USING ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid)
  WITH CHECK ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid);
-- Steps carry no tenant id: they are visible through their (already filtered) job.
CREATE POLICY tenant_isolation ON "job_steps" TO zixly_tenant
  USING ("job_id" IN (SELECT "id" FROM "jobs"))
  WITH CHECK ("job_id" IN (SELECT "id" FROM "jobs"));
CREATE POLICY tenant_isolation ON "related_records" TO zixly_tenant
  USING ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid)
  WITH CHECK ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON "connections" TO zixly_tenant
  USING ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid)
  WITH CHECK ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON "callback_tokens" TO zixly_tenant
  USING ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid)
  WITH CHECK ("tenant_id" = NULLIF(current_setting('zixly.tenant_id', true), '')::uuid);
