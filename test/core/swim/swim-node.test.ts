import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../../../src/core/random/seeded-random.js';
import { encodeSwimPacket } from '../../../src/core/swim/codec.js';
import {
  baseSuspicionTimeoutMs,
  maxSuspicionTimeoutMs,
  resolveSwimConfig,
} from '../../../src/core/swim/config.js';
import { SwimNode } from '../../../src/core/swim/swim-node.js';
import { SwimNet } from './harness.js';

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i + 1}`);

describe('SwimNode: joining and probing', () => {
  it('joins through a seed address; every member learns every other alive', () => {
    const net = SwimNet.cluster(6);
    for (const observer of ids(6)) {
      expect(net.nodes.get(observer)!.joined).toBe(true);
      for (const subject of ids(6)) expect(net.status(observer, subject)).toBe('alive');
    }
    expect(net.eventsOf('n3', 'joined').length).toBe(5);
  });

  it('probes every other member once per pass of its shuffled list', () => {
    const net = SwimNet.cluster(8);
    const node = net.nodes.get('n2')!;
    const before = node.stats.probes;
    net.run(net.now + 7 * 1_000 * 3);
    // 21 periods ≈ three passes over 7 others.
    expect(node.stats.probes - before).toBeGreaterThanOrEqual(20);
    expect(node.stats.failedProbes).toBe(0);
    expect(node.stats.packetsOut.ping).toBeGreaterThan(0);
  });

  it('a member that stops answering is suspected, then declared dead by everyone', () => {
    const net = SwimNet.cluster(6);
    net.down.add('n4');
    const crashAt = net.now;
    net.run(crashAt + 60_000);
    for (const observer of ids(6).filter((id) => id !== 'n4')) {
      expect(net.status(observer, 'n4')).toBe('dead');
      const dead = net.eventsOf(observer, 'dead', 'n4')[0]!;
      expect(dead.at - crashAt).toBeLessThan(
        resolveSwimConfig().probeIntervalMs * 10 + maxSuspicionTimeoutMs(resolveSwimConfig(), 6),
      );
    }
    const indirect = ids(6).reduce((sum, id) => sum + net.nodes.get(id)!.stats.indirectProbes, 0);
    expect(indirect).toBeGreaterThan(0);
    // Suspected before dead, at every member.
    const n1 = net.events
      .filter((e) => e.observer === 'n1' && e.event.member.nodeId === 'n4')
      .map((e) => e.event.type);
    expect(n1.indexOf('suspect')).toBeGreaterThanOrEqual(0);
    expect(n1.indexOf('suspect')).toBeLessThan(n1.indexOf('dead'));
  });

  it('without Lifeguard the suspicion timeout is the fixed base; with it, longer unless confirmed', () => {
    for (const lifeguard of [false, true]) {
      const net = SwimNet.cluster(3, { lifeguard });
      net.down.add('n3');
      net.run(net.now + 80_000);
      const suspect = net.eventsOf('n1', 'suspect', 'n3')[0]!;
      const dead = net.eventsOf('n1', 'dead', 'n3')[0]!;
      const base = baseSuspicionTimeoutMs(resolveSwimConfig({ lifeguard }), 3);
      // 3 members: no confirmations expected (k = 0), so both use the base; a lone accuser among
      // more members would wait up to 6× (checked in suspicion.test.ts).
      expect(dead.at - suspect.at).toBeGreaterThanOrEqual(base - 1);
      expect(dead.at - suspect.at).toBeLessThanOrEqual(base + 2_100);
    }
  });
});

describe('SwimNode: refutation, merge rules and Lifeguard', () => {
  it('a suspected member refutes with a higher incarnation and everyone sees it alive again', () => {
    const net = SwimNet.cluster(5);
    const n2 = net.nodes.get('n2')!;
    const before = n2.incarnation;
    net.apply(
      'n2',
      n2.receive(
        net.now,
        encodeSwimPacket([{ type: 'suspect', nodeId: 'n2', incarnation: before, from: 'n5' }]),
      ),
    );
    expect(n2.incarnation).toBe(before + 1);
    expect(n2.stats.refutations).toBe(1);
    expect(n2.healthScore).toBe(1); // Lifeguard: having to refute is a sign of slowness
    // n1 suspects n2 at the old incarnation, then hears the refutation.
    const n1 = net.nodes.get('n1')!;
    net.apply(
      'n1',
      n1.receive(
        net.now,
        encodeSwimPacket([{ type: 'suspect', nodeId: 'n2', incarnation: before, from: 'n5' }]),
      ),
    );
    expect(net.status('n1', 'n2')).toBe('suspect');
    net.run(net.now + 3_000);
    expect(net.status('n1', 'n2')).toBe('alive');
    expect(net.nodes.get('n1')!.member('n2')!.incarnation).toBe(before + 1);
    expect(net.eventsOf('n1', 'alive', 'n2').length).toBe(1);
  });

  it('ignores stale news and conflicting addresses', () => {
    const net = SwimNet.cluster(3);
    const n1 = net.nodes.get('n1')!;
    const inc = n1.member('n2')!.incarnation;
    const eventsBefore = net.events.length;
    net.apply(
      'n1',
      n1.receive(
        net.now,
        encodeSwimPacket([
          { type: 'suspect', nodeId: 'n9', incarnation: 5, from: 'n3' }, // unknown member
          { type: 'dead', nodeId: 'n9', incarnation: 5, from: 'n3' },
          {
            type: 'alive',
            member: { nodeId: 'n2', host: 'elsewhere', port: 9 },
            incarnation: inc + 5,
            meta: {},
          },
        ]),
      ),
    );
    expect(net.events.length).toBe(eventsBefore);
    expect(n1.member('n2')).toMatchObject({ host: 'n2', status: 'alive', incarnation: inc });
    expect(n1.stats.addressConflicts).toBe(1);
    expect(n1.member('n9')).toBeUndefined();
  });

  it('dead at a lower incarnation than known does nothing; at the same one it kills', () => {
    const net = SwimNet.cluster(3);
    const n1 = net.nodes.get('n1')!;
    net.apply(
      'n1',
      n1.receive(
        net.now,
        encodeSwimPacket([
          {
            type: 'alive',
            member: { nodeId: 'n3', host: 'n3', port: 1 },
            incarnation: 4,
            meta: {},
          },
        ]),
      ),
    );
    net.apply(
      'n1',
      n1.receive(
        net.now,
        encodeSwimPacket([{ type: 'dead', nodeId: 'n3', incarnation: 3, from: 'n2' }]),
      ),
    );
    expect(n1.member('n3')!.status).toBe('alive');
    net.apply(
      'n1',
      n1.receive(
        net.now,
        encodeSwimPacket([{ type: 'dead', nodeId: 'n3', incarnation: 4, from: 'n2' }]),
      ),
    );
    expect(n1.member('n3')!.status).toBe('dead');
    expect(net.eventsOf('n1', 'dead', 'n3')[0]!.from).toBe('n2');
  });

  it('buddy system: probing a suspect tells it, and it refutes before any gossip reaches it', () => {
    const net = SwimNet.cluster(4, { gossipIntervalMs: 1_000_000, pushPullIntervalMs: 0 });
    // n1 alone suspects n3; no gossip rounds run, so only the probe's buddy message can tell n3.
    const n1 = net.nodes.get('n1')!;
    net.apply(
      'n1',
      n1.receive(
        net.now,
        encodeSwimPacket([{ type: 'suspect', nodeId: 'n3', incarnation: 0, from: 'n1' }]),
      ),
    );
    expect(net.status('n1', 'n3')).toBe('suspect');
    const n3 = net.nodes.get('n3')!;
    net.run(net.now + 8_000);
    expect(n3.stats.refutations).toBeGreaterThanOrEqual(1);
    expect(net.status('n1', 'n3')).toBe('alive');
  });

  it('a prober that missed the refutation hears alive again from the buddy probe, and declares no one dead', () => {
    const net = SwimNet.cluster(4, { gossipIntervalMs: 1_000_000, pushPullIntervalMs: 0 });
    const n3 = net.nodes.get('n3')!;
    // n3 was suspected at incarnation 0 and refuted (incarnation 1), but n1 never heard it.
    net.apply(
      'n3',
      n3.receive(
        net.now,
        encodeSwimPacket([{ type: 'suspect', nodeId: 'n3', incarnation: 0, from: 'n2' }]),
      ),
    );
    expect(n3.incarnation).toBe(1);
    const n1 = net.nodes.get('n1')!;
    net.apply(
      'n1',
      n1.receive(
        net.now,
        encodeSwimPacket([{ type: 'suspect', nodeId: 'n3', incarnation: 0, from: 'n1' }]),
      ),
    );
    // n1's buddy probe repeats the stale accusation; n3 answers it with alive at 1, no new raise.
    net.run(net.now + 20_000);
    expect(n3.stats.reassertions).toBeGreaterThanOrEqual(1);
    expect(n3.incarnation).toBe(1);
    expect(net.status('n1', 'n3')).toBe('alive');
    expect(net.eventsOf('n1', 'dead', 'n3')).toHaveLength(0);
  });

  it('nacks: helpers tell a requester they could not reach the target either', () => {
    const net = SwimNet.cluster(5);
    net.down.add('n5');
    net.run(net.now + 6_000);
    const nacks = ids(4).reduce((sum, id) => sum + net.nodes.get(id)!.stats.packetsOut.nack, 0);
    expect(nacks).toBeGreaterThan(0);
    // The requesters got their nacks, so their own health did not suffer for n5's crash.
    for (const id of ids(4)) expect(net.nodes.get(id)!.healthScore).toBe(0);
  });

  it('local health: a member cut off from answers raises its score and stretches its period', () => {
    const net = SwimNet.cluster(5);
    const n1 = net.nodes.get('n1')!;
    net.drop = (_from, to) => to === 'n1';
    net.run(net.now + 10_000);
    expect(n1.healthScore).toBeGreaterThanOrEqual(3);
    // Stretched: fewer probes than periods elapsed.
    const probes = n1.stats.probes;
    net.run(net.now + 10_000);
    expect(n1.stats.probes - probes).toBeLessThan(6);
  });

  it('a member that hears nothing back (no ack, no nack) withholds its accusations with Lifeguard', () => {
    for (const lifeguard of [true, false]) {
      const net = SwimNet.cluster(5, { lifeguard });
      net.drop = (_from, to) => to === 'n1';
      const start = net.events.length;
      net.run(net.now + 10_000);
      const accusations = net.events
        .slice(start)
        .filter((e) => e.observer === 'n1' && e.event.type === 'suspect' && e.event.from === 'n1');
      const n1 = net.nodes.get('n1')!;
      if (lifeguard) {
        expect(accusations).toEqual([]);
        expect(n1.stats.withheldSuspicions).toBeGreaterThan(0);
      } else {
        expect(accusations.length).toBeGreaterThan(0);
        expect(n1.stats.withheldSuspicions).toBe(0);
      }
    }
  });

  it('with Lifeguard off nothing of it runs: no nacks, no health score, no buddy messages', () => {
    const net = SwimNet.cluster(5, { lifeguard: false });
    net.down.add('n5');
    net.drop = (_from, to) => to === 'n1';
    net.run(net.now + 15_000);
    for (const id of ids(4)) {
      expect(net.nodes.get(id)!.stats.packetsOut.nack).toBe(0);
      expect(net.nodes.get(id)!.healthScore).toBe(0);
    }
  });
});

describe('SwimNode: leave, reap, push-pull, bounds', () => {
  it('a member that leaves is recorded as left by all, not dead, and not probed', () => {
    const net = SwimNet.cluster(5);
    const n5 = net.nodes.get('n5')!;
    net.apply('n5', n5.leave(net.now));
    expect(n5.leaving).toBe(true);
    net.run(net.now + 2_000);
    expect(n5.leaveSent).toBe(true);
    net.down.add('n5');
    net.run(net.now + 60_000);
    for (const id of ids(4)) {
      expect(net.status(id, 'n5')).toBe('left');
      expect(net.eventsOf(id, 'dead', 'n5')).toEqual([]);
    }
  });

  it('reaps dead members after the retention period', () => {
    const net = SwimNet.cluster(4, { deadRetentionMs: 20_000 });
    net.down.add('n4');
    net.run(net.now + 100_000);
    for (const id of ids(3)) {
      expect(net.nodes.get(id)!.member('n4')).toBeUndefined();
      expect(net.eventsOf(id, 'reaped', 'n4').length).toBe(1);
    }
  });

  it('a member declared dead while cut off refutes after the heal and is alive again everywhere', () => {
    const net = SwimNet.cluster(6, { reconnectIntervalMs: 5_000 });
    const side = new Set(['n1', 'n2', 'n3']);
    net.drop = (from, to) => side.has(from) !== side.has(to);
    net.run(net.now + 90_000);
    expect(net.status('n1', 'n5')).toBe('dead');
    expect(net.status('n5', 'n1')).toBe('dead');
    net.drop = () => false;
    net.run(net.now + 40_000);
    for (const observer of ids(6))
      for (const subject of ids(6)) expect(net.status(observer, subject)).toBe('alive');
  });

  it('splits a large state over several packets and merges them all', () => {
    const net = new SwimNet();
    const config = { maxPacketBytes: 1_200 };
    const big = net.add('big', config);
    // Teach `big` 120 members by hand.
    const alive = Array.from({ length: 120 }, (_, i) => ({
      type: 'alive' as const,
      member: { nodeId: `member-with-a-long-name-${i}`, host: `host-${i}.example`, port: 7946 },
      incarnation: 1,
      meta: { zone: 'z' },
    }));
    for (let i = 0; i < alive.length; i += 20)
      big.receive(0, encodeSwimPacket(alive.slice(i, i + 20)));
    const small = net.add('small', config);
    net.join('small', 'big');
    net.run(500);
    expect(small.joined).toBe(true);
    expect(small.members().length).toBe(122);
    const pushPulls = big.stats.packetsOut['push-pull'];
    expect(pushPulls).toBeGreaterThan(3);
  });

  it('refuses malformed packets without changing state, and bounds members', () => {
    const node = new SwimNode({
      self: { nodeId: 'a', host: 'a', port: 1 },
      config: resolveSwimConfig({ maxMembers: 3 }),
      random: createSeededRandom(1),
    });
    node.start(0);
    const result = node.receive(1, new Uint8Array([0x44, 0x57, 0x53, 9, 0, 1]));
    expect(result.rejected).toBe('unsupported-version');
    expect(node.stats.rejected['unsupported-version']).toBe(1);
    for (let i = 0; i < 5; i++) {
      node.receive(
        2,
        encodeSwimPacket([
          {
            type: 'alive',
            member: { nodeId: `m${i}`, host: 'h', port: i },
            incarnation: 0,
            meta: {},
          },
        ]),
      );
    }
    expect(node.members().length).toBe(3);
    expect(node.stats.membersIgnored).toBe(3);
    expect(
      () =>
        new SwimNode({ self: { nodeId: '', host: 'a', port: 1 }, random: createSeededRandom(1) }),
    ).toThrow(/bad SWIM identity/);
  });
});
