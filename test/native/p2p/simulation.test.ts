import { describe, expect, it } from 'vitest';
import type { PeerEvent } from '../../../src/contracts/p2p-network.js';
import { NativeP2PNetwork } from '../../../src/native/p2p/native-p2p-network.js';
import { SecureCodec } from '../../../src/native/transport/secure-codec.js';
import { Simulation } from '../../../src/runtime/sim/simulation.js';
import { settle } from '../../runtime/sim/support.js';
import { clusterKeyring } from './support.js';

const IDS = ['n1', 'n2', 'n3', 'n4', 'n5'];
const PORT = 7000;
const text = new TextEncoder();

/** Five nodes on the simulator, all seeded with n1, recording what they hear. */
function cluster(seed: number) {
  const sim = new Simulation({
    seed,
    network: { loss: 0.02, latency: { baseMs: 5, jitterMs: 5 } },
  });
  const nets = new Map<string, NativeP2PNetwork>();
  const heard = new Map<string, string[]>(IDS.map((id) => [id, []]));
  const events = new Map<string, PeerEvent[]>(IDS.map((id) => [id, []]));
  const rejects: string[] = [];
  for (const id of IDS) {
    sim.addNode(id, async (runtime) => {
      const codec = new SecureCodec({
        keyring: clusterKeyring(),
        localNodeId: id,
        random: runtime.random,
      });
      const network = new NativeP2PNetwork({
        runtime,
        localPeerId: id,
        listen: { host: '', port: PORT },
        seeds: id === 'n1' ? [] : [{ host: 'n1', port: PORT }],
        codec,
        requestTimeoutMs: 20_000,
        lostAfterMs: 40_000,
        onReject: (reason, source) => rejects.push(`${id}<-${source.peerId ?? '?'}: ${reason}`),
      });
      network.onMessage((message) =>
        heard.get(id)?.push(`${message.fromPeerId}:${new TextDecoder().decode(message.data)}`),
      );
      network.onPeerEvent((event) => events.get(id)?.push(event));
      network.setRequestHandler((request) =>
        Promise.resolve(text.encode(`${id} answers ${request.fromPeerId}`)),
      );
      nets.set(id, network);
      await network.start();
    });
  }
  const net = (id: string): NativeP2PNetwork => {
    const network = nets.get(id);
    if (network === undefined) throw new Error(`${id} has no network`);
    return network;
  };
  const knows = (id: string, count: number) => nets.get(id)?.stats.knownPeers === count;
  return { sim, net, heard, events, rejects, knows };
}

/** Every node sends to and asks every other; checks everything arrived. */
async function allPairsTraffic(
  c: ReturnType<typeof cluster>,
  ids: readonly string[],
  tag: string,
): Promise<void> {
  for (const from of ids) {
    for (const to of ids) {
      if (from === to) continue;
      await settle(c.sim, c.net(from).sendToPeer(to, text.encode(tag)));
      const reply = await settle(c.sim, c.net(from).requestFromPeer(to, text.encode(tag)));
      expect(new TextDecoder().decode(reply)).toBe(`${to} answers ${from}`);
    }
  }
  const done = () =>
    ids.every(
      (id) =>
        (c.heard.get(id) ?? []).filter((line) => line.endsWith(`:${tag}`)).length ===
        ids.length - 1,
    );
  const result = await c.sim.runUntil(done, 30_000);
  expect(result.reached).toBe(true);
}

describe('NativeP2PNetwork in the simulator', () => {
  it.each([1, 2, 3, 11, 42])(
    'seed %i: five nodes with loss find each other, survive a healed partition, and see a crash as lost',
    async (seed) => {
      const c = cluster(seed);
      const everyoneKnowsEveryone = () => IDS.every((id) => c.knows(id, IDS.length - 1));
      expect((await c.sim.runUntil(everyoneKnowsEveryone, 30_000)).reached).toBe(true);
      await allPairsTraffic(c, IDS, 'before');

      // A partition long enough to break the connections, then healed.
      const connectionsBefore = c.net('n1').stats.connections;
      c.sim.partition(
        {
          kind: 'split',
          groups: [
            ['n1', 'n2'],
            ['n3', 'n4', 'n5'],
          ],
        },
        { durationMs: 20_000 },
      );
      await c.sim.runFor(15_000);
      expect(c.net('n1').stats.connections).toBeLessThan(connectionsBefore);
      await c.sim.runFor(5_000);
      // Nobody was lost (redials failed for less than lostAfterMs) ...
      expect(everyoneKnowsEveryone()).toBe(true);
      // ... and after healing, messages and requests get through again.
      await c.sim.runFor(15_000);
      await allPairsTraffic(c, IDS, 'after');

      // A crashed node is reported lost once redials have failed for lostAfterMs.
      c.sim.crash('n5');
      const othersLost = () => ['n1', 'n2', 'n3', 'n4'].every((id) => c.knows(id, 3));
      expect((await c.sim.runUntil(othersLost, 120_000)).reached).toBe(true);
      for (const id of ['n1', 'n2', 'n3', 'n4']) {
        expect(
          c.events
            .get(id)
            ?.filter((e) => e.eventType === 'peer-lost')
            .map((e) => e.peer.peerId),
        ).toEqual(['n5']);
      }
      // Restarted, it rejoins through its seed and is rediscovered everywhere.
      c.sim.restart('n5');
      expect((await c.sim.runUntil(everyoneKnowsEveryone, 60_000)).reached).toBe(true);
      await allPairsTraffic(c, IDS, 'rejoined');
      expect(c.rejects).toEqual([]);
      expect(c.sim.failure).toBeUndefined();
    },
  );
});
