/**
 * The behavioural tests every {@link ClusterConfigStore} must pass.
 *
 * @packageDocumentation
 */

import { describe, expect, it } from 'vitest';
import type { ClusterConfigStore, ConfigChange } from '../../contracts/cluster-config.js';
import { rejectionCode } from './error-code.js';
import type { ComplianceFactory } from './factory.js';
import { withSubject } from './factory.js';

/**
 * Registers the {@link ClusterConfigStore} compliance tests with Vitest. Each
 * test gets a fresh, empty store.
 *
 * @param name - The implementation's name, shown in test titles.
 * @param factory - Makes a fresh, empty store for each test.
 * @since 2.0.0
 */
export function clusterConfigCompliance(
  name: string,
  factory: ComplianceFactory<ClusterConfigStore>,
): void {
  const test = (title: string, body: (subject: ClusterConfigStore) => Promise<void>) => {
    it(title, () => withSubject(factory, body));
  };

  describe(`ClusterConfigStore compliance: ${name}`, () => {
    test('a put is read back with a revision that grows', async (store) => {
      const first = await store.put('a/x', '1');
      const second = await store.put('a/x', '2');
      expect(second.revision).toBeGreaterThan(first.revision);
      expect(await store.get('a/x')).toEqual({ key: 'a/x', value: '2', revision: second.revision });
      expect(await store.get('a/none')).toBeUndefined();
    });

    test('list returns the keys under a prefix in key order', async (store) => {
      await store.put('p/b', '2');
      await store.put('p/a', '1');
      await store.put('q/a', '3');
      expect((await store.list('p/')).map((entry) => entry.key)).toEqual(['p/a', 'p/b']);
    });

    test('compare-and-set by revision applies once and reports what it found', async (store) => {
      const written = await store.put('k', 'v1');
      const applied = await store.compareAndSet('k', { revision: written.revision }, 'v2');
      expect(applied.succeeded).toBe(true);
      expect(applied.current?.value).toBe('v2');
      const stale = await store.compareAndSet('k', { revision: written.revision }, 'v3');
      expect(stale.succeeded).toBe(false);
      expect(stale.current?.value).toBe('v2');
      expect((await store.get('k'))?.value).toBe('v2');
    });

    test('compare-and-set by value, and on absence', async (store) => {
      expect((await store.compareAndSet('n', { value: undefined }, 'first')).succeeded).toBe(true);
      expect((await store.compareAndSet('n', { value: undefined }, 'again')).succeeded).toBe(false);
      expect((await store.compareAndSet('n', { revision: 0 }, 'again')).succeeded).toBe(false);
      expect((await store.compareAndSet('n', { value: 'first' }, 'second')).succeeded).toBe(true);
      expect((await store.get('n'))?.value).toBe('second');
    });

    test('delete removes a key once', async (store) => {
      await store.put('d', 'x');
      expect(await store.delete('d')).toBe(true);
      expect(await store.delete('d')).toBe(false);
      expect(await store.get('d')).toBeUndefined();
    });

    test('watchers hear puts and deletes in revision order', async (store) => {
      const heard: ConfigChange[] = [];
      store.onConfigChanged((change) => heard.push(change));
      // An implementation may open its watch asynchronously: wait until a probe write is heard.
      for (let attempt = 0; attempt < 200 && heard.length === 0; attempt += 1) {
        await store.put('watch/probe', String(attempt));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const from = heard.length;
      await store.put('watch/a', '1');
      await store.delete('watch/a');
      for (let attempt = 0; attempt < 200 && heard.length < from + 2; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const tail = heard.slice(from).filter((change) => change.key === 'watch/a');
      expect(tail.map((change) => change.type)).toEqual(['put', 'delete']);
      expect(tail[1]?.revision).toBeGreaterThan(tail[0]?.revision ?? Infinity);
    });

    test('bad input is refused with INVALID_ARGUMENT and changes nothing', async (store) => {
      expect(await rejectionCode(store.put('', 'x'))).toBe('INVALID_ARGUMENT');
      expect(await rejectionCode(store.put('k'.repeat(100_000), 'x'))).toBe('INVALID_ARGUMENT');
      expect(await rejectionCode(store.compareAndSet('k', { revision: -1 }, 'x'))).toBe(
        'INVALID_ARGUMENT',
      );
      expect(await store.list('')).toEqual([]);
    });

    test('an aborted signal rejects with its reason and changes nothing', async (store) => {
      const reason = new Error('cancelled by test');
      const signal = AbortSignal.abort(reason);
      await expect(store.put('k', 'v', { signal })).rejects.toBe(reason);
      await expect(store.get('k', { signal })).rejects.toBe(reason);
      expect(await store.get('k')).toBeUndefined();
    });
  });
}
