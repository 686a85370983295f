import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rejectionCode } from '../../src/testing/compliance/error-code.js';
import { InMemoryFederationNode } from '../../src/inmemory/in-memory-federation-node.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('InMemoryFederationNode', () => {
  it('writes, describes and reads back ranges of an object', async () => {
    let clock = 100;
    const node = new InMemoryFederationNode({ nodeId: 'n1', now: () => clock });
    const first = await node.write({ objectId: 'o', data: bytes('hello world') });
    expect(first).toMatchObject({ objectId: 'o', sizeBytes: 11, createdAt: 100, modifiedAt: 100 });
    expect(first.sha256).toBe(createHash('sha256').update('hello world').digest('hex'));
    expect(first.version.counters).toEqual({ n1: 1 });
    expect(new TextDecoder().decode(await node.readRange('o', 6, 100))).toBe('world');
    expect(await node.readRange('o', 11, 5)).toHaveLength(0);

    clock = 200;
    const second = await node.write({ objectId: 'o', data: bytes('bye') });
    expect(second).toMatchObject({ createdAt: 100, modifiedAt: 200, sizeBytes: 3 });
    expect(second.version.compare(first.version)).toBe('after');
    expect(node.usedBytes).toBe(3);
  });

  it('copies bytes so callers cannot change what is stored', async () => {
    const node = new InMemoryFederationNode({ nodeId: 'n1' });
    const data = bytes('abc');
    await node.write({ objectId: 'o', data });
    data[0] = 0;
    const read = await node.readRange('o', 0, 3);
    read[1] = 0;
    expect(new TextDecoder().decode(await node.readRange('o', 0, 3))).toBe('abc');
  });

  it('rejects bad reads with stable codes', async () => {
    const node = new InMemoryFederationNode({ nodeId: 'n1' });
    await node.write({ objectId: 'o', data: bytes('abc') });
    expect(await rejectionCode(node.readRange('missing', 0, 1))).toBe('OBJECT_NOT_FOUND');
    expect(await rejectionCode(node.readRange('o', 4, 1))).toBe('RANGE_NOT_SATISFIABLE');
    expect(await rejectionCode(node.readRange('o', -1, 1))).toBe('INVALID_ARGUMENT');
    expect(await rejectionCode(node.readRange('o', 0, 1.5))).toBe('INVALID_ARGUMENT');
    expect(await node.getManifest('missing')).toBeUndefined();
  });

  it('refuses a write over capacity and keeps the old object', async () => {
    const node = new InMemoryFederationNode({ nodeId: 'n1', capacityBytes: 4 });
    await node.write({ objectId: 'o', data: bytes('abc') });
    expect(await rejectionCode(node.write({ objectId: 'p', data: bytes('de') }))).toBe(
      'CAPACITY_EXCEEDED',
    );
    expect(await node.getManifest('p')).toBeUndefined();
    expect(node.usedBytes).toBe(3);
    await node.write({ objectId: 'o', data: bytes('wxyz') });
    expect(node.usedBytes).toBe(4);
  });

  it('refuses a new object beyond maxObjects but still replaces existing ones', async () => {
    const node = new InMemoryFederationNode({ nodeId: 'n1', maxObjects: 1 });
    await node.write({ objectId: 'o', data: bytes('') });
    expect(await rejectionCode(node.write({ objectId: 'p', data: bytes('') }))).toBe(
      'CAPACITY_EXCEEDED',
    );
    await node.write({ objectId: 'o', data: bytes('x') });
    expect((await node.getManifest('o'))?.sizeBytes).toBe(1);
  });

  it('hands out frozen manifests, so callers cannot change what is stored', async () => {
    const node = new InMemoryFederationNode({ nodeId: 'n1' });
    const manifest = await node.write({ objectId: 'o', data: bytes('abc') });
    expect(Object.isFrozen(manifest)).toBe(true);
    expect(() => {
      (manifest as { sizeBytes: number }).sizeBytes = 999;
    }).toThrow(TypeError);
    expect((await node.getManifest('o'))?.sizeBytes).toBe(3);
  });

  it('rejects every call once closed', async () => {
    const node = new InMemoryFederationNode({ nodeId: 'n1' });
    node.close();
    expect(node.isActive).toBe(false);
    expect(await rejectionCode(node.handshake())).toBe('CLOSED');
  });
});
