import { describe, expect, it } from 'vitest';
import type { PeerEvent } from '../../../src/contracts/p2p-network.js';
import { NativeP2PNetwork } from '../../../src/native/p2p/native-p2p-network.js';
import { decodeControl, encodeControl } from '../../../src/native/p2p/control.js';
import { sweepAction, sweepPeriod } from '../../../src/native/p2p/connection-sweep.js';
import type { NativeP2PNetworkOptions } from '../../../src/native/p2p/options.js';
import { SecureCodec } from '../../../src/native/transport/secure-codec.js';
import { Simulation } from '../../../src/runtime/sim/simulation.js';
import { clusterKeyring, startLoopbackNode, waitForPeers } from './support.js';

const PORT = 7000;

/** Two quiet nodes in the simulator (n2 seeded with n1), recording n1's peer events. */
async function quietPair(overrides: Partial<NativeP2PNetworkOptions>) {
  const sim = new Simulation({ seed: 7, network: { latency: { baseMs: 2, jitterMs: 2 } } });
  const nets = new Map<string, NativeP2PNetwork>();
  const events: PeerEvent[] = [];
  const rejects: string[] = [];
  for (const id of ['n1', 'n2']) {
    sim.addNode(id, async (runtime) => {
      const network = new NativeP2PNetwork({
        runtime,
        localPeerId: id,
        listen: { host: '', port: PORT },
        seeds: id === 'n1' ? [] : [{ host: 'n1', port: PORT }],
        codec: new SecureCodec({
          keyring: clusterKeyring(),
          localNodeId: id,
          random: runtime.random,
        }),
        // Long enough that idle close never explains what these tests see.
        idleCloseMs: 600_000,
        handshakeTimeoutMs: 2_000,
        lostAfterMs: 10_000,
        ...overrides,
        onReject: (reason) => rejects.push(`${id}: ${reason}`),
      });
      if (id === 'n1') network.onPeerEvent((event) => events.push(event));
      nets.set(id, network);
      await network.start();
    });
  }
  const net = (id: string): NativeP2PNetwork => {
    const network = nets.get(id);
    if (network === undefined) throw new Error(`${id} has no network`);
    return network;
  };
  const met = () =>
    nets.get('n1')?.stats.knownPeers === 1 && nets.get('n2')?.stats.knownPeers === 1;
  expect((await sim.runUntil(met, 30_000)).reached).toBe(true);
  const lost = () => events.some((e) => e.eventType === 'peer-lost' && e.peer.peerId === 'n2');
  return { sim, net, lost, rejects };
}

describe('NativeP2PNetwork keepalive (simulator, virtual time)', () => {
  it('probes a quiet connection, which the live peer answers: nothing is lost or closed', async () => {
    const c = await quietPair({ keepaliveIntervalMs: 2_000, keepaliveTimeoutMs: 3_000 });
    const framesBefore = c.net('n1').stats.framesSent;
    await c.sim.runFor(30_000);
    const n1 = c.net('n1').stats;
    // Roughly one probe per interval, and every one answered.
    expect(n1.keepalivesSent).toBeGreaterThanOrEqual(5);
    expect(n1.framesSent - framesBefore).toBeGreaterThanOrEqual(5);
    expect(n1.keepaliveTimeouts).toBe(0);
    expect(c.net('n2').stats.keepaliveTimeouts).toBe(0);
    expect(n1.connections).toBeGreaterThanOrEqual(1);
    expect(c.lost()).toBe(false);
    expect(c.rejects).toEqual([]);
  });

  it('notices a peer that hung while the connection was quiet, and reports it lost', async () => {
    const c = await quietPair({ keepaliveIntervalMs: 2_000, keepaliveTimeoutMs: 3_000 });
    await c.sim.runFor(5_000);
    // A hung process: its connections stay open, nothing it should answer is answered.
    c.sim.pause('n2');
    expect((await c.sim.runUntil(c.lost, 120_000)).reached).toBe(true);
    expect(c.net('n1').stats.keepaliveTimeouts).toBeGreaterThanOrEqual(1);
    expect(c.net('n1').stats.knownPeers).toBe(0);
    expect(c.rejects).toEqual([]);
  });

  it('without probes (a very long interval) the same hung peer goes unnoticed', async () => {
    const c = await quietPair({ keepaliveIntervalMs: 86_400_000, keepaliveTimeoutMs: 3_000 });
    await c.sim.runFor(5_000);
    c.sim.pause('n2');
    expect((await c.sim.runUntil(c.lost, 120_000)).reached).toBe(false);
    expect(c.net('n1').stats.keepalivesSent).toBe(0);
  });
});

describe('NativeP2PNetwork keepalive over loopback', () => {
  it('probes are answered on real sockets, and do not keep an idle connection open', async () => {
    const overrides = { keepaliveIntervalMs: 20, keepaliveTimeoutMs: 5_000, idleCloseMs: 1_000 };
    const b = await startLoopbackNode('b', { overrides });
    const a = await startLoopbackNode('a', { seeds: [b.address], overrides });
    try {
      await waitForPeers(a.network, ['b']);
      await expect
        .poll(() => a.network.stats.keepalivesSent, { timeout: 5_000 })
        .toBeGreaterThan(2);
      // Probes are not traffic: the quiet connection is still closed as idle ...
      await expect.poll(() => a.network.stats.connections, { timeout: 5_000 }).toBe(0);
      // ... politely (goodbye), so both peers stay known, and no probe went unanswered.
      expect(a.network.stats.knownPeers).toBe(1);
      expect(b.network.stats.knownPeers).toBe(1);
      expect(a.network.stats.keepaliveTimeouts + b.network.stats.keepaliveTimeouts).toBe(0);
      expect(a.rejects).toEqual([]);
      expect(b.rejects).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('keepalive control messages and the sweep', () => {
  it('encode as two bytes and refuse anything else', () => {
    const probe = encodeControl({ op: 'keepalive', reply: false });
    const answer = encodeControl({ op: 'keepalive', reply: true });
    expect([...probe]).toEqual([3, 0]);
    expect(decodeControl(probe)).toEqual({ op: 'keepalive', reply: false });
    expect(decodeControl(answer)).toEqual({ op: 'keepalive', reply: true });
    expect(decodeControl(new Uint8Array([3, 2]))).toBeUndefined();
    expect(decodeControl(new Uint8Array([3]))).toBeUndefined();
    expect(decodeControl(new Uint8Array([3, 0, 0]))).toBeUndefined();
  });

  it('the sweep: an unanswered probe fails, idleness closes, quiet probes, else keep', () => {
    const limits = { idleCloseMs: 60_000, keepaliveIntervalMs: 5_000, keepaliveTimeoutMs: 10_000 };
    const at = (lastActivity: number, lastReceived: number, keepaliveSentAt?: number) => ({
      lastActivity,
      lastReceived,
      keepaliveSentAt,
    });
    expect(sweepAction(at(0, 0), 1_000, limits, false)).toBe('keep');
    expect(sweepAction(at(0, 0), 5_000, limits, false)).toBe('probe');
    expect(sweepAction(at(0, 0, 5_000), 14_999, limits, false)).toBe('keep');
    expect(sweepAction(at(0, 0, 5_000), 15_000, limits, false)).toBe('unresponsive');
    expect(sweepAction(at(0, 59_000), 60_000, limits, false)).toBe('close-idle');
    // Busy (requests in flight): not closed as idle, but still probed when quiet.
    expect(sweepAction(at(0, 50_000), 60_000, limits, true)).toBe('probe');
    // An unanswered probe wins over idleness: a dead peer is failed, not closed politely.
    expect(sweepAction(at(0, 40_000, 50_000), 60_000, limits, false)).toBe('unresponsive');
    expect(sweepPeriod(limits)).toBe(2_500);
    expect(sweepPeriod({ ...limits, keepaliveIntervalMs: 1 })).toBe(10);
  });
});
