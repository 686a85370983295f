import { describe, expect, it } from 'vitest';
import { InMemoryClusterConfig } from '../../src/inmemory/in-memory-cluster-config.js';
import { clusterConfigCompliance } from '../../src/testing/compliance/cluster-config.js';
import { rejectionCode } from '../../src/testing/compliance/error-code.js';

clusterConfigCompliance('InMemoryClusterConfig', () => ({ subject: new InMemoryClusterConfig() }));

describe('InMemoryClusterConfig', () => {
  it('refuses a new key beyond maxKeys but still updates existing ones', async () => {
    const store = new InMemoryClusterConfig({ maxKeys: 2 });
    await store.put('a', '1');
    await store.put('b', '1');
    expect(await rejectionCode(store.put('c', '1'))).toBe('CAPACITY_EXCEEDED');
    expect((await store.put('a', '2')).value).toBe('2');
    expect((await store.list('')).map((entry) => entry.key)).toEqual(['a', 'b']);
  });

  it('revisions count every write and delete, as in etcd', async () => {
    const store = new InMemoryClusterConfig();
    expect((await store.put('a', '1')).revision).toBe(1);
    await store.delete('a');
    expect((await store.put('b', '1')).revision).toBe(3);
  });
});
