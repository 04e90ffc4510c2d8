/**
 * Limits on what an import file may hold, checked while it is read (never after reading it
 * whole): a file past one is refused with what to fix. Set in the configuration (server/config.ts);
 * this file has no dependencies so the configuration loads without the readers.
 */
export interface ImportLimits { maxRows: number; maxColumns: number; maxCellChars: number; maxUnpackedBytes: number }

/** maxRows is also the most a configuration may set: one import is one project's batch. */
export const DEFAULT_IMPORT_LIMITS: ImportLimits = { maxRows: 10_000, maxColumns: 50, maxCellChars: 1024, maxUnpackedBytes: 50 * 1024 * 1024 };
