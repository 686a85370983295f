// Tamper tests: each opens the SQLite file behind the trail's back, changes it the way
// an attacker (or a disk) would, and checks that verify names the first bad entry.
import { describe, expect, it } from 'vitest';
import { canonicalHash } from '../../../src/governance/audit/canonical.js';
import { decodeAuditRow, hashAuditEntry } from '../../../src/governance/audit/audit-entry.js';
import { AuditTrail } from '../../../src/governance/audit/audit-trail.js';
import { entry, openTrail, tamper, tempPath } from './helpers.js';

const KEY = new Uint8Array(32).fill(7);

async function trailOf(count: number, options: { hmacKey?: Uint8Array } = {}): Promise<string> {
  const path = tempPath();
  const trail = openTrail(path, options);
  for (let i = 1; i <= count; i++) await trail.append(entry(i));
  trail.close();
  return path;
}

async function verifyFile(path: string, options: { hmacKey?: Uint8Array } = {}) {
  return openTrail(path, options).verify();
}

/** Rewrites a row's hash (and optionally the head) after an edit, as a careful attacker would. */
function rehash(db: any, seq: number): string {
  const decoded = decodeAuditRow(db.prepare('SELECT * FROM audit_entries WHERE seq = ?').get(seq));
  if (!decoded.ok) throw new Error(decoded.reason);
  const hash = hashAuditEntry(decoded.entry);
  db.prepare('UPDATE audit_entries SET hash = ? WHERE seq = ?').run(hash, seq);
  return hash;
}

describe('audit trail tamper detection', () => {
  it('verifies a clean trail', async () => {
    const path = await trailOf(20);
    const result = await verifyFile(path);
    expect(result).toMatchObject({ ok: true, checkedEntries: 20, macChecked: false });
    if (result.ok) expect(result.head.seq).toBe(20);
  });

  it('names an entry whose field was edited', async () => {
    const path = await trailOf(10);
    tamper(path, (db) =>
      db
        .prepare("UPDATE audit_entries SET outcome = 'allowed', user_id = 'mallory' WHERE seq = 4")
        .run(),
    );
    expect(await verifyFile(path)).toMatchObject({
      ok: false,
      firstBadSeq: 4,
      reason: 'hash-mismatch',
    });
  });

  it('names the next entry when the edited one was also re-hashed (no key), and the edited one with a key', async () => {
    const plain = await trailOf(10);
    tamper(plain, (db) => {
      db.prepare("UPDATE audit_entries SET message = 'nothing to see' WHERE seq = 4").run();
      rehash(db, 4);
    });
    expect(await verifyFile(plain)).toMatchObject({
      ok: false,
      firstBadSeq: 5,
      reason: 'broken-link',
    });

    const keyed = await trailOf(10, { hmacKey: KEY });
    tamper(keyed, (db) => {
      db.prepare("UPDATE audit_entries SET message = 'nothing to see' WHERE seq = 4").run();
      rehash(db, 4);
    });
    expect(await verifyFile(keyed, { hmacKey: KEY })).toMatchObject({
      ok: false,
      firstBadSeq: 4,
      reason: 'mac-mismatch',
    });
    // The wrong key fails at the first entry.
    expect(await verifyFile(keyed, { hmacKey: new Uint8Array(32) })).toMatchObject({
      ok: false,
      firstBadSeq: 1,
    });
  });

  it('names a deleted entry, in the middle and at the end', async () => {
    const middle = await trailOf(10);
    tamper(middle, (db) => db.prepare('DELETE FROM audit_entries WHERE seq = 6').run());
    expect(await verifyFile(middle)).toMatchObject({
      ok: false,
      firstBadSeq: 6,
      reason: 'missing-entry',
    });

    const first = await trailOf(10);
    tamper(first, (db) => db.prepare('DELETE FROM audit_entries WHERE seq = 1').run());
    expect(await verifyFile(first)).toMatchObject({
      ok: false,
      firstBadSeq: 1,
      reason: 'missing-entry',
    });

    const tail = await trailOf(10);
    tamper(tail, (db) => db.prepare('DELETE FROM audit_entries WHERE seq >= 9').run());
    expect(await verifyFile(tail)).toMatchObject({
      ok: false,
      firstBadSeq: 9,
      reason: 'missing-entry',
    });
  });

  it('names the first of two entries whose contents were swapped (reordering)', async () => {
    const path = await trailOf(10);
    tamper(path, (db) => {
      const columns = [
        'timestamp',
        'user_id',
        'resource_id',
        'operation',
        'policy_ids',
        'outcome',
        'required_actions',
        'message',
        'prev_hash',
        'hash',
        'mac',
      ];
      const a = db.prepare('SELECT * FROM audit_entries WHERE seq = 3').get() as Record<
        string,
        unknown
      >;
      const b = db.prepare('SELECT * FROM audit_entries WHERE seq = 7').get() as Record<
        string,
        unknown
      >;
      const update = db.prepare(
        `UPDATE audit_entries SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE seq = @seq`,
      );
      update.run({ ...b, seq: 3 });
      update.run({ ...a, seq: 7 });
    });
    expect(await verifyFile(path)).toMatchObject({
      ok: false,
      firstBadSeq: 3,
      reason: 'hash-mismatch',
    });
  });

  it('names an inserted forged entry, past the head or before the start', async () => {
    const past = await trailOf(5);
    tamper(past, (db) => {
      // A forged entry that even links correctly to entry 5 and has a correct hash.
      const last = decodeAuditRow(db.prepare('SELECT * FROM audit_entries WHERE seq = 5').get());
      if (!last.ok) throw new Error(last.reason);
      const forged = {
        ...last.entry,
        seq: 6,
        userId: 'mallory',
        prevHash: last.entry.hash,
        timestamp: last.entry.timestamp + 1,
      };
      const hash = hashAuditEntry(forged);
      db.prepare('INSERT INTO audit_entries VALUES (6, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)').run(
        forged.timestamp,
        forged.userId,
        forged.resourceId,
        forged.operation,
        JSON.stringify(forged.policyIds),
        forged.outcome,
        JSON.stringify(forged.requiredActions),
        forged.message,
        forged.prevHash,
        hash,
      );
    });
    expect(await verifyFile(past)).toMatchObject({
      ok: false,
      firstBadSeq: 6,
      reason: 'unexpected-entry',
    });

    const before = await trailOf(5);
    tamper(before, (db) =>
      db
        .prepare(
          "INSERT INTO audit_entries SELECT 0, timestamp, 'mallory', resource_id, operation, policy_ids, outcome, required_actions, message, prev_hash, hash, mac FROM audit_entries WHERE seq = 1",
        )
        .run(),
    );
    expect(await verifyFile(before)).toMatchObject({
      ok: false,
      firstBadSeq: 0,
      reason: 'unexpected-entry',
    });
  });

  it('reports rows with wrong types or bad JSON as malformed, never crashing', async () => {
    const cases: [string, string][] = [
      ["UPDATE audit_entries SET timestamp = 'yesterday' WHERE seq = 3", 'timestamp'],
      ["UPDATE audit_entries SET policy_ids = '[\"unclosed' WHERE seq = 3", 'policy_ids'],
      [
        'UPDATE audit_entries SET required_actions = \'["launch-missiles"]\' WHERE seq = 3',
        'requiredActions',
      ],
      ["UPDATE audit_entries SET user_id = x'00ff' WHERE seq = 3", 'userId'],
      ["UPDATE audit_entries SET hash = 'zz' WHERE seq = 3", 'hash'],
      ['UPDATE audit_entries SET outcome = 42 WHERE seq = 3', 'outcome'],
    ];
    for (const [sql, field] of cases) {
      const path = await trailOf(5);
      tamper(path, (db) => db.prepare(sql).run());
      const result = await verifyFile(path);
      expect(result, sql).toMatchObject({ ok: false, firstBadSeq: 3, reason: 'malformed-entry' });
      if (!result.ok) expect(result.detail).toContain(field);
      // Query reports the damaged row instead of throwing.
      const page = await openTrail(path).query({ policyId: 'retention-7y' });
      expect(page.malformed.map((m) => m.seq)).toEqual(field === 'policy_ids' ? [] : [3]);
    }
  });

  it('detects a removed or forged head', async () => {
    const gone = await trailOf(5);
    tamper(gone, (db) => {
      db.prepare('DELETE FROM audit_entries').run();
      db.prepare("DELETE FROM audit_meta WHERE key = 'head'").run();
    });
    // Reopening must not re-create an empty head over the wiped trail.
    expect(await verifyFile(gone)).toMatchObject({ ok: false, reason: 'head-invalid' });

    const keyed = await trailOf(5, { hmacKey: KEY });
    tamper(keyed, (db) => {
      db.prepare('DELETE FROM audit_entries WHERE seq = 5').run();
      const last = db
        .prepare('SELECT seq, hash, timestamp FROM audit_entries WHERE seq = 4')
        .get() as any;
      db.prepare("UPDATE audit_meta SET value = ? WHERE key = 'head'").run(
        JSON.stringify({ ...last, mac: null }),
      );
    });
    expect(await verifyFile(keyed, { hmacKey: KEY })).toMatchObject({
      ok: false,
      reason: 'head-invalid',
    });
  });

  it('catches a consistent rewrite of the tail with an external anchor', async () => {
    const path = await trailOf(6);
    const anchorTrail = openTrail(path);
    const anchor = anchorTrail.head();
    anchorTrail.close();
    tamper(path, (db) => {
      // Rewrite entry 6 and the head consistently: without a key or an anchor, undetectable.
      db.prepare("UPDATE audit_entries SET outcome = 'denied' WHERE seq = 6").run();
      const hash = rehash(db, 6);
      const ts = db
        .prepare('SELECT timestamp FROM audit_entries WHERE seq = 6')
        .pluck()
        .get() as number;
      db.prepare("UPDATE audit_meta SET value = ? WHERE key = 'head'").run(
        JSON.stringify({ seq: 6, hash, timestamp: ts, mac: null }),
      );
    });
    expect(await verifyFile(path)).toMatchObject({ ok: true });
    expect(await openTrail(path).verify({ anchor })).toMatchObject({
      ok: false,
      firstBadSeq: 6,
      reason: 'anchor-mismatch',
    });
  });

  it('detects tampering with the checkpoint', async () => {
    // Edited checkpoint field: the seal no longer matches.
    const edited = await trailOf(10);
    await openTrail(edited).compact({ beforeSeq: 5 });
    tamper(edited, (db) => {
      const cp = JSON.parse(
        db.prepare("SELECT value FROM audit_meta WHERE key = 'checkpoint'").pluck().get() as string,
      );
      db.prepare("UPDATE audit_meta SET value = ? WHERE key = 'checkpoint'").run(
        JSON.stringify({ ...cp, totalRemoved: 1 }),
      );
    });
    expect(await verifyFile(edited)).toMatchObject({
      ok: false,
      firstBadSeq: 4,
      reason: 'checkpoint-invalid',
    });

    // Re-sealed checkpoint that claims a different chain: the first entry no longer links to it.
    const resealed = await trailOf(10);
    await openTrail(resealed).compact({ beforeSeq: 5 });
    tamper(resealed, (db) => {
      const cp = JSON.parse(
        db.prepare("SELECT value FROM audit_meta WHERE key = 'checkpoint'").pluck().get() as string,
      );
      const fields = { ...cp, lastHash: 'a'.repeat(64) };
      const sealHash = canonicalHash({
        v: 1,
        kind: 'audit-checkpoint',
        seq: fields.seq,
        lastHash: fields.lastHash,
        lastTimestamp: fields.lastTimestamp,
        removedCount: fields.removedCount,
        totalRemoved: fields.totalRemoved,
        compactedAt: fields.compactedAt,
        previousSeal: fields.previousSeal,
      });
      db.prepare("UPDATE audit_meta SET value = ? WHERE key = 'checkpoint'").run(
        JSON.stringify({ ...fields, sealHash }),
      );
    });
    expect(await verifyFile(resealed)).toMatchObject({
      ok: false,
      firstBadSeq: 5,
      reason: 'checkpoint-link-mismatch',
    });

    // With a key, a re-sealed checkpoint fails its MAC.
    const keyed = await trailOf(10, { hmacKey: KEY });
    await openTrail(keyed, { hmacKey: KEY }).compact({ beforeSeq: 5 });
    tamper(keyed, (db) => {
      const cp = JSON.parse(
        db.prepare("SELECT value FROM audit_meta WHERE key = 'checkpoint'").pluck().get() as string,
      );
      const fields = { ...cp, totalRemoved: 1 };
      const sealHash = canonicalHash({
        v: 1,
        kind: 'audit-checkpoint',
        seq: fields.seq,
        lastHash: fields.lastHash,
        lastTimestamp: fields.lastTimestamp,
        removedCount: fields.removedCount,
        totalRemoved: fields.totalRemoved,
        compactedAt: fields.compactedAt,
        previousSeal: fields.previousSeal,
      });
      db.prepare("UPDATE audit_meta SET value = ? WHERE key = 'checkpoint'").run(
        JSON.stringify({ ...fields, sealHash }),
      );
    });
    expect(await verifyFile(keyed, { hmacKey: KEY })).toMatchObject({
      ok: false,
      firstBadSeq: 4,
      reason: 'checkpoint-invalid',
    });

    // An entry restored from before the checkpoint is an inserted entry.
    const restored = await trailOf(10);
    await openTrail(restored).compact({ beforeSeq: 5 });
    tamper(restored, (db) =>
      db
        .prepare(
          'INSERT INTO audit_entries SELECT 2, timestamp, user_id, resource_id, operation, policy_ids, outcome, required_actions, message, prev_hash, hash, mac FROM audit_entries WHERE seq = 5',
        )
        .run(),
    );
    expect(await verifyFile(restored)).toMatchObject({
      ok: false,
      firstBadSeq: 2,
      reason: 'unexpected-entry',
    });
  });

  it('refuses to compact over a damaged segment', async () => {
    const path = await trailOf(10);
    tamper(path, (db) => db.prepare("UPDATE audit_entries SET message = 'x' WHERE seq = 3").run());
    const trail = openTrail(path);
    await expect(trail.compact({ beforeSeq: 6 })).rejects.toThrow(/entry 3: hash-mismatch/);
    expect(await trail.verify()).toMatchObject({ ok: false, firstBadSeq: 3 });
    expect(AuditTrail).toBeDefined();
  });
});
