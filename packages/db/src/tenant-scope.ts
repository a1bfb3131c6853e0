import type { Prisma, PrismaClient } from "./generated/prisma/client.js";

/** The database role tenant-scoped work runs as (created by the row-level-security migration). */
export const TENANT_ROLE = "zixly_tenant";

/** A Prisma client usable inside a transaction. */
export type TenantTransaction = Prisma.TransactionClient;

/**
 * Runs `fn` in a transaction that the database itself confines to one tenant: the role
 * switches to `zixly_tenant` and `zixly.tenant_id` is set for this transaction only, so
 * row-level security hides every other tenant's rows (and refuses writes to them), whatever
 * the query forgets to filter.
 *
 * @example
 * ```ts
 * const job = await withTenant(prisma, auth.tenantId, (tx) => tx.job.findUnique({ where: { id } }));
 * ```
 */
export function withTenant<T>(
  prisma: PrismaClient,
  tenantId: string,
  fn: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  return prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT set_config('zixly.tenant_id', ${tenantId}, true), set_config('role', ${TENANT_ROLE}, true)`;
    return fn(tx);
  });
}
