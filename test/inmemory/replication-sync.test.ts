import fc from 'fast-check';
import { failureOf } from '../support/failures.js';
import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../src/contracts/errors.js';
import type { SyncConflict, SyncEvent } from '../../src/contracts/replication-sync.js';
import { VectorClock } from '../../src/contracts/vector-clock.js';
import {
  chooseConflictSide,
  compareBytes,
  resolvedConflictVersion,
} from '../../src/core/replication/conflict.js';
import { InMemoryReplicationSync } from '../../src/inmemory/in-memory-replication-sync.js';
import { replicationSyncCompliance } from '../../src/testing/compliance/replication-sync.js';

const quietListenerErrors = { onListenerError: () => undefined };

replicationSyncCompliance('InMemoryReplicationSync', () => ({
  subject: new InMemoryReplicationSync(quietListenerErrors),
}));

replicationSyncCompliance('InMemoryReplicationSync (local-wins)', () => ({
  subject: new InMemoryReplicationSync({ ...quietListenerErrors, conflictStrategy: 'local-wins' }),
}));

replicationSyncCompliance('InMemoryReplicationSync (merge)', () => {
  const subject = new InMemoryReplicationSync({
    ...quietListenerErrors,
    conflictStrategy: 'merge',
  });
  subject.registerResolver('merge', ({ localValue, remoteValue }) =>
    Uint8Array.from([...localValue, ...remoteValue]),
  );
  return { subject };
});

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

const conflict: SyncConflict = {
  key: 'orders/42',
  localValue: bytes(1),
  remoteValue: bytes(2),
  localTimestamp: 10,
  remoteTimestamp: 20,
};

const clock = fc
  .dictionary(fc.constantFrom('node-a', 'node-b', 'node-c'), fc.nat({ max: 5 }))
  .map((counters) => VectorClock.from(counters));

const conflictArbitrary = fc.record(
  {
    key: fc.string({ minLength: 1 }),
    localValue: fc.uint8Array({ maxLength: 6 }),
    remoteValue: fc.uint8Array({ maxLength: 6 }),
    localTimestamp: fc.nat({ max: 4 }),
    remoteTimestamp: fc.nat({ max: 4 }),
    localVersion: clock,
    remoteVersion: clock,
  },
  { requiredKeys: ['key', 'localValue', 'remoteValue', 'localTimestamp', 'remoteTimestamp'] },
);

const swapSides = (c: SyncConflict): SyncConflict => ({
  key: c.key,
  localValue: c.remoteValue,
  remoteValue: c.localValue,
  localTimestamp: c.remoteTimestamp,
  remoteTimestamp: c.localTimestamp,
  ...(c.remoteVersion === undefined ? {} : { localVersion: c.remoteVersion }),
  ...(c.localVersion === undefined ? {} : { remoteVersion: c.localVersion }),
});

describe('conflict rules (core)', () => {
  it('compareBytes is unsigned, lexicographic, and a prefix sorts first', () => {
    expect(compareBytes(bytes(255), bytes(1, 0))).toBeGreaterThan(0);
    expect(compareBytes(bytes(1, 2), bytes(1, 2, 0))).toBeLessThan(0);
    expect(compareBytes(bytes(), bytes())).toBe(0);
  });

  it('compareBytes agrees with comparing hex strings of equal-width bytes', () => {
    const hex = (value: Uint8Array) =>
      [...value].map((byte) => byte.toString(16).padStart(2, '0')).join('');
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), (a, b) => {
        const expected = hex(a) < hex(b) ? -1 : hex(a) > hex(b) ? 1 : 0;
        expect(Math.sign(compareBytes(a, b))).toBe(expected);
      }),
    );
  });

  it('latest-wins is symmetric: both nodes keep the same value and version', async () => {
    const nodeA = new InMemoryReplicationSync({ nodeId: 'node-a' });
    const nodeB = new InMemoryReplicationSync({ nodeId: 'node-b' });
    await fc.assert(
      fc.asyncProperty(conflictArbitrary, async (c) => {
        const onA = await nodeA.resolveConflict(c);
        const onB = await nodeB.resolveConflict(swapSides(c));
        expect(onA.resolvedValue).toEqual(onB.resolvedValue);
        expect(onA.resolvedVersion?.counters).toEqual(onB.resolvedVersion?.counters);
      }),
    );
  });

  it('latest-wins keeps the later timestamp, and the greater bytes on a tie', () => {
    fc.assert(
      fc.property(conflictArbitrary, (c) => {
        const side = chooseConflictSide(c, 'latest-wins');
        const kept = side === 'local' ? c.localValue : c.remoteValue;
        const other = side === 'local' ? c.remoteValue : c.localValue;
        const keptAt = side === 'local' ? c.localTimestamp : c.remoteTimestamp;
        const otherAt = side === 'local' ? c.remoteTimestamp : c.localTimestamp;
        expect(keptAt).toBeGreaterThanOrEqual(otherAt);
        if (keptAt === otherAt) expect(compareBytes(kept, other)).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('local-wins and remote-wins ignore timestamps and versions', () => {
    fc.assert(
      fc.property(conflictArbitrary, (c) => {
        expect(chooseConflictSide(c, 'local-wins')).toBe('local');
        expect(chooseConflictSide(c, 'remote-wins')).toBe('remote');
      }),
    );
  });

  it('the resolved version is after-or-equal both versions', () => {
    fc.assert(
      fc.property(conflictArbitrary, (c) => {
        const version = resolvedConflictVersion(c);
        if (c.localVersion === undefined || c.remoteVersion === undefined) {
          expect(version).toBeUndefined();
          return;
        }
        expect(['after', 'equal']).toContain(version?.compare(c.localVersion));
        expect(['after', 'equal']).toContain(version?.compare(c.remoteVersion));
      }),
    );
  });
});

describe('InMemoryReplicationSync', () => {
  it('is offline, with latest-wins by default', () => {
    const sync = new InMemoryReplicationSync({ nodeId: 'node-a' });
    expect(sync.currentMode).toBe('offline');
    expect(sync.conflictStrategy).toBe('latest-wins');
    expect(sync.nodeId).toBe('node-a');
  });

  it('a sync with another node fails with SYNC_UNAVAILABLE, emitting only sync-failed', async () => {
    let now = 100;
    const sync = new InMemoryReplicationSync({ nodeId: 'node-a', now: () => now++ });
    const events: SyncEvent[] = [];
    sync.onSyncEvent((event) => events.push(event));
    for (const mode of ['online', 'offline', 'air-gap', 'hybrid'] as const) {
      const result = await sync.sync({ targetNodeId: 'node-b', mode, dataSetFilter: [] });
      expect(result).toMatchObject({
        success: false,
        errorCode: 'SYNC_UNAVAILABLE',
        itemsSynced: 0,
        conflictsDetected: 0,
      });
      expect(result.errorMessage).toMatch(new RegExp(`single-node.*no replication transport`));
      expect(result.errorMessage).toContain(mode);
      expect(Object.isFrozen(result)).toBe(true);
    }
    expect(events.map((event) => event.eventType)).toEqual(Array(4).fill('sync-failed'));
    expect(events[0]).toMatchObject({ targetNodeId: 'node-b' });
    expect(events[0]?.detail).toMatch(/no replication transport/);
    expect(await sync.getSyncStatus('node-b')).toEqual({
      targetNodeId: 'node-b',
      state: 'error',
      progressPercent: 0,
    });
  });

  it('a sync with itself is INVALID_ARGUMENT and records nothing', async () => {
    const sync = new InMemoryReplicationSync({ nodeId: 'node-a' });
    const events: SyncEvent[] = [];
    sync.onSyncEvent((event) => events.push(event));
    const failure = await failureOf(sync.sync({ targetNodeId: 'node-a', mode: 'online' }));
    expect(failure.code).toBe('INVALID_ARGUMENT');
    expect(failure.message).toMatch(/itself/);
    expect(events).toEqual([]);
    expect((await sync.getSyncStatus('node-a')).state).toBe('idle');
  });

  it('rejects a malformed consistency or filter, and an empty status id', async () => {
    const sync = new InMemoryReplicationSync();
    const bad: unknown[] = [
      { targetNodeId: 'node-b', mode: 'online', consistency: 'psychic' },
      { targetNodeId: 'node-b', mode: 'online', dataSetFilter: 'all' },
      { targetNodeId: 'node-b', mode: 'online', dataSetFilter: [1] },
      null,
    ];
    for (const request of bad) {
      expect((await failureOf(sync.sync(request as never))).code).toBe('INVALID_ARGUMENT');
    }
    expect((await failureOf(sync.getSyncStatus(''))).code).toBe('INVALID_ARGUMENT');
  });

  it('forgets the target tried longest ago beyond maxTrackedTargets', async () => {
    const sync = new InMemoryReplicationSync({ nodeId: 'self', maxTrackedTargets: 2 });
    for (const target of ['n1', 'n2', 'n1', 'n3']) {
      await sync.sync({ targetNodeId: target, mode: 'online' });
    }
    expect((await sync.getSyncStatus('n1')).state).toBe('error');
    expect((await sync.getSyncStatus('n2')).state).toBe('idle');
    expect((await sync.getSyncStatus('n3')).state).toBe('error');
  });

  it('rejects bad options at construction', () => {
    expect(() => new InMemoryReplicationSync({ maxTrackedTargets: 0 })).toThrow(DistributedError);
    expect(() => new InMemoryReplicationSync({ nodeId: '' })).toThrow(DistributedError);
    expect(() => new InMemoryReplicationSync({ conflictStrategy: 'coin-flip' as never })).toThrow(
      DistributedError,
    );
  });

  it('remote-wins keeps the remote value even when it is older', async () => {
    const sync = new InMemoryReplicationSync({ conflictStrategy: 'remote-wins' });
    const result = await sync.resolveConflict({ ...conflict, localTimestamp: 99 });
    expect(result).toMatchObject({ strategy: 'remote-wins', resolvedValue: bytes(2) });
  });

  it('emits conflict-detected then conflict-resolved with the key and an empty target', async () => {
    const sync = new InMemoryReplicationSync({ now: () => 7 });
    const events: SyncEvent[] = [];
    sync.onSyncEvent((event) => events.push(event));
    await sync.resolveConflict(conflict);
    expect(events).toEqual([
      { eventType: 'conflict-detected', targetNodeId: '', timestamp: 7, detail: 'orders/42' },
      { eventType: 'conflict-resolved', targetNodeId: '', timestamp: 7, detail: 'orders/42' },
    ]);
  });

  it('merge and custom without a resolver are RESOLVER_NOT_REGISTERED and emit nothing', async () => {
    for (const conflictStrategy of ['merge', 'custom'] as const) {
      const sync = new InMemoryReplicationSync({ conflictStrategy });
      const events: SyncEvent[] = [];
      sync.onSyncEvent((event) => events.push(event));
      const failure = await failureOf(sync.resolveConflict(conflict));
      expect(failure.code).toBe('RESOLVER_NOT_REGISTERED');
      expect(failure.message).toContain(conflictStrategy);
      expect(events).toEqual([]);
    }
  });

  it('only the resolver for the configured strategy is used, and unsubscribing removes it', async () => {
    const sync = new InMemoryReplicationSync({ conflictStrategy: 'custom' });
    sync.registerResolver('merge', () => bytes(0xee));
    expect((await failureOf(sync.resolveConflict(conflict))).code).toBe('RESOLVER_NOT_REGISTERED');
    const seen: SyncConflict[] = [];
    const unregister = sync.registerResolver('custom', (given, options) => {
      seen.push(given);
      expect(options).toBeDefined();
      return bytes(0xcc);
    });
    const version = VectorClock.empty().increment('node-a');
    const result = await sync.resolveConflict({
      ...conflict,
      localVersion: version,
      remoteVersion: version.increment('node-b'),
    });
    expect(result).toMatchObject({ strategy: 'custom', resolvedValue: bytes(0xcc) });
    expect(result.resolvedVersion?.counters).toEqual({ 'node-a': 1, 'node-b': 1 });
    expect(seen[0]?.localValue).toEqual(conflict.localValue);
    expect(seen[0]?.localValue).not.toBe(conflict.localValue);
    unregister();
    expect((await failureOf(sync.resolveConflict(conflict))).code).toBe('RESOLVER_NOT_REGISTERED');
  });

  it('a replaced resolver is not removed by the old disposer', async () => {
    const sync = new InMemoryReplicationSync({ conflictStrategy: 'merge' });
    const first = sync.registerResolver('merge', () => bytes(1));
    sync.registerResolver('merge', async () => Promise.resolve(bytes(2)));
    first();
    expect((await sync.resolveConflict(conflict)).resolvedValue).toEqual(bytes(2));
  });

  it('a resolver returning something else is INVALID_ARGUMENT; a throwing one is rethrown', async () => {
    const sync = new InMemoryReplicationSync({ conflictStrategy: 'custom' });
    const events: SyncEvent[] = [];
    sync.onSyncEvent((event) => events.push(event));
    sync.registerResolver('custom', () => 'text' as never);
    expect((await failureOf(sync.resolveConflict(conflict))).code).toBe('INVALID_ARGUMENT');
    const boom = new Error('resolver failed');
    sync.registerResolver('custom', () => {
      throw boom;
    });
    await expect(sync.resolveConflict(conflict)).rejects.toBe(boom);
    expect(events.map((event) => event.eventType)).not.toContain('conflict-resolved');
  });

  it('a call cancelled while its resolver runs rejects and reports no resolution', async () => {
    const sync = new InMemoryReplicationSync({ conflictStrategy: 'merge' });
    const controller = new AbortController();
    const reason = new Error('cancelled mid-resolve');
    sync.registerResolver('merge', () => {
      controller.abort(reason);
      return bytes(3);
    });
    const events: SyncEvent[] = [];
    sync.onSyncEvent((event) => events.push(event));
    await expect(sync.resolveConflict(conflict, { signal: controller.signal })).rejects.toBe(
      reason,
    );
    expect(events.map((event) => event.eventType)).toEqual(['conflict-detected']);
  });

  it('registerResolver rejects other strategies and non-functions', () => {
    const sync = new InMemoryReplicationSync();
    expect(() => sync.registerResolver('latest-wins' as never, () => bytes())).toThrow(
      DistributedError,
    );
    expect(() => sync.registerResolver('merge', 'nope' as never)).toThrow(DistributedError);
  });
});
