import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import type { NetworkAddress, Runtime } from '../../../src/runtime/runtime.js';
import type { Simulation } from '../../../src/runtime/sim/simulation.js';
import { idleCluster, settle, streamPair } from './support.js';

/** Binds port 7000 on every node and records what each receives. */
async function datagramMesh(sim: Simulation, rt: (id: string) => Runtime, ids: string[]) {
  const received = new Map<string, { from: string; seq: number; at: number }[]>();
  const endpoints = new Map<string, Awaited<ReturnType<Runtime['network']['bindDatagram']>>>();
  for (const id of ids) {
    received.set(id, []);
    const endpoint = await settle(
      sim,
      rt(id).network.bindDatagram({ host: '', port: 7000 }, (data, from: NetworkAddress) => {
        received
          .get(id)!
          .push({ from: from.host, seq: new DataView(data.buffer).getUint32(0), at: sim.now });
      }),
    );
    endpoints.set(id, endpoint);
  }
  const send = (from: string, to: string, seq: number) => {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, seq);
    endpoints.get(from)!.send(data, { host: to, port: 7000 });
  };
  return { received, send };
}

describe('datagrams', () => {
  it('arrive after base latency plus jitter, and a clean link loses nothing', async () => {
    const { sim, rt } = await idleCluster(['a', 'b'], {
      network: { latency: { baseMs: 10, jitterMs: 5 } },
    });
    const { received, send } = await datagramMesh(sim, rt, ['a', 'b']);
    const sentAt = sim.now;
    for (let i = 0; i < 200; i++) send('a', 'b', i);
    await sim.runFor(100);
    const got = received.get('b')!;
    expect(got).toHaveLength(200);
    for (const { at } of got) {
      expect(at - sentAt).toBeGreaterThanOrEqual(10);
      expect(at - sentAt).toBeLessThan(15);
    }
    // Jitter alone reorders some.
    expect(got.map((m) => m.seq)).not.toEqual([...Array(200).keys()]);
  });

  it('loses, duplicates and reorders at the configured rates', async () => {
    const { sim, rt } = await idleCluster(['a', 'b'], {
      network: { latency: { baseMs: 1, jitterMs: 0 }, loss: 0.2, duplicate: 0.1, reorder: 0.1 },
    });
    const { received, send } = await datagramMesh(sim, rt, ['a', 'b']);
    for (let i = 0; i < 2000; i++) send('a', 'b', i);
    await sim.runFor(100);
    const seqs = received.get('b')!.map((m) => m.seq);
    const distinct = new Set(seqs);
    expect(distinct.size).toBeGreaterThan(1500);
    expect(distinct.size).toBeLessThan(1700); // ~20% lost
    expect(seqs.length - distinct.size).toBeGreaterThan(100); // ~10% duplicated
    let inversions = 0;
    for (let i = 1; i < seqs.length; i++) if (seqs[i]! < seqs[i - 1]!) inversions += 1;
    expect(inversions).toBeGreaterThan(50); // zero jitter: only the reorder model reorders
    const kinds = new Set(sim.trace.entries().map((e) => e.kind));
    for (const kind of ['deliver', 'drop', 'duplicate', 'delay'] as const)
      expect(kinds).toContain(kind);
  });

  it('per-link overrides apply to one direction only', async () => {
    const { sim, rt } = await idleCluster(['a', 'b']);
    sim.setLink('a', 'b', { loss: 1 });
    const { received, send } = await datagramMesh(sim, rt, ['a', 'b']);
    for (let i = 0; i < 20; i++) {
      send('a', 'b', i);
      send('b', 'a', i);
    }
    await sim.runFor(50);
    expect(received.get('b')).toHaveLength(0);
    expect(received.get('a')).toHaveLength(20);
  });

  it('rejects oversized datagrams and sends on a closed endpoint', async () => {
    const { sim, rt } = await idleCluster(['a'], { maxDatagramBytes: 100 });
    const endpoint = await settle(
      sim,
      rt('a').network.bindDatagram({ host: '', port: 0 }, () => {}),
    );
    expect(endpoint.address).toEqual({ host: 'a', port: 49152 });
    expect(() => endpoint.send(new Uint8Array(101), { host: 'a', port: 1 })).toThrow(
      DistributedError,
    );
    endpoint.close();
    expect(() => endpoint.send(new Uint8Array(1), { host: 'a', port: 1 })).toThrow(/closed/);
    await expect(rt('a').network.bindDatagram({ host: 'b', port: 1 }, () => {})).rejects.toThrow(
      /cannot bind/,
    );
  });
});

describe('partitions', () => {
  async function reachability(sim: Simulation, rt: (id: string) => Runtime, ids: string[]) {
    const { received, send } = await datagramMesh(sim, rt, ids);
    return async (): Promise<string[]> => {
      for (const id of ids) received.get(id)!.length = 0;
      for (const from of ids) for (const to of ids) if (from !== to) send(from, to, 0);
      await sim.runFor(20);
      const links: string[] = [];
      for (const to of ids) for (const m of received.get(to)!) links.push(`${m.from}>${to}`);
      return links.sort();
    };
  }

  it('split blocks both directions between groups and heals on schedule', async () => {
    const ids = ['a', 'b', 'c', 'd'];
    const { sim, rt } = await idleCluster(ids);
    const probe = await reachability(sim, rt, ids);
    expect(await probe()).toHaveLength(12);
    sim.partition(
      { kind: 'split', groups: [['a', 'b']] },
      { atMs: sim.now + 100, durationMs: 500 },
    );
    expect(await probe()).toHaveLength(12); // not started yet
    await sim.runFor(100);
    expect(await probe()).toEqual(['a>b', 'b>a', 'c>d', 'd>c']);
    await sim.runFor(500);
    expect(await probe()).toHaveLength(12);
  });

  it('isolate inbound and outbound, and one-way (asymmetric) cut one direction only', async () => {
    const ids = ['a', 'b', 'c'];
    const { sim, rt } = await idleCluster(ids);
    const probe = await reachability(sim, rt, ids);
    const inbound = sim.partition({ kind: 'isolate', node: 'a', direction: 'inbound' });
    expect(await probe()).toEqual(['a>b', 'a>c', 'b>c', 'c>b']);
    inbound.heal();
    const outbound = sim.partition({ kind: 'isolate', node: 'a', direction: 'outbound' });
    expect(await probe()).toEqual(['b>a', 'b>c', 'c>a', 'c>b']);
    outbound.heal();
    sim.partition({ kind: 'one-way', from: ['a'], to: ['b'] }, { durationMs: 100 });
    expect(await probe()).toEqual(['a>c', 'b>a', 'b>c', 'c>a', 'c>b']);
    await sim.runFor(100);
    expect(await probe()).toHaveLength(6);
  });

  it('drops datagrams already in flight when a partition starts', async () => {
    const { sim, rt } = await idleCluster(['a', 'b'], {
      network: { latency: { baseMs: 50, jitterMs: 0 } },
    });
    const { received, send } = await datagramMesh(sim, rt, ['a', 'b']);
    send('a', 'b', 1);
    await sim.runFor(10);
    sim.partition({ kind: 'split', groups: [['a']] }, { durationMs: 100 });
    await sim.runFor(200);
    expect(received.get('b')).toHaveLength(0);
    expect(sim.trace.entries().some((e) => e.kind === 'drop' && e.note === 'partition')).toBe(true);
  });
});

describe('streams', () => {
  it('deliver every byte in order while moving chunk boundaries', async () => {
    const { sim, rt } = await idleCluster(['a', 'b'], { network: { loss: 0.1 } });
    const { client, server } = await streamPair(sim, rt('a'), rt('b'));
    const chunks: Uint8Array[] = [];
    server.onData((chunk) => chunks.push(chunk));
    const written: number[] = [];
    const writeSizes: number[] = [];
    const random = sim.random;
    for (let w = 0; w < 300; w++) {
      const size = 1 + random.int(5000);
      writeSizes.push(size);
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i++) data[i] = (written.length + i) % 251;
      for (let i = 0; i < size; i++) written.push(written.length % 251);
      client.write(data);
      if (w % 7 === 0) await sim.runFor(3);
    }
    await sim.runFor(5_000);
    const received = chunks.flatMap((chunk) => [...chunk]);
    expect(received.length).toBe(written.length);
    expect(received).toEqual(written);
    const sizes = chunks.map((c) => c.length);
    expect(sizes).not.toEqual(writeSizes); // boundaries moved
    expect(sizes.some((s) => s > 5000)).toBe(true); // writes were joined...
    expect(sizes.filter((s) => s < 100).length).toBeGreaterThan(0); // ...and split
  });

  it('apply backpressure above the high-water mark and drain later', async () => {
    const { sim, rt } = await idleCluster(['a', 'b'], { stream: { highWaterMark: 10_000 } });
    const { client, server } = await streamPair(sim, rt('a'), rt('b'));
    let received = 0;
    server.onData((chunk) => (received += chunk.length));
    let drains = 0;
    client.onDrain(() => (drains += 1));
    expect(client.write(new Uint8Array(6_000))).toBe(true);
    expect(client.write(new Uint8Array(6_000))).toBe(false);
    expect(drains).toBe(0);
    await sim.runFor(100);
    expect(received).toBe(12_000);
    expect(drains).toBe(1);
    expect(client.write(new Uint8Array(10))).toBe(true);
  });

  it('pausing the receiver holds delivery, so the sender stays backpressured', async () => {
    const { sim, rt } = await idleCluster(['a', 'b'], { stream: { highWaterMark: 1_000 } });
    const { client, server } = await streamPair(sim, rt('a'), rt('b'));
    let received = 0;
    server.onData((chunk) => (received += chunk.length));
    sim.pause('b', 2_000);
    expect(client.write(new Uint8Array(5_000))).toBe(false);
    let drained = false;
    client.onDrain(() => (drained = true));
    await sim.runFor(1_900);
    expect(received).toBe(0);
    expect(drained).toBe(false);
    await sim.runFor(200);
    expect(received).toBe(5_000);
    expect(drained).toBe(true);
  });

  it('close flushes queued bytes, then both ends close cleanly', async () => {
    const { sim, rt } = await idleCluster(['a', 'b']);
    const { client, server } = await streamPair(sim, rt('a'), rt('b'));
    let received = 0;
    const closes: (Error | undefined)[] = [];
    server.onData((chunk) => (received += chunk.length));
    server.onClose((error) => closes.push(error));
    client.onClose((error) => closes.push(error));
    client.write(new Uint8Array(50_000));
    client.close();
    expect(client.write(new Uint8Array(1))).toBe(false);
    await sim.runFor(1_000);
    expect(received).toBe(50_000);
    expect(closes).toEqual([undefined, undefined]);
  });

  it('destroy resets the other end with an error', async () => {
    const { sim, rt } = await idleCluster(['a', 'b']);
    const { client, server } = await streamPair(sim, rt('a'), rt('b'));
    const errors: (Error | undefined)[] = [];
    server.onClose((error) => errors.push(error));
    client.destroy();
    await sim.runFor(100);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/reset/);
  });

  it('break when a partition outlasts the stream timeout, survive a shorter one', async () => {
    const { sim, rt } = await idleCluster(['a', 'b', 'c'], { stream: { timeoutMs: 1_000 } });
    const ab = await streamPair(sim, rt('a'), rt('b'), 9000);
    const ac = await streamPair(sim, rt('a'), rt('c'), 9001);
    const closed: string[] = [];
    ab.client.onClose((e) => closed.push(`ab:${e?.message ?? 'clean'}`));
    ab.server.onClose((e) => closed.push(`ba:${e?.message ?? 'clean'}`));
    ac.client.onClose(() => closed.push('ac'));
    let acReceived = 0;
    ac.server.onData((chunk) => (acReceived += chunk.length));
    sim.partition({ kind: 'one-way', from: ['a'], to: ['b'] }, { durationMs: 1_500 });
    sim.partition({ kind: 'one-way', from: ['a'], to: ['c'] }, { durationMs: 500 });
    ac.client.write(new Uint8Array(1000));
    await sim.runFor(3_000);
    expect(closed.sort()).toEqual([
      'ab:stream timed out: partitioned for 1000 ms',
      'ba:stream timed out: partitioned for 1000 ms',
    ]);
    expect(acReceived).toBe(1000); // retransmitted after the short partition healed
  });

  it('a crash of one end resets the other; connect to a closed port is refused', async () => {
    const { sim, rt } = await idleCluster(['a', 'b']);
    const { client } = await streamPair(sim, rt('a'), rt('b'));
    const errors: (Error | undefined)[] = [];
    client.onClose((error) => errors.push(error));
    sim.crash('b');
    await sim.runFor(100);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(Error);
    sim.restart('b');
    await sim.runFor(1);
    await expect(settle(sim, rt('a').network.connect({ host: 'b', port: 9000 }))).rejects.toThrow(
      /refused/,
    );
  });

  it('connect times out across a partition and honours an abort signal', async () => {
    const { sim, rt } = await idleCluster(['a', 'b'], { stream: { connectTimeoutMs: 700 } });
    await settle(
      sim,
      rt('b').network.listen({ host: '', port: 9000 }, () => {}),
    );
    sim.partition({ kind: 'split', groups: [['a']] });
    const started = sim.now;
    await expect(settle(sim, rt('a').network.connect({ host: 'b', port: 9000 }))).rejects.toThrow(
      /timed out/,
    );
    expect(sim.now - started).toBeCloseTo(700, 0);
    sim.healAll();
    const controller = new AbortController();
    const pending = rt('a').network.connect(
      { host: 'b', port: 9000 },
      { signal: controller.signal },
    );
    controller.abort(new Error('stop'));
    await expect(settle(sim, pending)).rejects.toThrow('stop');
  });
});
