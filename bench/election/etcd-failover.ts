/**
 * The peer of the election benchmark: a five-member etcd 3.4 cluster on
 * loopback. Each trial SIGKILLs the etcd leader and times how long until a
 * linearizable read succeeds again (it needs a leader: a follower forwards a
 * read-index request to it), then restarts the killed member and waits for
 * the cluster to settle.
 */

import { Etcd3 } from 'etcd3';
import { startEtcdCluster, type EtcdTiming } from '../../test/support/etcd-cluster.js';

/** Milliseconds from SIGKILL of the leader to the first successful linearizable read. */
export async function measureEtcdFailover(
  trials: number,
  timing: EtcdTiming,
  log: (line: string) => void,
): Promise<number[]> {
  const cluster = await startEtcdCluster(5, timing);
  const samples: number[] = [];
  try {
    for (let trial = 0; trial < trials; trial += 1) {
      const leader = await settledLeader(() => cluster.leaderName());
      const survivors = cluster.members.filter((member) => member.name !== leader);
      const client = new Etcd3({
        hosts: survivors.map((member) => member.clientUrl),
        dialTimeout: 1000,
      });
      try {
        await client.put('bench/key').value(String(trial)); // connect before the clock starts
        const killedAt = performance.now();
        await cluster.kill(leader);
        for (;;) {
          try {
            await client
              .get('bench/key')
              .options({ deadline: Date.now() + timing.electionMs })
              .string();
            break;
          } catch {
            // no leader yet
          }
        }
        samples.push(performance.now() - killedAt);
      } finally {
        client.close();
      }
      await cluster.restart(leader);
      log(
        `etcd trial ${String(trial + 1)}/${String(trials)}: ${samples.at(-1)?.toFixed(0) ?? '?'} ms`,
      );
    }
  } finally {
    await cluster.stop();
  }
  return samples;
}

// Waits until every member agrees on a leader and has for a moment, so each trial starts calm.
async function settledLeader(leaderName: () => Promise<string | undefined>): Promise<string> {
  let previous: string | undefined;
  let stableSince = Date.now();
  for (;;) {
    const leader = await leaderName();
    if (leader !== previous) {
      previous = leader;
      stableSince = Date.now();
    } else if (leader !== undefined && Date.now() - stableSince > 1500) {
      return leader;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
