import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import type { SwimEvent } from '../../../src/core/swim/swim-node.js';
import { NativeSwim } from '../../../src/native/swim/native-swim.js';
import {
  addressDatagramTransport,
  addressPeerId,
  parseAddressPeerId,
} from '../../../src/native/swim/swim-transport.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { Simulation } from '../../../src/runtime/sim/simulation.js';

const PORT = 7946;

interface Started {
  swim: NativeSwim;
  events: SwimEvent[];
  rejected: string[];
  joined?: Promise<void>;
  runtime: Runtime;
}

function cluster(sim: Simulation, ids: string[], seeds: (id: string) => string[] = () => ['n1']) {
  const nodes = new Map<string, Started>();
  for (const id of ids) {
    sim.addNode(id, async (runtime) => {
      const transport = await addressDatagramTransport(runtime, { port: PORT });
      const rejected: string[] = [];
      const swim = new NativeSwim(runtime, transport, {
        advertise: { host: id, port: PORT },
        meta: { zone: `z-${id}` },
        joinTimeoutMs: 5_000,
        onRejectedPacket: (_from, reason) => rejected.push(reason),
      });
      const events: SwimEvent[] = [];
      swim.onMembershipEvent((event) => events.push(event));
      const started: Started = { swim, events, rejected, runtime };
      const others = seeds(id).filter((seed) => seed !== id);
      if (others.length > 0) {
        started.joined = swim.join(others.map((host) => ({ host, port: PORT })));
        started.joined.catch(() => undefined);
      }
      nodes.set(id, started);
    });
  }
  return nodes;
}

describe('NativeSwim driver', () => {
  it('joins through a seed, reports members with status, incarnation and metadata', async () => {
    const sim = new Simulation({ seed: 1, traceCapacity: 0 });
    const nodes = cluster(sim, ['n1', 'n2', 'n3', 'n4']);
    await sim.runFor(5_000);
    for (const [id, node] of nodes) {
      if (node.joined !== undefined) await expect(node.joined).resolves.toBeUndefined();
      expect(node.swim.joined).toBe(true);
      const members = node.swim.members();
      expect(members.map((m) => m.nodeId).sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
      for (const member of members) {
        expect(member).toMatchObject({
          status: 'alive',
          host: member.nodeId,
          port: PORT,
          meta: { zone: `z-${member.nodeId}` },
        });
        expect(Object.isFrozen(member)).toBe(true);
      }
      expect(node.events.filter((e) => e.type === 'joined').length).toBe(3);
      expect(node.swim.member(id)?.incarnation).toBe(0);
    }
  });

  it('reports suspect then dead for a crashed member, and left for one that leaves', async () => {
    const sim = new Simulation({ seed: 2, traceCapacity: 0 });
    const nodes = cluster(sim, ['n1', 'n2', 'n3', 'n4', 'n5']);
    await sim.runFor(5_000);
    nodes.get('n5')!.swim.close();
    sim.crash('n5');
    const leaving = nodes.get('n4')!.swim.leave();
    await sim.runFor(40_000);
    await expect(leaving).resolves.toBeUndefined();
    expect(nodes.get('n4')!.swim.closed).toBe(true);
    for (const id of ['n1', 'n2', 'n3']) {
      const swim = nodes.get(id)!.swim;
      expect(swim.member('n5')?.status).toBe('dead');
      expect(swim.member('n4')?.status).toBe('left');
      const types = nodes
        .get(id)!
        .events.filter((e) => e.member.nodeId === 'n5')
        .map((e) => e.type);
      expect(types.slice(-2)).toEqual(['suspect', 'dead']);
    }
  });

  it('counts and reports malformed packets without changing anything', async () => {
    const sim = new Simulation({ seed: 3, traceCapacity: 0 });
    const nodes = cluster(sim, ['n1', 'n2']);
    await sim.runFor(3_000);
    const n2 = nodes.get('n2')!;
    const endpoint = await n2.runtime.network.bindDatagram(
      { host: '', port: 9999 },
      () => undefined,
    );
    endpoint.send(new Uint8Array([0x44, 0x57, 0x53, 1, 0, 1, 200]), { host: 'n1', port: PORT });
    endpoint.send(new Uint8Array([1, 2, 3]), { host: 'n1', port: PORT });
    await sim.runFor(100);
    const n1 = nodes.get('n1')!;
    expect(n1.rejected.sort()).toEqual(['malformed', 'malformed']);
    expect(n1.swim.stats.rejected.malformed).toBe(2);
    expect(n1.swim.members().length).toBe(2);
  });

  it('join rejects with UNAVAILABLE when no seed answers, and with the reason when aborted', async () => {
    const sim = new Simulation({ seed: 4, traceCapacity: 0 });
    const nodes = cluster(sim, ['n1'], () => ['nowhere']);
    sim.addNode('nowhere', () => undefined);
    await sim.runFor(6_000);
    await expect(nodes.get('n1')!.joined).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const swim = nodes.get('n1')!.swim;
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(
      swim.join([{ host: 'nowhere', port: PORT }], { signal: controller.signal }),
    ).rejects.toThrow('stop');
    swim.close();
    await expect(swim.join([{ host: 'nowhere', port: PORT }])).rejects.toBeInstanceOf(
      DistributedError,
    );
  });

  it('validates options', async () => {
    const sim = new Simulation({ seed: 5, traceCapacity: 0 });
    let error: unknown;
    sim.addNode('n1', async (runtime) => {
      const transport = await addressDatagramTransport(runtime, { port: PORT });
      try {
        new NativeSwim(runtime, transport, {
          advertise: { host: 'n1', port: PORT },
          config: { probeIntervalMs: -1 },
        });
      } catch (caught) {
        error = caught;
      }
    });
    await sim.runFor(10);
    expect(error).toBeInstanceOf(DistributedError);
    expect((error as DistributedError).code).toBe('INVALID_ARGUMENT');
  });

  it('address peer ids round-trip, IPv6 included', () => {
    expect(addressPeerId({ host: '10.0.0.1', port: 7946 })).toBe('10.0.0.1:7946');
    expect(parseAddressPeerId('10.0.0.1:7946')).toEqual({ host: '10.0.0.1', port: 7946 });
    expect(parseAddressPeerId('::1:80')).toEqual({ host: '::1', port: 80 });
    expect(parseAddressPeerId('nohost')).toBeUndefined();
    expect(parseAddressPeerId('h:99999')).toBeUndefined();
  });
});
