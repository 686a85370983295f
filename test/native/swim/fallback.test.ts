import { describe, expect, it } from 'vitest';
import type { SwimEvent } from '../../../src/core/swim/swim-node.js';
import { encodeFrame } from '../../../src/core/wire/frame.js';
import { NativeSwim } from '../../../src/native/swim/native-swim.js';
import {
  addressStreamChannel,
  type AddressStreamChannel,
} from '../../../src/native/swim/swim-stream-channel.js';
import { addressDatagramTransport } from '../../../src/native/swim/swim-transport.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { Simulation } from '../../../src/runtime/sim/simulation.js';

const PORT = 7946;

interface Member {
  swim: NativeSwim;
  channel: AddressStreamChannel | undefined;
  events: SwimEvent[];
  runtime: Runtime;
}

/** n1..nN over the simulator, joined through n1; `withChannel` decides who gets a stream channel. */
function cluster(sim: Simulation, n: number, withChannel: (id: string) => boolean) {
  const members = new Map<string, Member>();
  for (let i = 1; i <= n; i++) {
    const id = `n${i}`;
    sim.addNode(id, async (runtime) => {
      const transport = await addressDatagramTransport(runtime, { port: PORT });
      const channel = withChannel(id)
        ? await addressStreamChannel(runtime, { port: PORT })
        : undefined;
      const swim = new NativeSwim(runtime, transport, {
        advertise: { host: id, port: PORT },
        ...(channel === undefined ? {} : { fallbackChannel: channel }),
      });
      const events: SwimEvent[] = [];
      swim.onMembershipEvent((event) => events.push(event));
      if (id !== 'n1') swim.join([{ host: 'n1', port: PORT }]).catch(() => undefined);
      members.set(id, { swim, channel, events, runtime });
    });
  }
  return members;
}

/** Every datagram to and from `id` is lost (streams retransmit, so they still get through). */
function loseDatagramsOf(sim: Simulation, id: string): void {
  sim.setLink('*', id, { loss: 1 });
  sim.setLink(id, '*', { loss: 1 });
}

function suspicionsOf(members: Map<string, Member>, subject: string): number {
  let count = 0;
  for (const member of members.values()) {
    count += member.events.filter(
      (e) => e.type === 'suspect' && e.member.nodeId === subject,
    ).length;
  }
  return count;
}

describe('NativeSwim: the fallback ping over the runtime streams', () => {
  it('is on only with a stream channel: without one the config says off', async () => {
    const sim = new Simulation({ seed: 1, traceCapacity: 0 });
    const members = cluster(sim, 2, (id) => id === 'n1');
    await sim.runFor(2_000);
    expect(members.get('n1')!.swim.config.fallbackPing).toBe(true);
    expect(members.get('n2')!.swim.config.fallbackPing).toBe(false);
  });

  it('a member whose datagrams are all lost but whose streams work is not suspected', async () => {
    const sim = new Simulation({ seed: 2, traceCapacity: 0 });
    const members = cluster(sim, 5, () => true);
    await sim.runFor(8_000);
    loseDatagramsOf(sim, 'n3');
    await sim.runFor(30_000);
    expect(suspicionsOf(members, 'n3')).toBe(0);
    let rescues = 0;
    for (const [id, member] of members) {
      if (id === 'n3') continue;
      expect(member.swim.member('n3')?.status).toBe('alive');
      rescues += member.swim.stats.fallbackRescues;
    }
    expect(rescues).toBeGreaterThanOrEqual(4);
    expect(members.get('n3')!.channel!.stats.served).toBeGreaterThanOrEqual(rescues);
  });

  it('without stream channels the same member is suspected and declared dead', async () => {
    const sim = new Simulation({ seed: 2, traceCapacity: 0 });
    const members = cluster(sim, 5, () => false);
    await sim.runFor(8_000);
    loseDatagramsOf(sim, 'n3');
    await sim.runFor(60_000);
    expect(suspicionsOf(members, 'n3')).toBeGreaterThan(0);
    expect(members.get('n1')!.swim.member('n3')?.status).toBe('dead');
  });

  it('a broken stream (the target stopped listening) counts as a failed fallback', async () => {
    const sim = new Simulation({ seed: 3, traceCapacity: 0 });
    const members = cluster(sim, 5, () => true);
    await sim.runFor(8_000);
    loseDatagramsOf(sim, 'n3');
    members.get('n3')!.channel!.close();
    await sim.runFor(60_000);
    expect(suspicionsOf(members, 'n3')).toBeGreaterThan(0);
    expect(members.get('n1')!.swim.member('n3')?.status).toBe('dead');
    let failures = 0;
    for (const [id, member] of members)
      if (id !== 'n3') failures += member.swim.stats.fallbackFailures;
    expect(failures).toBeGreaterThan(0);
  });
});

describe('addressStreamChannel', () => {
  it('carries one request and one reply per stream; fails on refusal, abort and bad frames', async () => {
    const sim = new Simulation({ seed: 4, traceCapacity: 0 });
    const channels = new Map<string, AddressStreamChannel>();
    for (const id of ['a', 'b']) {
      sim.addNode(id, async (runtime) => {
        const channel = await addressStreamChannel(runtime, {
          port: PORT,
          requestTimeoutMs: 1_000,
        });
        channels.set(id, channel);
      });
    }
    await sim.runFor(10);
    const a = channels.get('a')!;
    const b = channels.get('b')!;
    b.serve((request) => (request[0] === 0 ? undefined : request.map((x) => x + 1)));
    const never = new AbortController();
    const reply = a.request({ host: 'b', port: PORT }, 'b', new Uint8Array([1, 2]), never);
    const silent = a.request({ host: 'b', port: PORT }, 'b', new Uint8Array([0]), never);
    const refused = a.request({ host: 'b', port: PORT + 1 }, 'b', new Uint8Array([1]), never);
    silent.catch(() => undefined);
    refused.catch(() => undefined);
    await sim.runFor(100);
    await expect(reply).resolves.toEqual(new Uint8Array([2, 3]));
    await expect(silent).rejects.toThrow();
    await expect(refused).rejects.toMatchObject({ code: 'UNKNOWN_PEER' });
    // Aborted: rejects with the signal's reason.
    const controller = new AbortController();
    const aborted = a.request({ host: 'b', port: PORT }, 'b', new Uint8Array([1]), controller);
    aborted.catch(() => undefined);
    controller.abort(new Error('deadline'));
    await sim.runFor(100);
    await expect(aborted).rejects.toThrow('deadline');
    expect(a.stats).toMatchObject({ requests: 4, replies: 1, failures: 3 });
    // An oversized frame, or no request at all, gets the connection dropped by the server.
    const runtime = sim.runtimeOf('a')!;
    // Connected while the simulator runs (its virtual time only moves inside runFor).
    const connecting = [
      runtime.network.connect({ host: 'b', port: PORT }),
      runtime.network.connect({ host: 'b', port: PORT }),
    ];
    await sim.runFor(50);
    const [big, idle] = await Promise.all(connecting);
    big!.write(encodeFrame(new Uint8Array(4_096)));
    const closed: string[] = [];
    big!.onClose(() => closed.push('big'));
    idle!.onClose(() => closed.push('idle'));
    await sim.runFor(2_000);
    expect(closed.sort()).toEqual(['big', 'idle']);
    expect(b.stats.dropped).toBe(2);
    expect(b.stats.served).toBe(1);
    a.close();
    await expect(
      a.request({ host: 'b', port: PORT }, 'b', new Uint8Array([1]), never),
    ).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
