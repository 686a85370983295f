/**
 * The dw side of the election benchmark, against a running {@link DwCluster}:
 * SIGKILL the leader and time until a survivor serves a linearizable read;
 * SIGKILL a follower and time until every survivor marks it dead.
 */

import { getJson, leaderAt, membersAt, type DwCluster } from './dw-cluster.js';

const KEY = 'bench/election';
/** Each poll gives up after this long, so a request stuck on a dead leader does not hide a recovery. */
const REQUEST_TIMEOUT_MS = 250;
/** Pause between two polls of one survivor. */
const POLL_PAUSE_MS = 10;
/** A trial that has not recovered by then fails the benchmark: that is a finding, not a sample. */
const TRIAL_TIMEOUT_MS = 30_000;
const DEAD_TRIAL_TIMEOUT_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One failover trial, in ms from the SIGKILL. */
export interface FailoverSample {
  /** Until a survivor answered the read with the value written before the kill. */
  readonly readMs: number;
  /** Until a survivor named a leader other than the killed one. */
  readonly leaderMs: number;
}

async function putValue(url: string, value: string): Promise<void> {
  const response = await fetch(`${url}/v1/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: KEY, value }),
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status !== 200) {
    throw new Error(`PUT /v1/config answered ${String(response.status)}: ${await response.text()}`);
  }
}

async function readsValue(url: string, value: string): Promise<boolean> {
  const body = (await getJson(
    `${url}/v1/config?key=${encodeURIComponent(KEY)}`,
    REQUEST_TIMEOUT_MS,
  )) as { entry?: { value?: unknown } } | undefined;
  return body?.entry?.value === value;
}

/**
 * Runs `trials` leader failovers. Each starts from a settled cluster, writes a
 * fresh value through the leader, checks every survivor-to-be reads it (which
 * also opens the HTTP connections before the clock starts), SIGKILLs the
 * leader's process group and polls every survivor in parallel; then restarts
 * the killed agent on its data directory.
 */
export async function measureDwFailover(
  cluster: DwCluster,
  trials: number,
  log: (line: string) => void,
): Promise<FailoverSample[]> {
  const samples: FailoverSample[] = [];
  for (let trial = 0; trial < trials; trial += 1) {
    await cluster.allActive(); // the agent restarted after the last trial is back
    const leader = await cluster.settledLeader();
    const survivors = cluster.runningIds.filter((id) => id !== leader);
    const value = `trial-${String(trial)}-${String(Date.now())}`;
    await putValue(cluster.url(leader), value);
    for (const id of survivors) {
      const deadline = Date.now() + 10_000;
      while (!(await readsValue(cluster.url(id), value))) {
        if (Date.now() > deadline) throw new Error(`${id} never read the value before the kill`);
        await sleep(POLL_PAUSE_MS);
      }
    }

    const killedAt = performance.now();
    const exited = cluster.kill(leader);
    let readMs: number | undefined;
    let leaderMs: number | undefined;
    const deadline = killedAt + TRIAL_TIMEOUT_MS;
    const poll = async (id: string, offset: number): Promise<void> => {
      await sleep(offset); // staggered, so the survivors' polls cover each other's pauses
      const url = cluster.url(id);
      while ((readMs === undefined || leaderMs === undefined) && performance.now() < deadline) {
        await Promise.all([
          readMs === undefined
            ? readsValue(url, value).then((ok) => {
                if (ok) readMs ??= performance.now() - killedAt;
              })
            : undefined,
          leaderMs === undefined
            ? leaderAt(url, REQUEST_TIMEOUT_MS).then((named) => {
                if (named !== undefined && named !== leader) {
                  leaderMs ??= performance.now() - killedAt;
                }
              })
            : undefined,
        ]);
        await sleep(POLL_PAUSE_MS);
      }
    };
    await Promise.all(
      survivors.map((id, index) => poll(id, (index * POLL_PAUSE_MS) / survivors.length)),
    );
    await exited;
    if (readMs === undefined || leaderMs === undefined) {
      throw new Error(
        `trial ${String(trial + 1)}: after SIGKILL of leader ${leader}, ` +
          `${readMs === undefined ? 'no survivor served the read' : 'no survivor named a new leader'} ` +
          `within ${String(TRIAL_TIMEOUT_MS)} ms`,
      );
    }
    samples.push({ readMs, leaderMs });
    log(
      `dw trial ${String(trial + 1)}/${String(trials)}: killed leader ${leader}; ` +
        `read after ${readMs.toFixed(0)} ms, new leader named after ${leaderMs.toFixed(0)} ms`,
    );
    if (trial + 1 < trials) await cluster.restart(leader);
  }
  return samples;
}

/**
 * Runs `trials` crashes of a follower (a different one each time when it can)
 * and returns, per trial, the ms from its SIGKILL until the last survivor
 * reports it `dead` or no longer lists it.
 */
export async function measureDeadDetection(
  cluster: DwCluster,
  trials: number,
  log: (line: string) => void,
): Promise<number[]> {
  const samples: number[] = [];
  for (let trial = 0; trial < trials; trial += 1) {
    await cluster.allActive();
    const leader = await cluster.settledLeader();
    // In member order, not start order, so the victims rotate across trials.
    const running = new Set(cluster.runningIds);
    const followers = cluster.nodeIds.filter((id) => id !== leader && running.has(id));
    const victim = followers[trial % followers.length];
    if (victim === undefined) throw new Error('no follower to kill');
    const survivors = cluster.runningIds.filter((id) => id !== victim);

    const killedAt = performance.now();
    const exited = cluster.kill(victim);
    const markedAt = new Map<string, number>();
    const lastSeen = new Map<string, string>(); // for the error message: what each survivor said last
    const deadline = killedAt + DEAD_TRIAL_TIMEOUT_MS;
    await Promise.all(
      survivors.map(async (id) => {
        while (!markedAt.has(id) && performance.now() < deadline) {
          const members = await membersAt(cluster.url(id), REQUEST_TIMEOUT_MS * 2);
          const status = members?.get(victim)?.status;
          lastSeen.set(id, members === undefined ? 'no answer' : (status ?? 'absent'));
          if (members !== undefined && (status === undefined || status === 'dead')) {
            markedAt.set(id, performance.now() - killedAt);
          } else {
            await sleep(POLL_PAUSE_MS * 2);
          }
        }
      }),
    );
    await exited;
    if (markedAt.size < survivors.length) {
      const missing = survivors.filter((id) => !markedAt.has(id));
      throw new Error(
        `dead-detection trial ${String(trial + 1)}: ${missing
          .map((id) => `${id} (still says ${lastSeen.get(id) ?? '?'})`)
          .join(', ')} did not mark ${victim} dead within ${String(DEAD_TRIAL_TIMEOUT_MS)} ms`,
      );
    }
    const times = [...markedAt.values()];
    const last = Math.max(...times);
    samples.push(last);
    log(
      `dead trial ${String(trial + 1)}/${String(trials)}: killed follower ${victim}; ` +
        `first survivor marked it after ${Math.min(...times).toFixed(0)} ms, ` +
        `the last after ${last.toFixed(0)} ms`,
    );
    if (trial + 1 < trials) await cluster.restart(victim);
  }
  return samples;
}
