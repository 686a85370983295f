import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../../../src/core/random/seeded-random.js';
import { encodeSwimPacket } from '../../../src/core/swim/codec.js';
import { resolveSwimConfig } from '../../../src/core/swim/config.js';
import { encodeFallbackAck, encodeFallbackPing } from '../../../src/core/swim/fallback.js';
import { isSwimFallbackPing, SwimNode } from '../../../src/core/swim/swim-node.js';
import { SwimNet } from './harness.js';

const others = ['n1', 'n2', 'n4', 'n5'];

/** Every datagram to or from n3 is lost; streams get through unless `streamDrop` says otherwise. */
function cutDatagramsOf(net: SwimNet, member: string): void {
  net.drop = (from, to) => from === member || to === member;
  net.streamDrop = () => false;
}

function suspicionsOf(net: SwimNet, subject: string): number {
  return net.events.filter((e) => e.event.type === 'suspect' && e.event.member.nodeId === subject)
    .length;
}

/** A lone node that knows b, c, d (who never answer), run until its first direct ping times out. */
function probeUntilFallback() {
  const config = resolveSwimConfig({ indirectChecks: 2, lifeguard: false });
  const node = new SwimNode({
    self: { nodeId: 'a', host: 'a', port: 1 },
    config,
    random: createSeededRandom(3),
  });
  node.start(0);
  for (const id of ['b', 'c', 'd']) {
    node.receive(
      0,
      encodeSwimPacket([
        { type: 'alive', member: { nodeId: id, host: id, port: 1 }, incarnation: 0, meta: {} },
      ]),
    );
  }
  let probeAt = -1;
  for (let t = 0; t < 2_000 && probeAt < 0; t++) {
    if (node.tick(t).sends.some((send) => send.kind === 'ping')) probeAt = t;
  }
  const sends = node.tick(probeAt + config.probeTimeoutMs).sends;
  const fallback = sends.find(isSwimFallbackPing);
  if (fallback === undefined) throw new Error('no fallback ping at the probe timeout');
  return { node, config, probeAt, fallback, sends };
}

describe('SwimNode: the fallback ping over a stream (memberlist TCP ping)', () => {
  for (const lifeguard of [true, false]) {
    it(`a member reachable only by stream is not suspected (Lifeguard ${lifeguard ? 'on' : 'off'})`, () => {
      const net = SwimNet.cluster(5, { lifeguard });
      cutDatagramsOf(net, 'n3');
      net.run(net.now + 30_000);
      expect(suspicionsOf(net, 'n3')).toBe(0);
      for (const id of others) expect(net.status(id, 'n3')).toBe('alive');
      const rescues = others.reduce((n, id) => n + net.nodes.get(id)!.stats.fallbackRescues, 0);
      // Each of the four probes n3 about once per pass of its list: the fallback answered every time.
      expect(rescues).toBeGreaterThanOrEqual(4);
      expect(net.nodes.get('n3')!.stats.fallbackAnswers).toBeGreaterThanOrEqual(rescues);
      expect(net.nodes.get('n1')!.stats.fallbackFailures).toBe(0);
    });
  }

  it('with the fallback switched off the same member is suspected, then declared dead', () => {
    const net = SwimNet.cluster(5, { fallbackPing: false });
    cutDatagramsOf(net, 'n3');
    net.run(net.now + 60_000);
    expect(suspicionsOf(net, 'n3')).toBeGreaterThan(0);
    expect(net.status('n1', 'n3')).toBe('dead');
    for (const id of others) {
      expect(net.nodes.get(id)!.stats.packetsOut['fallback-ping']).toBe(0);
      expect(net.nodes.get(id)!.stats.fallbackRescues).toBe(0);
    }
  });

  it('a broken stream counts as a failed fallback: the member is suspected', () => {
    const net = SwimNet.cluster(5);
    cutDatagramsOf(net, 'n3');
    net.streamDrop = (_from, to) => to === 'n3';
    net.run(net.now + 60_000);
    expect(suspicionsOf(net, 'n3')).toBeGreaterThan(0);
    expect(net.status('n1', 'n3')).toBe('dead');
    const failures = others.reduce((n, id) => n + net.nodes.get(id)!.stats.fallbackFailures, 0);
    expect(failures).toBeGreaterThan(0);
    expect(others.reduce((n, id) => n + net.nodes.get(id)!.stats.fallbackRescues, 0)).toBe(0);
  });

  it('sends the fallback ping with the ping-reqs, once per failed direct ping, due by the period end', () => {
    const { node, config, probeAt, fallback, sends } = probeUntilFallback();
    expect(sends.filter(isSwimFallbackPing).length).toBe(1);
    expect(sends.filter((send) => send.kind === 'ping-req').length).toBe(2);
    expect(fallback).toMatchObject({ to: { host: fallback.nodeId, port: 1 } });
    expect(fallback.deadline).toBe(probeAt + config.probeIntervalMs);
    expect(node.stats.packetsOut['fallback-ping']).toBe(1);
    // A valid ack from the target, in time: the probe succeeds at the period end.
    node.fallbackResult(
      probeAt + 600,
      fallback.seq,
      encodeFallbackAck({ type: 'ack', seq: fallback.seq, from: fallback.nodeId! }),
    );
    const end = node.tick(probeAt + config.probeIntervalMs);
    expect(end.events.filter((e) => e.type === 'suspect')).toEqual([]);
    expect(node.stats.fallbackRescues).toBe(1);
    expect(node.stats.fallbackAcks).toBe(1);
    expect(node.stats.failedProbes).toBe(0);
  });

  it('an ack for another seq, from another member, malformed, or none does not save the probe', () => {
    for (const bad of ['seq', 'from', 'bytes', 'none'] as const) {
      const { node, config, probeAt, fallback } = probeUntilFallback();
      const target = fallback.nodeId!;
      const reply =
        bad === 'seq'
          ? encodeFallbackAck({ type: 'ack', seq: fallback.seq + 1, from: target })
          : bad === 'from'
            ? encodeFallbackAck({ type: 'ack', seq: fallback.seq, from: 'someone-else' })
            : bad === 'bytes'
              ? new Uint8Array([0x44, 0x57, 0x53, 1, 0, 1, 99])
              : undefined;
      const receipt = node.fallbackResult(probeAt + 600, fallback.seq, reply);
      expect(receipt.rejected).toBe(bad === 'bytes' ? 'malformed' : undefined);
      expect(node.stats.fallbackFailures).toBe(1);
      // A valid ack arriving after a failure does not undo it (one result per fallback ping).
      node.fallbackResult(
        probeAt + 700,
        fallback.seq,
        encodeFallbackAck({ type: 'ack', seq: fallback.seq, from: target }),
      );
      const end = node.tick(probeAt + config.probeIntervalMs);
      expect(end.events.filter((e) => e.type === 'suspect').map((e) => e.member.nodeId)).toEqual([
        target,
      ]);
      expect(node.stats.fallbackRescues).toBe(0);
    }
  });

  it('answers a fallback ping addressed to itself with an ack; refuses anything else', () => {
    const net = SwimNet.cluster(2);
    const n2 = net.nodes.get('n2')!;
    const from = { nodeId: 'n1', host: 'n1', port: 1 };
    const answer = n2.answerFallbackPing(
      net.now,
      encodeFallbackPing({ type: 'ping', seq: 9, target: 'n2', from }),
    );
    expect(answer.rejected).toBeUndefined();
    expect(answer.reply).toEqual(encodeFallbackAck({ type: 'ack', seq: 9, from: 'n2' }));
    const misdirected = n2.answerFallbackPing(
      net.now,
      encodeFallbackPing({ type: 'ping', seq: 9, target: 'old-n2', from }),
    );
    expect(misdirected).toEqual({});
    expect(n2.stats.misdirectedPings).toBe(1);
    // A ping with piggybacked updates is not a fallback ping; nor is garbage.
    const compound = encodeSwimPacket([
      { type: 'ping', seq: 9, target: 'n2', from },
      { type: 'suspect', nodeId: 'n2', incarnation: 0, from: 'n1' },
    ]);
    expect(n2.answerFallbackPing(net.now, compound)).toEqual({ rejected: 'malformed' });
    expect(n2.answerFallbackPing(net.now, new Uint8Array([1, 2, 3]))).toEqual({
      rejected: 'malformed',
    });
    expect(n2.stats.rejected.malformed).toBe(2);
    // Refused requests changed nothing: no refutation, no new incarnation.
    expect(n2.incarnation).toBe(0);
  });

  it('the config switch is validated and on in every profile', () => {
    for (const profile of ['lan', 'wan', 'local'] as const) {
      expect(resolveSwimConfig({}, profile).fallbackPing).toBe(true);
    }
    expect(() => resolveSwimConfig({ fallbackPing: 'yes' as unknown as boolean })).toThrow(
      'fallbackPing must be a boolean',
    );
  });
});
