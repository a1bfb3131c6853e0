/** Why a migration run stopped; `code` is stable for callers, the message is for people. */
export type MigrationErrorCode =
  /** A failed migration is recorded and not resolved (Prisma's P3009). */
  | "FAILED_MIGRATION_PRESENT"
  /** A migration's script failed just now (Prisma's P3018). */
  | "MIGRATION_FAILED"
  /** `resolveMigration` was asked for something the records do not allow (P3008/P3011/P3012). */
  | "RESOLVE_REFUSED";

/** Raised by the migration runner; `migrationName` says which migration it is about. */
export class MigrationError extends Error {
  override readonly name = "MigrationError";
  readonly code: MigrationErrorCode;
  readonly migrationName: string;
  constructor(
    code: MigrationErrorCode,
    migrationName: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.migrationName = migrationName;
  }
}
