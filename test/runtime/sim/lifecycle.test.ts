import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { Simulation } from '../../../src/runtime/sim/simulation.js';
import { idleCluster, settle } from './support.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) =>
  value === undefined ? undefined : new TextDecoder().decode(value);

describe('storage', () => {
  it('keeps synced writes and loses unsynced ones on a crash', async () => {
    const { sim, rt } = await idleCluster(['a']);
    const store = rt('a').storage.open('kv');
    store.put('x', bytes('1'));
    store.put('y', bytes('1'));
    await settle(sim, store.sync());
    store.put('x', bytes('2'));
    store.delete('y');
    store.put('z', bytes('2'));
    expect(text(store.get('x'))).toBe('2'); // visible at once
    expect(store.keys()).toEqual(['x', 'z']);
    expect([...sim.durable('a', 'kv').keys()].sort()).toEqual(['x', 'y']);
    sim.crash('a');
    sim.restart('a');
    await sim.runFor(1);
    const reopened = rt('a').storage.open('kv');
    expect(text(reopened.get('x'))).toBe('1');
    expect(text(reopened.get('y'))).toBe('1');
    expect(reopened.get('z')).toBeUndefined();
    // The old incarnation's handle can no longer write.
    store.put('w', bytes('zombie'));
    expect(reopened.get('w')).toBeUndefined();
  });

  it('a sync covers the writes made before it was called, and resolves after the fsync delay', async () => {
    const { sim, rt } = await idleCluster(['a'], {
      storage: { fsyncBaseMs: 10, fsyncJitterMs: 0 },
    });
    const store = rt('a').storage.open('kv');
    store.put('k', bytes('before'));
    const started = sim.now;
    const synced = store.sync();
    store.put('k', bytes('after'));
    await settle(sim, synced);
    expect(sim.now - started).toBe(10);
    expect(text(sim.durable('a', 'kv').get('k'))).toBe('before');
  });

  it('a crash during an fsync loses the writes it would have covered', async () => {
    const { sim, rt } = await idleCluster(['a'], {
      storage: { fsyncBaseMs: 10, fsyncJitterMs: 0 },
    });
    const store = rt('a').storage.open('kv');
    store.put('k', bytes('v'));
    let resolved = false;
    void store.sync().then(() => (resolved = true));
    await sim.runFor(5);
    sim.crash('a');
    await sim.runFor(20);
    expect(resolved).toBe(false);
    expect(sim.durable('a', 'kv').size).toBe(0);
  });

  it('validates names and keeps keys in code-unit order', async () => {
    const { rt } = await idleCluster(['a']);
    expect(() => rt('a').storage.open('bad name')).toThrow(DistributedError);
    const store = rt('a').storage.open('s');
    for (const key of ['b', 'B', 'a/2', 'a/10', 'é']) store.put(key, bytes(key));
    expect(store.keys()).toEqual(['B', 'a/10', 'a/2', 'b', 'é']);
    expect(store.keys('a/')).toEqual(['a/10', 'a/2']);
    const value = store.get('b')!;
    value[0] = 0;
    expect(text(store.get('b'))).toBe('b');
  });
});

describe('clock, pause, crash and restart', () => {
  it('drift makes a node’s timers fire early or late in virtual time, never early in its own', async () => {
    const sim = new Simulation({ seed: 3 });
    const fired: Record<string, { virtual: number; local: number }> = {};
    const program = (runtime: Runtime) => {
      const started = runtime.clock.monotonic();
      runtime.clock.setTimer(1_000, () => {
        fired[runtime.nodeId] = { virtual: sim.now, local: runtime.clock.monotonic() - started };
      });
    };
    sim.addNode('fast', program, { driftPpm: 1_000 });
    sim.addNode('slow', program, { driftPpm: -1_000 });
    sim.addNode('exact', program);
    await sim.runFor(2_000);
    expect(fired.fast!.virtual).toBeCloseTo(1_000 / 1.001, 6);
    expect(fired.slow!.virtual).toBeCloseTo(1_000 / 0.999, 6);
    expect(fired.exact!.virtual).toBe(1_000);
    for (const { local } of Object.values(fired)) expect(local).toBeGreaterThanOrEqual(1_000);
  });

  it('now() carries the epoch and the node offset; monotonic() ignores the offset', async () => {
    const { sim, rt } = await idleCluster(['a', 'b'], { epochMs: 1_000_000 });
    await sim.runFor(500);
    sim.setClockOffset('b', -300);
    expect(rt('a').clock.now()).toBe(1_000_500);
    expect(rt('b').clock.now()).toBe(1_000_200);
    expect(rt('b').clock.monotonic()).toBe(500);
  });

  it('a paused node’s expired timers run on resume before the deliveries held meanwhile', async () => {
    const { sim, rt } = await idleCluster(['a', 'b']);
    const log: string[] = [];
    await settle(
      sim,
      rt('b').network.bindDatagram({ host: '', port: 1 }, () => log.push(`datagram@${sim.now}`)),
    );
    const sender = await settle(
      sim,
      rt('a').network.bindDatagram({ host: '', port: 1 }, () => {}),
    );
    const t0 = sim.now;
    rt('b').clock.setTimer(100, () => log.push(`timer1@${sim.now - t0}`));
    rt('b').clock.setTimer(200, () => log.push(`timer2@${sim.now - t0}`));
    sim.pause('b', 500);
    sender.send(new Uint8Array(1), { host: 'b', port: 1 });
    await sim.runFor(499);
    expect(log).toEqual([]);
    expect(sim.isPaused('b')).toBe(true);
    await sim.runFor(2);
    // The datagram arrived (~1 ms) before the timers expired, but a waking
    // process runs its timers phase before its poll phase.
    expect(log).toEqual(['timer1@500', 'timer2@500', `datagram@${t0 + 500}`]);
  });

  it('a timeout that expired during a pause fires before the reply that arrived in time', async () => {
    const { sim, rt } = await idleCluster(['a', 'b']);
    const log: string[] = [];
    const pending: { timeout?: { cancel(): void } } = {};
    await settle(
      sim,
      rt('b').network.bindDatagram({ host: '', port: 1 }, () => {
        log.push('reply');
        pending.timeout?.cancel();
      }),
    );
    const sender = await settle(
      sim,
      rt('a').network.bindDatagram({ host: '', port: 1 }, () => {}),
    );
    pending.timeout = rt('b').clock.setTimer(50, () => {
      log.push('timeout');
      // A 0 ms timer set by a held timer runs after the held deliveries.
      rt('b').clock.setTimer(0, () => log.push('follow-up'));
    });
    sender.send(new Uint8Array(1), { host: 'b', port: 1 }); // arrives at ~1 ms
    sim.pause('b', 1_000);
    await sim.runFor(1_001);
    expect(log).toEqual(['timeout', 'reply', 'follow-up']);
  });

  it('timers not yet due at resume keep waiting; cancelled held timers do not fire', async () => {
    const { sim, rt } = await idleCluster(['a']);
    const log: string[] = [];
    const t0 = sim.now;
    const cancelled = rt('a').clock.setTimer(100, () => log.push('cancelled'));
    rt('a').clock.setTimer(800, () => log.push(`late@${sim.now - t0}`));
    sim.pause('a', 500);
    await sim.runFor(200);
    cancelled.cancel();
    await sim.runFor(1_000);
    expect(log).toEqual(['late@800']);
  });

  it('a crash cancels timers and closes sockets; a restart runs the program again with a new random stream', async () => {
    const sim = new Simulation({ seed: 11 });
    const starts: { incarnation: number; draw: number }[] = [];
    let timerFired = false;
    sim.addNode('a', (runtime) => {
      starts.push({ incarnation: starts.length + 1, draw: runtime.random.next() });
      if (starts.length === 1) runtime.clock.setTimer(1_000, () => (timerFired = true));
    });
    sim.addNode('b', () => undefined);
    await sim.runFor(10);
    const a = sim.runtimeOf('a')!;
    await settle(
      sim,
      a.network.bindDatagram({ host: '', port: 5 }, () => {}),
    );
    sim.crash('a');
    expect(sim.isAlive('a')).toBe(false);
    expect(sim.runtimeOf('a')).toBeUndefined();
    await sim.runFor(2_000);
    expect(timerFired).toBe(false);
    await expect(a.network.bindDatagram({ host: '', port: 6 }, () => {})).rejects.toThrow(
      /crashed/,
    );
    sim.restart('a');
    await sim.runFor(1);
    expect(starts).toHaveLength(2);
    expect(starts[1]!.draw).not.toBe(starts[0]!.draw);
    // Port 5 was released by the crash.
    await settle(
      sim,
      sim.runtimeOf('a')!.network.bindDatagram({ host: '', port: 5 }, () => {}),
    );
  });

  it('a program that throws fails the run with its node and seed', async () => {
    const sim = new Simulation({ seed: 'boom' });
    sim.addNode('a', (runtime) => {
      runtime.clock.setTimer(50, () => {
        throw new Error('kaput');
      });
    });
    const result = await sim.runFor(100);
    expect(result.ok).toBe(false);
    expect(result.failure).toMatchObject({ kind: 'error', nodeId: 'a', seed: 'boom', timeMs: 50 });
    expect(result.failure!.message).toMatch(/kaput/);
  });

  it('an invariant that fails stops the run at that event', async () => {
    const sim = new Simulation({ seed: 5 });
    let ticks = 0;
    sim.addNode('a', (runtime) => {
      const tick = () => {
        ticks += 1;
        runtime.clock.setTimer(10, tick);
      };
      tick();
    });
    sim.addInvariant('fewer than 5 ticks', () => ticks < 5 || `ticks=${ticks}`);
    const result = await sim.runFor(1_000);
    expect(result.failure).toMatchObject({
      kind: 'invariant',
      invariant: 'fewer than 5 ticks',
      message: 'ticks=5',
      timeMs: 40,
    });
    expect(ticks).toBe(5);
  });
});
