import type SQLite from 'better-sqlite3';

/** Puts the database in WAL mode, trying again while another connection blocks the switch. */
export function enterWalMode(sqlite: SQLite.Database, waitMs?: number): string;
