import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import { createNodeRuntime, type NodeRuntime } from '../../../src/runtime/node/node-runtime.js';
import { runtimeCompliance } from '../../../src/testing/compliance/runtime.js';

const LOOPBACK = { host: '127.0.0.1', port: 0 } as const;

runtimeCompliance('Node runtime', () => {
  const nodes = [
    createNodeRuntime({ nodeId: 'node-a' }),
    createNodeRuntime({ nodeId: 'node-b' }),
  ] as const;
  return {
    subject: { nodes, bindAddress: () => LOOPBACK, settle: (promise) => promise },
    cleanup: async () => {
      await Promise.all(nodes.map((node) => node.close()));
    },
  };
});

describe('createNodeRuntime', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const runtime = (options: Parameters<typeof createNodeRuntime>[0]): NodeRuntime => {
    const created = createNodeRuntime(options);
    cleanups.push(() => created.close());
    return created;
  };

  it('refuses an empty node id', () => {
    expect(() => createNodeRuntime({ nodeId: '' })).toThrow(DistributedError);
  });

  it('gives the same random sequence for the same seed and node, different ones across nodes', () => {
    const first = runtime({ nodeId: 'n1', seed: 42 });
    const again = runtime({ nodeId: 'n1', seed: 42 });
    const other = runtime({ nodeId: 'n2', seed: 42 });
    const draw = (r: NodeRuntime) => [
      r.random.int(1_000_000),
      r.random.next(),
      ...r.random.bytes(8),
    ];
    const sequence = draw(first);
    expect(draw(again)).toEqual(sequence);
    expect(draw(other)).not.toEqual(sequence);
  });

  it('close cancels timers, resets connections, frees ports and refuses further use', async () => {
    const a = createNodeRuntime({ nodeId: 'a' });
    const b = runtime({ nodeId: 'b' });
    let timerFired = false;
    a.clock.setTimer(20, () => (timerFired = true));
    const listener = await a.network.listen(LOOPBACK, () => undefined);
    const endpoint = await a.network.bindDatagram(LOOPBACK, () => undefined);
    const client = await b.network.connect(listener.address);
    const clientClosed = new Promise((resolve) => client.onClose(resolve));
    const store = a.storage.open('s');
    store.put('k', new Uint8Array([1]));

    await a.close();
    await a.close();
    await clientClosed;
    await expect(b.network.connect(listener.address)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    // The datagram port is free again: it can be bound anew.
    const rebound = await b.network.bindDatagram(endpoint.address, () => undefined);
    rebound.close();
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(timerFired).toBe(false);
    expect(() => a.clock.setTimer(1, () => undefined)).toThrow(
      expect.objectContaining({ code: 'CLOSED' }),
    );
    await expect(a.network.listen(LOOPBACK, () => undefined)).rejects.toMatchObject({
      code: 'CLOSED',
    });
    expect(() => store.get('k')).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    expect(() => a.storage.open('s')).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });

  it('keeps synced state in its data directory across restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dw-node-runtime-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const first = createNodeRuntime({ nodeId: 'n1', dataDir });
    first.storage.open('raft').put('term', new Uint8Array([7]));
    await first.storage.open('raft').sync();
    await first.close();
    const second = runtime({ nodeId: 'n1', dataDir });
    expect(Array.from(second.storage.open('raft').get('term') ?? [])).toEqual([7]);
  });

  it('supports await using', async () => {
    let network: NodeRuntime['network'];
    {
      await using scoped = createNodeRuntime({ nodeId: 'scoped' });
      network = scoped.network;
    }
    await expect(network.listen(LOOPBACK, () => undefined)).rejects.toMatchObject({
      code: 'CLOSED',
    });
  });
});
