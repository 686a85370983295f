/**
 * The peer of the election benchmark: a five-member etcd 3.4 cluster on
 * loopback. Each trial SIGKILLs the etcd leader and times how long until a
 * linearizable read succeeds again (it needs a leader: a follower forwards a
 * read-index request to it), then restarts the killed member and waits for
 * the cluster to settle.
 */

import { Etcd3 } from 'etcd3';
import { startEtcdCluster, type EtcdTiming } from '../../test/support/etcd-cluster.js';
import { onBenchExit } from './reaper.js';

/** A trial that has not recovered by then fails the benchmark. */
const TRIAL_TIMEOUT_MS = 30_000;

/** Milliseconds from SIGKILL of the leader to the first successful linearizable read. */
export async function measureEtcdFailover(
  trials: number,
  timing: EtcdTiming,
  log: (line: string) => void,
): Promise<number[]> {
  const cluster = await startEtcdCluster(5, timing);
  // Ctrl-C or a crash of the benchmark must not leave etcd running.
  const unregister = onBenchExit(() => {
    for (const member of cluster.members) member.child?.kill('SIGKILL');
  });
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
          let value: string | null | undefined;
          try {
            value = await client
              .get('bench/key')
              .options({ deadline: Date.now() + timing.electionMs })
              .string();
          } catch {
            value = undefined; // no leader yet
          }
          if (value === String(trial)) break;
          if (value !== undefined) {
            throw new Error(`etcd read ${String(value)} after the failover, not ${String(trial)}`);
          }
          if (performance.now() - killedAt > TRIAL_TIMEOUT_MS) {
            throw new Error(
              `etcd served no read within ${String(TRIAL_TIMEOUT_MS)} ms of the kill`,
            );
          }
        }
        samples.push(performance.now() - killedAt);
      } finally {
        client.close();
      }
      log(
        `etcd trial ${String(trial + 1)}/${String(trials)}: ${samples.at(-1)?.toFixed(0) ?? '?'} ms`,
      );
      if (trial + 1 < trials) await cluster.restart(leader);
    }
  } finally {
    await cluster.stop();
    unregister();
  }
  return samples;
}

// Waits until every member agrees on a leader and has for a moment, so each trial starts calm.
async function settledLeader(leaderName: () => Promise<string | undefined>): Promise<string> {
  let previous: string | undefined;
  let stableSince = Date.now();
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error('etcd did not settle on one leader within 60 s');
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
