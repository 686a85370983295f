/**
 * `npm run bench -- election` (issue 4, proof with real processes): five
 * `dw agent` processes on loopback; SIGKILL the leader and time until a
 * survivor serves a linearizable read, against a five-member etcd 3.4 on the
 * same machine with the same heartbeat and election timeout, in the same run.
 * Also: how long until every survivor marks a SIGKILLed member dead, with the
 * agents at their default settings.
 */

import { startEtcdCluster, type EtcdCluster } from '../../test/support/etcd-cluster.js';
import type { BenchOptions, BenchRow, BenchSuite } from '../harness.js';
import type { BenchMembership } from './agent-args.js';
import { DwCluster } from './dw-cluster.js';
import { measureDeadDetection, measureDwFailover } from './dw-failover.js';
import { measureEtcdFailover } from './etcd-failover.js';
import { onBenchExit } from './reaper.js';
import { summarize, type Summary } from './stats.js';

/** Heartbeat interval of both sides, in ms (etcd `--heartbeat-interval`, dw `--raft-tick-ms`). */
const HEARTBEAT_MS = 50;
/** Election timeout of both sides, in ms (etcd `--election-timeout`, dw ticks × heartbeat). */
const ELECTION_MS = 500;
const AGENTS = 5;
const P50_TARGET = 0.5;
const P99_TARGET = 1.0;

function trials(options: BenchOptions): { failover: number; dead: number } {
  return options.quick ? { failover: 5, dead: 2 } : { failover: 20, dead: 5 };
}

let membershipChoice: BenchMembership | undefined;

/**
 * The membership under test: native, unless `DW_BENCH_MEMBERSHIP=etcd` asks
 * for the etcd adapter (whose numbers measure etcd, so its rows carry no target).
 */
function membership(): BenchMembership {
  if (membershipChoice !== undefined) return membershipChoice;
  const forced = process.env['DW_BENCH_MEMBERSHIP'];
  if (forced !== undefined && forced !== 'native' && forced !== 'etcd') {
    throw new Error(`DW_BENCH_MEMBERSHIP must be native or etcd, not ${forced}`);
  }
  membershipChoice = forced ?? 'native';
  return membershipChoice;
}

const peerName = `etcd 3.4 ×${String(AGENTS)} (${String(HEARTBEAT_MS)}/${String(ELECTION_MS)} ms)`;

export const electionSuite: BenchSuite = {
  name: 'election',
  workload(options) {
    const count = trials(options);
    const kind = membership();
    return (
      `${String(AGENTS)} dw agents on loopback (--membership ${kind}` +
      (kind === 'native'
        ? `, raft tick ${String(HEARTBEAT_MS)} ms × ${String(ELECTION_MS / HEARTBEAT_MS)} election ticks`
        : ', over a 3-member etcd') +
      `); ${String(count.failover)} trials: SIGKILL the leader, time until a survivor answers ` +
      `GET /v1/config (linearizable) with the value written before the kill, then restart it on ` +
      `its data dir and wait until all agree on a leader for 1.5 s. Peer: ${peerName}, same ` +
      `trials through the etcd client's linearizable get. Then ${String(count.dead)} trials at ` +
      `default settings: SIGKILL a follower, time until every survivor's GET /v1/members marks ` +
      `it dead (or drops it).`
    );
  },
  async run(options, log) {
    const count = trials(options);
    const kind = membership();
    if (kind === 'etcd') {
      log(
        'NOTE: dw agents run --membership etcd (this dw has no native membership): their ' +
          'failover measures the etcd adapter, so the rows below carry no target.',
      );
    }

    // etcd membership needs an etcd of its own, apart from the peer measured below.
    let backing: EtcdCluster | undefined;
    let unregisterBacking = (): void => undefined;
    let failover: { read: Summary; leader: Summary };
    let dead: Summary;
    try {
      if (kind === 'etcd') {
        backing = await startEtcdCluster(3);
        const started = backing;
        unregisterBacking = onBenchExit(() => {
          for (const member of started.members) member.child?.kill('SIGKILL');
        });
      }
      const launch = (prefix: string) => ({
        membership: kind,
        ...(backing === undefined
          ? {}
          : {
              etcdEndpoints: backing.endpoints,
              etcdPrefix: `/dw-bench-${prefix}-${String(Date.now())}/`,
            }),
      });

      log(`dw: starting ${String(AGENTS)} agents for the failover trials`);
      const timed = await DwCluster.start(
        AGENTS,
        {
          ...launch('failover'),
          raft: { tickMs: HEARTBEAT_MS, electionTicks: ELECTION_MS / HEARTBEAT_MS },
        },
        log,
      );
      try {
        const samples = await measureDwFailover(timed, count.failover, log);
        failover = {
          read: summarize(samples.map((sample) => sample.readMs)),
          leader: summarize(samples.map((sample) => sample.leaderMs)),
        };
      } finally {
        await timed.stop();
      }

      log(
        `dw: starting ${String(AGENTS)} agents at default settings for the dead-detection trials`,
      );
      const defaults = await DwCluster.start(AGENTS, launch('dead'), log);
      try {
        dead = summarize(await measureDeadDetection(defaults, count.dead, log));
      } finally {
        await defaults.stop();
      }
    } finally {
      await backing?.stop();
      unregisterBacking();
    }

    log(`etcd: starting the ${peerName} peer`);
    const etcd = summarize(
      await measureEtcdFailover(
        count.failover,
        { heartbeatMs: HEARTBEAT_MS, electionMs: ELECTION_MS },
        log,
      ),
    );

    const failoverName = `SIGKILL leader → linearizable read (dw ${kind})`;
    const targeted = kind === 'native';
    const compare = (metric: 'p50' | 'p99' | 'max', target?: number): BenchRow => ({
      name: failoverName,
      metric,
      unit: 'ms',
      value: failover.read[metric],
      better: 'lower',
      peer: peerName,
      peerValue: etcd[metric],
      ...(targeted && target !== undefined
        ? {
            target: `≤ ${target.toFixed(1)}× etcd`,
            met: failover.read[metric] <= target * etcd[metric],
          }
        : {}),
    });
    const plain = (name: string, metric: 'p50' | 'p99' | 'max', summary: Summary): BenchRow => ({
      name,
      metric,
      unit: 'ms',
      value: summary[metric],
      better: 'lower',
    });
    const leaderName = `SIGKILL leader → a survivor names a new leader (dw ${kind})`;
    const deadName = `SIGKILLed follower marked dead by every survivor (dw ${kind}, defaults)`;
    return [
      compare('p50', P50_TARGET),
      compare('p99', P99_TARGET),
      compare('max'),
      plain(leaderName, 'p50', failover.leader),
      plain(leaderName, 'p99', failover.leader),
      plain(deadName, 'p50', dead),
      plain(deadName, 'p99', dead),
      plain(deadName, 'max', dead),
    ];
  },
};
