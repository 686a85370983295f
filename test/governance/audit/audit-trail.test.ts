import { describe, expect, it } from 'vitest';
import { AuditTrail } from '../../../src/governance/audit/audit-trail.js';
import { GENESIS_HASH } from '../../../src/governance/audit/canonical.js';
import { entry, openTrail, rejectionCode, tamper, tempPath } from './helpers.js';

describe('AuditTrail', () => {
  it('appends hash-chained entries with consecutive sequence numbers', async () => {
    const trail = openTrail(':memory:');
    const first = await trail.append(entry(1));
    const second = await trail.append(entry(2));
    expect(first).toMatchObject({
      seq: 1,
      prevHash: GENESIS_HASH,
      userId: 'user-1',
      outcome: 'allowed',
    });
    expect(second.seq).toBe(2);
    expect(second.prevHash).toBe(first.hash);
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.isFrozen(second)).toBe(true);
    expect(trail.head()).toEqual({ seq: 2, hash: second.hash, timestamp: second.timestamp });
    expect(await trail.verify()).toMatchObject({ ok: true, checkedEntries: 2 });
  });

  it('continues the chain after a restart', async () => {
    const path = tempPath();
    const before = openTrail(path);
    for (let i = 1; i <= 3; i++) await before.append(entry(i));
    const head = before.head();
    before.close();
    const after = openTrail(path, { now: () => 1_800_000_000_000 });
    const next = await after.append(entry(4));
    expect(next).toMatchObject({ seq: 4, prevHash: head.hash });
    expect(await after.verify()).toMatchObject({ ok: true, checkedEntries: 4 });
  });

  it('never lets timestamps go backwards, whatever the clock does', async () => {
    const times = [5000, 3000, 7000];
    const trail = openTrail(':memory:', { now: () => times.shift() ?? 0 });
    const stamps = [];
    for (let i = 0; i < 3; i++) stamps.push((await trail.append(entry(i))).timestamp);
    expect(stamps).toEqual([5000, 5000, 7000]);
  });

  it('rejects bad input with INVALID_ARGUMENT and writes nothing', async () => {
    const trail = openTrail(':memory:', { maxMessageBytes: 16, maxPolicyIds: 2 });
    await trail.append(entry(1));
    const head = trail.head();
    const bad: unknown[] = [
      { ...entry(2), userId: '' },
      { ...entry(2), userId: undefined },
      { ...entry(2), resourceId: 7 },
      { ...entry(2), operation: undefined },
      { ...entry(2), outcome: 'maybe' },
      { ...entry(2), message: 'x'.repeat(17) },
      { ...entry(2), message: 'é'.repeat(9) }, // 18 UTF-8 bytes
      { ...entry(2), policyIds: ['a', 'b', 'c'] },
      { ...entry(2), policyIds: ['a', 'a'] },
      { ...entry(2), policyIds: [''] },
      { ...entry(2), requiredActions: ['launch'] },
      { ...entry(2), userId: '\uD800' },
      null,
    ];
    for (const input of bad) {
      expect(await rejectionCode(trail.append(input as any)), JSON.stringify(input)).toBe(
        'INVALID_ARGUMENT',
      );
    }
    expect(trail.head()).toEqual(head);
    expect((await trail.query()).entries).toHaveLength(1);
  });

  it('queries by time range, user, resource, policy and outcome', async () => {
    const trail = openTrail(':memory:', {
      now: (() => {
        let t = 0;
        return () => (t += 10);
      })(),
    });
    for (let i = 1; i <= 40; i++) await trail.append(entry(i));
    const all = (await trail.query({ limit: 1000 })).entries;
    expect(all).toHaveLength(40);
    const seqs = async (q: Parameters<AuditTrail['query']>[0]) =>
      (await trail.query({ limit: 1000, ...q })).entries.map((e) => e.seq);
    expect(await seqs({ from: 100, to: 150 })).toEqual([10, 11, 12, 13, 14]);
    expect(await seqs({ userId: 'user-1' })).toEqual(
      all.filter((e) => e.userId === 'user-1').map((e) => e.seq),
    );
    expect(await seqs({ resourceId: 'obj/2', outcome: 'allowed' })).toEqual(
      all.filter((e) => e.resourceId === 'obj/2' && e.outcome === 'allowed').map((e) => e.seq),
    );
    expect(await seqs({ policyId: 'pii-encrypt' })).toEqual([5, 10, 15, 20, 25, 30, 35, 40]);
    expect(await seqs({ outcome: 'denied' })).toEqual([7, 14, 21, 28, 35]);
    expect(await seqs({ outcome: 'error' })).toEqual([11, 22, 33]);
    expect(await seqs({ policyId: 'pii-encrypt', order: 'desc' })).toEqual([
      40, 35, 30, 25, 20, 15, 10, 5,
    ]);
    expect(await seqs({ userId: 'nobody' })).toEqual([]);
  });

  it('pages with limit and cursor, in both orders', async () => {
    const trail = openTrail(':memory:');
    for (let i = 1; i <= 7; i++) await trail.append(entry(i));
    for (const order of ['asc', 'desc'] as const) {
      const seen: number[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await trail.query({
          limit: 3,
          order,
          ...(cursor === undefined ? {} : { cursor }),
        });
        seen.push(...page.entries.map((e) => e.seq));
        cursor = page.nextCursor;
        if (cursor === undefined) break;
      }
      expect(seen).toEqual(order === 'asc' ? [1, 2, 3, 4, 5, 6, 7] : [7, 6, 5, 4, 3, 2, 1]);
    }
    for (const query of [
      { cursor: 'nonsense' },
      { cursor: 'desc:3' },
      { limit: 0 },
      { limit: 5000 },
      { from: 1.5 },
      { outcome: 'x' },
      { userId: '' },
    ]) {
      expect(await rejectionCode(trail.query(query as any)), JSON.stringify(query)).toBe(
        'INVALID_ARGUMENT',
      );
    }
  });

  it('compacts before a sequence number or a time and still verifies', async () => {
    const trail = openTrail(':memory:', {
      now: (() => {
        let t = 0;
        return () => (t += 10);
      })(),
    });
    for (let i = 1; i <= 20; i++) await trail.append(entry(i));
    const checkpoint = await trail.compact({ beforeSeq: 8 });
    expect(checkpoint).toMatchObject({ seq: 7, removedCount: 7, totalRemoved: 7 });
    expect((await trail.query({ limit: 1000 })).entries[0]?.seq).toBe(8);
    const byTime = await trail.compact({ beforeTime: 125 }); // entries 8..12 have timestamps 80..120
    expect(byTime).toMatchObject({
      seq: 12,
      removedCount: 5,
      totalRemoved: 12,
      previousSeal: checkpoint?.sealHash,
    });
    expect(await trail.compact({ beforeSeq: 3 })).toBeUndefined();
    const result = await trail.verify();
    expect(result).toMatchObject({ ok: true, checkedEntries: 8, checkpoint: { seq: 12 } });
    await trail.append(entry(21));
    expect(await trail.verify()).toMatchObject({ ok: true, checkedEntries: 9 });
    // Compacting everything leaves a trail that still verifies and continues.
    await trail.compact({ beforeSeq: 1000 });
    expect(await trail.verify()).toMatchObject({ ok: true, checkedEntries: 0, head: { seq: 21 } });
    expect((await trail.append(entry(22))).seq).toBe(22);
    expect(await trail.verify()).toMatchObject({ ok: true, checkedEntries: 1 });
    for (const bad of [
      {},
      { beforeSeq: 1, beforeTime: 1 },
      { beforeSeq: 0 },
      { beforeTime: 'now' },
    ]) {
      expect(await rejectionCode(trail.compact(bad as any))).toBe('INVALID_ARGUMENT');
    }
  });

  it('compacts automatically past maxEntries, in steps, keeping 90%', async () => {
    const path = tempPath();
    const trail = openTrail(path, { maxEntries: 20, batchSize: 4 });
    for (let i = 1; i <= 45; i++) await trail.append(entry(i));
    const page = await trail.query({ limit: 1000 });
    expect(page.entries.length).toBeLessThanOrEqual(20);
    expect(page.entries.at(-1)?.seq).toBe(45);
    const result = await trail.verify();
    expect(result).toMatchObject({ ok: true, head: { seq: 45 } });
    if (result.ok) expect(result.checkpoint?.totalRemoved).toBe(45 - result.checkedEntries);
    expect(trail.lastCompactionError).toBeUndefined();
  });

  it('reports a failed automatic compaction without failing the append', async () => {
    const path = tempPath();
    const first = openTrail(path);
    for (let i = 1; i <= 5; i++) await first.append(entry(i));
    first.close();
    tamper(path, (db) => db.prepare("UPDATE audit_entries SET message = 'x' WHERE seq = 1").run());
    const errors: unknown[] = [];
    const trail = openTrail(path, {
      maxEntries: 5,
      onCompactionError: (error) => errors.push(error),
    });
    const appended = await trail.append(entry(6));
    expect(appended.seq).toBe(6);
    expect(errors).toHaveLength(1);
    expect(trail.lastCompactionError).toBe(errors[0]);
  });

  it('opens read-only for query and verify', async () => {
    const path = tempPath();
    const writer = openTrail(path);
    await writer.append(entry(1));
    writer.close();
    const reader = openTrail(path, { readonly: true });
    expect((await reader.query()).entries).toHaveLength(1);
    expect(await reader.verify()).toMatchObject({ ok: true });
    expect(await rejectionCode(reader.append(entry(2)))).toBe('NOT_SUPPORTED');
    expect(await rejectionCode(reader.compact({ beforeSeq: 2 }))).toBe('NOT_SUPPORTED');
  });

  it('honours aborted signals, closing, and option checks', async () => {
    const trail = openTrail(':memory:');
    const aborted = AbortSignal.abort(new Error('stop'));
    await expect(trail.append(entry(1), { signal: aborted })).rejects.toThrow('stop');
    await expect(trail.query({}, { signal: aborted })).rejects.toThrow('stop');
    await expect(trail.verify({ signal: aborted })).rejects.toThrow('stop');
    expect((await trail.query()).entries).toHaveLength(0);
    trail.close();
    trail.close();
    expect(await rejectionCode(trail.append(entry(1)))).toBe('CLOSED');
    expect(() => trail.head()).toThrow(/closed/);
    expect(() => AuditTrail.open(':memory:', { hmacKey: new Uint8Array(8) })).toThrow(/hmacKey/);
    expect(() => AuditTrail.open(':memory:', { maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => AuditTrail.open('')).toThrow(/path/);
  });
});
