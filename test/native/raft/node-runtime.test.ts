import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort } from '../../support/free-ports.js';
import { afterEach, describe, expect, it } from 'vitest';
import { datagramGossipTransport } from '../../../src/native/gossip/gossip-transport.js';
import { NativeRaftNode } from '../../../src/native/raft/native-raft-node.js';
import type { NetworkAddress } from '../../../src/runtime/runtime.js';
import { createNodeRuntime, type NodeRuntime } from '../../../src/runtime/node/node-runtime.js';
import { waitFor } from '../../support/wait-for.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('NativeRaftNode on the Node runtime (UDP on loopback, SQLite)', () => {
  it('elects, replicates, and a restarted member recovers its log from SQLite', async () => {
    const ids = ['n1', 'n2', 'n3'];
    const table: Record<string, NetworkAddress> = {};
    for (const id of ids) table[id] = { host: '127.0.0.1', port: await freeUdpPort() };
    const dirs: Record<string, string> = Object.fromEntries(
      ids.map((id) => [id, mkdtempSync(join(tmpdir(), `raft-${id}-`))]),
    );
    cleanups.push(() => {
      for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    });
    const nodes = new Map<string, { runtime: NodeRuntime; raft: NativeRaftNode }>();
    const start = async (id: string): Promise<void> => {
      const runtime = createNodeRuntime({ nodeId: id, dataDir: dirs[id] ?? tmpdir() });
      const transport = await datagramGossipTransport(runtime, {
        host: '127.0.0.1',
        port: table[id]?.port ?? 0,
        peerAddresses: table,
      });
      const raft = new NativeRaftNode(runtime, transport, { initialVoters: ids, tickMs: 20 });
      nodes.set(id, { runtime, raft });
    };
    const stop = async (id: string): Promise<void> => {
      const node = nodes.get(id);
      if (node === undefined) return;
      nodes.delete(id);
      node.raft.close();
      await node.runtime.close();
    };
    cleanups.push(async () => {
      for (const id of [...nodes.keys()]) await stop(id);
    });
    for (const id of ids) await start(id);
    const leader = (): NativeRaftNode | undefined =>
      [...nodes.values()].find((n) => n.raft.role === 'leader')?.raft;
    await waitFor(() => leader() !== undefined, 20_000);
    const result = await leader()!.put('tier/hot', 'ssd');
    expect(result.ok).toBe(true);
    const follower = [...nodes.values()].find((n) => n.raft.role !== 'leader')!.raft;
    expect((await follower.read('tier/hot'))?.value).toBe('ssd');

    const victim = follower.nodeId;
    await stop(victim);
    await start(victim);
    const back = nodes.get(victim)!.raft;
    // Its own durable log, replayed before it hears from anyone.
    await waitFor(() => back.appliedIndex >= result.revision, 20_000);
    expect((await back.read('tier/hot', { linearizable: false }))?.value).toBe('ssd');
    await waitFor(() => back.leaderId !== '', 20_000);
    expect((await back.read('tier/hot'))?.value).toBe('ssd');
  }, 60_000);
});
