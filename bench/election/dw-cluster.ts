/**
 * Five (or N) real `dw agent` processes on loopback for the election
 * benchmark. Every agent runs in its own process group, on fixed ports and a
 * fixed data directory, so it can be SIGKILLed and started again as the same
 * member. Every process is killed when the benchmark exits however it exits.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DW_MAIN } from '../../test/support/dw-process.js';
import { freeTcpPorts } from '../../test/support/free-ports.js';
import { agentArgs, type AgentSlot, type ClusterLaunch } from './agent-args.js';
import { killGroup, onBenchExit } from './reaper.js';

const SOURCE_MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const START_TIMEOUT_MS = 60_000;
const SETTLE_TIMEOUT_MS = 60_000;
const LOG_TAIL = 20;

/**
 * How `dw` is run: the built CLI (as the real-process tests do; `npm run
 * build` first), or the sources through tsx when `DW_BENCH_FROM_SOURCE=1`.
 */
export function dwCommand(): string[] {
  if (process.env['DW_BENCH_FROM_SOURCE'] === '1') return ['--import', 'tsx', SOURCE_MAIN];
  if (!existsSync(DW_MAIN)) {
    throw new Error(`${DW_MAIN} is missing: run \`npm run build\` first`);
  }
  return [DW_MAIN];
}

interface RunningAgent {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

/** GETs JSON from an agent; `undefined` on any failure or a non-200 answer. */
export async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body: unknown = await response.json();
    return response.status === 200 ? body : undefined;
  } catch {
    return undefined;
  }
}

/** The leader's node id as one agent reports it (`undefined`: no leader, or no answer). */
export async function leaderAt(url: string, timeoutMs = 500): Promise<string | undefined> {
  const body = (await getJson(`${url}/v1/leader`, timeoutMs)) as
    { leader?: { nodeId?: unknown } | null } | undefined;
  const nodeId = body?.leader?.nodeId;
  return typeof nodeId === 'string' ? nodeId : undefined;
}

/** One member as an agent reports it. */
export interface MemberView {
  readonly status: string;
  readonly role: string;
}

/** The members one agent reports, by node id; `undefined` when it does not answer. */
export async function membersAt(
  url: string,
  timeoutMs = 500,
): Promise<Map<string, MemberView> | undefined> {
  const body = (await getJson(`${url}/v1/members`, timeoutMs)) as
    { members?: { nodeId: string; status: string; role: string }[] } | undefined;
  if (body?.members === undefined) return undefined;
  return new Map(
    body.members.map((member) => [member.nodeId, { status: member.status, role: member.role }]),
  );
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A running benchmark cluster of `dw agent` processes. */
export class DwCluster {
  readonly #launch: ClusterLaunch;
  readonly #dataRoot: string;
  readonly #running = new Map<string, RunningAgent>();
  readonly #started = new Set<string>();
  readonly #unregister: () => void;

  private constructor(launch: ClusterLaunch, dataRoot: string) {
    this.#launch = launch;
    this.#dataRoot = dataRoot;
    this.#unregister = onBenchExit(() => this.#killAll(true));
  }

  /**
   * Starts `size` agents one after another (the founder first) and waits until
   * they agree on a leader.
   */
  static async start(
    size: number,
    shape: Omit<ClusterLaunch, 'slots'>,
    log: (line: string) => void,
  ): Promise<DwCluster> {
    const dataRoot = mkdtempSync(join(tmpdir(), 'dw-bench-election-'));
    const ports = await freeTcpPorts(size * 2);
    const slots: AgentSlot[] = [];
    for (let index = 0; index < size; index += 1) {
      const dataDir = join(dataRoot, `n${String(index)}`);
      mkdirSync(dataDir);
      slots.push({
        nodeId: `n${String(index)}`,
        bindPort: ports[index * 2] as number,
        httpPort: ports[index * 2 + 1] as number,
        dataDir,
      });
    }
    const cluster = new DwCluster({ ...shape, slots }, dataRoot);
    try {
      for (const slot of slots) {
        await cluster.#spawn(slot.nodeId);
        log(`  started ${slot.nodeId} at ${cluster.url(slot.nodeId)}`);
      }
      await cluster.allActive();
      await cluster.settledLeader();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Every member's node id. */
  get nodeIds(): string[] {
    return this.#launch.slots.map((slot) => slot.nodeId);
  }

  /** The node ids of the agents running now. */
  get runningIds(): string[] {
    return [...this.#running.keys()];
  }

  /** The HTTP API URL of an agent (fixed across restarts). */
  url(nodeId: string): string {
    return `http://127.0.0.1:${String(this.#slot(nodeId).httpPort)}`;
  }

  /** SIGKILLs an agent's process group at once; the promise resolves once it has exited. */
  kill(nodeId: string): Promise<void> {
    const agent = this.#running.get(nodeId);
    if (agent === undefined) return Promise.resolve();
    this.#running.delete(nodeId);
    killGroup(agent.child.pid);
    return agent.exited;
  }

  /** Starts a killed agent again on its ports and data directory. */
  async restart(nodeId: string): Promise<void> {
    if (this.#running.has(nodeId)) return;
    await this.#spawn(nodeId);
  }

  /**
   * Waits until every running agent names the same running leader and has
   * for 1.5 s; returns it.
   */
  async settledLeader(): Promise<string> {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    let previous: string | undefined;
    let stableSince = Date.now();
    for (;;) {
      const ids = this.runningIds;
      const views = await Promise.all(ids.map((id) => leaderAt(this.url(id))));
      const first = views[0];
      const agreed =
        first !== undefined && ids.includes(first) && views.every((view) => view === first)
          ? first
          : undefined;
      if (agreed !== previous) {
        previous = agreed;
        stableSince = Date.now();
      } else if (agreed !== undefined && Date.now() - stableSince >= 1500) {
        return agreed;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `dw agents did not settle on one leader within ${String(SETTLE_TIMEOUT_MS)} ms ` +
            `(views: ${ids.map((id, index) => `${id}→${views[index] ?? 'none'}`).join(', ')})`,
        );
      }
      await sleep(100);
    }
  }

  /** Waits until every running agent lists every member as active and a voter (not an observer). */
  async allActive(): Promise<void> {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    for (;;) {
      const ids = this.runningIds;
      const views = await Promise.all(ids.map((id) => membersAt(this.url(id))));
      if (
        views.every(
          (view) =>
            view !== undefined &&
            this.nodeIds.every((member) => {
              const seen = view.get(member);
              return seen?.status === 'active' && seen.role !== 'observer';
            }),
        )
      ) {
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `not every agent saw every member active within ${String(SETTLE_TIMEOUT_MS)} ms`,
        );
      }
      await sleep(100);
    }
  }

  /** Kills every agent and removes the data directories. */
  async stop(): Promise<void> {
    const exits = [...this.#running.values()].map((agent) => agent.exited);
    this.#killAll(false);
    await Promise.all(exits);
    rmSync(this.#dataRoot, { recursive: true, force: true });
    this.#unregister();
  }

  #killAll(removeData: boolean): void {
    for (const agent of this.#running.values()) killGroup(agent.child.pid);
    this.#running.clear();
    if (removeData) rmSync(this.#dataRoot, { recursive: true, force: true });
  }

  #slot(nodeId: string): AgentSlot {
    const slot = this.#launch.slots.find((candidate) => candidate.nodeId === nodeId);
    if (slot === undefined) throw new Error(`no agent ${nodeId}`);
    return slot;
  }

  async #spawn(nodeId: string): Promise<void> {
    const slot = this.#slot(nodeId);
    const args = agentArgs(slot, this.#launch, this.#started.has(nodeId));
    // Its own process group (detached), so one kill reaches anything it starts.
    const child = spawn(process.execPath, [...dwCommand(), 'agent', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.#running.set(nodeId, { child, exited });
    this.#started.add(nodeId);
    const tail: string[] = [];
    const keep = (line: string): void => {
      tail.push(line);
      if (tail.length > LOG_TAIL) tail.shift();
    };
    createInterface({ input: child.stderr }).on('line', keep);
    const lines = createInterface({ input: child.stdout });
    const listening = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${nodeId} did not start within ${String(START_TIMEOUT_MS)} ms`));
      }, START_TIMEOUT_MS);
      lines.on('line', (line) => {
        keep(line);
        if (line.includes('"agent listening"')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(
          new Error(
            `dw agent ${nodeId} exited (code ${String(child.exitCode)}) before listening:\n` +
              `  dw agent ${args.join(' ')}\n${tail.join('\n')}`,
          ),
        );
      });
    });
    try {
      await listening;
    } catch (error) {
      killGroup(child.pid);
      this.#running.delete(nodeId);
      throw error;
    }
  }
}
