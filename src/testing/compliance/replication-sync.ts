/**
 * The behavioural tests every {@link ReplicationSync} must pass.
 *
 * @packageDocumentation
 */

import { describe, expect, it } from 'vitest';
import {
  CONFLICT_RESOLUTION_STRATEGIES,
  SYNC_MODES,
  type ReplicationSync,
  type SyncConflict,
  type SyncEvent,
  type SyncRequest,
} from '../../contracts/replication-sync.js';
import { VectorClock } from '../../contracts/vector-clock.js';
import type { ComplianceFactory } from './factory.js';
import { rejectionCode } from './error-code.js';
import { withSubject } from './factory.js';

/** A node id no test environment has. */
const UNKNOWN_NODE = 'no-such-node-6f1c';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

/**
 * Registers the {@link ReplicationSync} compliance tests with Vitest.
 *
 * The factory's subject must be able to settle conflicts with its configured strategy (a
 * built-in one, or `merge`/`custom` with a resolver registered); the tests check each
 * result against the strategy it reports. Syncing with a node id that exists nowhere
 * (`no-such-node-6f1c`) must fail with a result rather than reject.
 *
 * @example
 * ```ts
 * replicationSyncCompliance('InMemoryReplicationSync', () => ({
 *   subject: new InMemoryReplicationSync(),
 * }));
 * ```
 *
 * @param name - The implementation's name, shown in test titles.
 * @param factory - Makes a fresh replication sync for each test.
 * @since 2.0.0
 */
export function replicationSyncCompliance(
  name: string,
  factory: ComplianceFactory<ReplicationSync>,
): void {
  // `skip` reports a test that does not apply to this configuration as skipped, never as passed.
  const test = (
    title: string,
    body: (subject: ReplicationSync, skip: (note: string) => never) => Promise<void> | void,
  ) => {
    it(title, (context) =>
      withSubject(factory, (subject) =>
        body(subject, (note) => {
          context.skip(note);
          throw new Error('unreachable: skip() ends the test');
        }),
      ),
    );
  };

  const conflict: SyncConflict = {
    key: 'orders/42',
    localValue: bytes(1, 2, 3),
    remoteValue: bytes(9, 9),
    localTimestamp: 1_000,
    remoteTimestamp: 2_000,
  };

  describe(`ReplicationSync compliance: ${name}`, () => {
    test('reports a valid current mode', (sync) => {
      expect(SYNC_MODES).toContain(sync.currentMode);
    });

    test('a node never synced with is idle at 0 percent with no lastSyncAt', async (sync) => {
      const status = await sync.getSyncStatus(UNKNOWN_NODE);
      expect(status).toEqual({ targetNodeId: UNKNOWN_NODE, state: 'idle', progressPercent: 0 });
    });

    test('a sync that cannot be carried out resolves with a failed result', async (sync) => {
      const events: SyncEvent[] = [];
      sync.onSyncEvent((event) => events.push(event));
      const result = await sync.sync({ targetNodeId: UNKNOWN_NODE, mode: 'online' });
      expect(result.success).toBe(false);
      expect(result.errorCode).toBeDefined();
      expect(result.errorMessage).toMatch(/\S/);
      expect(result.durationMs).toBeGreaterThanOrEqual(0);
      expect(events.at(-1)).toMatchObject({ eventType: 'sync-failed', targetNodeId: UNKNOWN_NODE });
      expect(events.map((event) => event.eventType)).not.toContain('sync-completed');
      const status = await sync.getSyncStatus(UNKNOWN_NODE);
      expect(status.state).toBe('error');
      expect(status.lastSyncAt).toBeUndefined();
    });

    test('a malformed sync request is INVALID_ARGUMENT and emits nothing', async (sync) => {
      const events: SyncEvent[] = [];
      sync.onSyncEvent((event) => events.push(event));
      const malformed: unknown[] = [
        { targetNodeId: '', mode: 'online' },
        { targetNodeId: UNKNOWN_NODE, mode: 'carrier-pigeon' },
        { targetNodeId: UNKNOWN_NODE, mode: 'online', sinceTimestamp: -1 },
      ];
      for (const request of malformed) {
        expect(await rejectionCode(sync.sync(request as SyncRequest))).toBe('INVALID_ARGUMENT');
      }
      expect(events).toHaveLength(0);
      expect((await sync.getSyncStatus(UNKNOWN_NODE)).state).toBe('idle');
    });

    test('resolveConflict applies the strategy it reports and emits conflict-resolved', async (sync) => {
      const events: SyncEvent[] = [];
      sync.onSyncEvent((event) => events.push(event));
      const result = await sync.resolveConflict(conflict);
      expect(result.key).toBe(conflict.key);
      expect(CONFLICT_RESOLUTION_STRATEGIES).toContain(result.strategy);
      expect(result.resolvedValue).toBeInstanceOf(Uint8Array);
      if (result.strategy === 'local-wins')
        expect(result.resolvedValue).toEqual(conflict.localValue);
      if (result.strategy === 'remote-wins' || result.strategy === 'latest-wins') {
        // The remote value has the later timestamp.
        expect(result.resolvedValue).toEqual(conflict.remoteValue);
      }
      expect(result.resolvedVersion).toBeUndefined();
      const resolved = events.filter((event) => event.eventType === 'conflict-resolved');
      expect(resolved).toHaveLength(1);
    });

    test('latest-wins breaks equal timestamps by byte order, whichever side is local', async (sync, skip) => {
      const tie = { ...conflict, localTimestamp: 5, remoteTimestamp: 5 };
      const forward = await sync.resolveConflict({
        ...tie,
        localValue: bytes(1, 2),
        remoteValue: bytes(1, 2, 0),
      });
      if (forward.strategy !== 'latest-wins') skip(`configured for ${forward.strategy}`);
      expect(forward.resolvedValue).toEqual(bytes(1, 2, 0));
      const backward = await sync.resolveConflict({
        ...tie,
        localValue: bytes(1, 2, 0),
        remoteValue: bytes(1, 2),
      });
      expect(backward.resolvedValue).toEqual(bytes(1, 2, 0));
      const high = await sync.resolveConflict({
        ...tie,
        localValue: bytes(200),
        remoteValue: bytes(7, 255),
      });
      expect(high.resolvedValue).toEqual(bytes(200));
    });

    test('the resolved version is the merge of both versions, absent with only one', async (sync) => {
      const localVersion = VectorClock.empty().increment('node-a').increment('node-a');
      const remoteVersion = VectorClock.empty().increment('node-b');
      const both = await sync.resolveConflict({ ...conflict, localVersion, remoteVersion });
      expect(both.resolvedVersion?.counters).toEqual({ 'node-a': 2, 'node-b': 1 });
      const one = await sync.resolveConflict({ ...conflict, localVersion });
      expect(one.resolvedVersion).toBeUndefined();
    });

    test('the result does not share bytes with the conflict', async (sync) => {
      const localValue = bytes(1, 2, 3);
      const remoteValue = bytes(4, 5, 6);
      const result = await sync.resolveConflict({ ...conflict, localValue, remoteValue });
      const before = result.resolvedValue.slice();
      localValue.fill(0);
      remoteValue.fill(0);
      expect(result.resolvedValue).toEqual(before);
    });

    test('a malformed conflict is INVALID_ARGUMENT and emits nothing', async (sync) => {
      const events: SyncEvent[] = [];
      sync.onSyncEvent((event) => events.push(event));
      const malformed: unknown[] = [
        { ...conflict, key: '' },
        { ...conflict, localValue: 'not bytes' },
        { ...conflict, remoteTimestamp: Number.NaN },
        { ...conflict, localVersion: { 'node-a': 1 } },
      ];
      for (const bad of malformed) {
        expect(await rejectionCode(sync.resolveConflict(bad as SyncConflict))).toBe(
          'INVALID_ARGUMENT',
        );
      }
      expect(events).toHaveLength(0);
    });

    test('an unsubscribed listener hears nothing, via call or dispose', async (sync) => {
      const heard: SyncEvent[] = [];
      const unsubscribe = sync.onSyncEvent((event) => heard.push(event));
      unsubscribe();
      {
        using _disposed = sync.onSyncEvent((event) => heard.push(event));
      }
      await sync.sync({ targetNodeId: UNKNOWN_NODE, mode: 'online' });
      await sync.resolveConflict(conflict);
      expect(heard).toHaveLength(0);
    });

    test('a throwing listener does not stop the others', async (sync) => {
      const heard: string[] = [];
      sync.onSyncEvent(() => {
        throw new Error('listener failure');
      });
      sync.onSyncEvent((event) => heard.push(event.eventType));
      await sync.resolveConflict(conflict);
      expect(heard).toContain('conflict-resolved');
    });

    test('an aborted signal rejects with its reason and changes nothing', async (sync) => {
      const reason = new Error('cancelled by test');
      const signal = AbortSignal.abort(reason);
      const events: SyncEvent[] = [];
      sync.onSyncEvent((event) => events.push(event));
      await expect(
        sync.sync({ targetNodeId: UNKNOWN_NODE, mode: 'online' }, { signal }),
      ).rejects.toBe(reason);
      await expect(sync.getSyncStatus(UNKNOWN_NODE, { signal })).rejects.toBe(reason);
      await expect(sync.resolveConflict(conflict, { signal })).rejects.toBe(reason);
      expect(events).toHaveLength(0);
      expect((await sync.getSyncStatus(UNKNOWN_NODE)).state).toBe('idle');
    });
  });
}
