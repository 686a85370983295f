// Shared helpers of the audit-trail tests: temporary files, a controllable clock, and
// direct access to the SQLite file for tampering.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import type { AuditEntryInput } from '../../../src/governance/audit/audit-entry.js';
import { AuditTrail, type AuditTrailOptions } from '../../../src/governance/audit/audit-trail.js';

const dirs: string[] = [];
const trails: AuditTrail[] = [];

afterEach(() => {
  for (const trail of trails.splice(0)) trail.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh database path in a temporary directory removed after the test. */
export function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dw-audit-'));
  dirs.push(dir);
  return join(dir, 'audit.sqlite');
}

/** A clock that advances by `step` ms per reading, from `start`. */
export function steppingClock(start = 1_700_000_000_000, step = 1000): () => number {
  let t = start - step;
  return () => (t += step);
}

/** Opens a trail that is closed after the test. */
export function openTrail(path: string, options: AuditTrailOptions = {}): AuditTrail {
  const trail = AuditTrail.open(path, { now: steppingClock(), ...options });
  trails.push(trail);
  return trail;
}

export function entry(i: number, overrides: Partial<AuditEntryInput> = {}): AuditEntryInput {
  return {
    userId: `user-${i % 3}`,
    resourceId: `obj/${i % 4}`,
    operation: i % 2 === 0 ? 'object.get' : 'object.put',
    policyIds: i % 5 === 0 ? ['pii-encrypt', 'retention-7y'] : ['retention-7y'],
    outcome: i % 7 === 0 ? 'denied' : i % 11 === 0 ? 'error' : 'allowed',
    requiredActions: i % 5 === 0 ? ['encrypt', 'audit'] : [],
    message: `operation ${i}`,
    ...overrides,
  };
}

/** Runs `edit` on the raw SQLite file (the trail must be closed). */
export function tamper(path: string, edit: (db: BetterSqlite3.Database) => void): void {
  const db = new BetterSqlite3(path);
  try {
    edit(db);
  } finally {
    db.close();
  }
}

export async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DistributedError) return error.code;
    if (error instanceof Error) return error.name;
    throw error;
  }
  return 'resolved';
}
