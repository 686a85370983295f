/**
 * The deterministic simulator's public face: build a cluster of simulated
 * nodes, script faults, check invariants after every event, and run in
 * virtual time. Everything random derives from one seed, so a failing run is
 * replayed exactly from its seed.
 *
 * @example
 * ```ts
 * const sim = new Simulation({ seed: 7, network: { loss: 0.01 } });
 * sim.addNode('n1', async (runtime) => {
 *   await runtime.network.bindDatagram({ host: '', port: 7000 }, () => {});
 * });
 * sim.partition({ kind: 'isolate', node: 'n1' }, { atMs: 1_000, durationMs: 5_000 });
 * sim.addInvariant('no split brain', () => leaders() <= 1 || 'two leaders');
 * const result = await sim.runFor(60_000);
 * if (!result.ok) console.log(formatFailure(result.failure!));
 * ```
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import type { SeededRandom } from '../../core/random/seeded-random.js';
import type { Runtime } from '../runtime.js';
import {
  SimKernel,
  type InvariantCheck,
  type NamedCheck,
  type SimulationStats,
  type NodeProgram,
  type SimNodeState,
  type SimulationFailure,
} from './kernel.js';
import { resolveLinkModel, type LinkModelInput } from './network-model.js';
import { resolveSimulationOptions, type SimulationOptions } from './options.js';
import { SimRuntime } from './sim-runtime.js';
import type { SimTrace } from './trace.js';

/**
 * A partition. Every kind blocks messages (datagrams, stream segments,
 * handshakes, resets) on some directed links while active.
 * - `split`: the listed groups cannot reach each other in either direction
 *   (a full partition between groups). Nodes in no group form one more group,
 *   so `{ kind: 'split', groups: [['n1']] }` cuts `n1` off from everyone.
 * - `isolate`: one node from all others: `both` (default), only `inbound`
 *   (it can send but hears nothing) or only `outbound`.
 * - `one-way`: `from` nodes cannot reach `to` nodes, while `to` → `from` still
 *   works (asymmetric: A↛B but B→A).
 *
 * Nodes added after a partition began are not affected by it.
 *
 * @since 2.0.0
 */
export type PartitionSpec = SplitPartition | IsolatePartition | OneWayPartition;

/**
 * A full partition between groups; see {@link PartitionSpec}.
 *
 * @since 2.0.0
 */
export interface SplitPartition {
  /** The kind. */
  readonly kind: 'split';
  /** Node ids per group; unlisted nodes form one more group. */
  readonly groups: readonly (readonly string[])[];
}

/**
 * One node cut off; see {@link PartitionSpec}.
 *
 * @since 2.0.0
 */
export interface IsolatePartition {
  /** The kind. */
  readonly kind: 'isolate';
  /** The node. */
  readonly node: string;
  /** What is cut: both directions (default), only what it receives, or only what it sends. */
  readonly direction?: 'both' | 'inbound' | 'outbound';
}

/**
 * An asymmetric partition; see {@link PartitionSpec}.
 *
 * @since 2.0.0
 */
export interface OneWayPartition {
  /** The kind. */
  readonly kind: 'one-way';
  /** Senders whose messages are blocked... */
  readonly from: readonly string[];
  /** ...towards these receivers (the reverse direction still works). */
  readonly to: readonly string[];
}

/**
 * When a partition starts and ends.
 *
 * @since 2.0.0
 */
export interface PartitionTiming {
  /** Virtual time it starts; default now. */
  readonly atMs?: number;
  /** How long it lasts; default until healed. */
  readonly durationMs?: number;
}

/**
 * A scheduled or active partition.
 *
 * @since 2.0.0
 */
export interface PartitionHandle {
  /** Sequence number, for traces. */
  readonly id: number;
  /** Whether it is blocking now. */
  readonly active: boolean;
  /** Heals it now (or cancels it, if it has not started); harmless twice. */
  heal(): void;
}

/**
 * Options of one node.
 *
 * @since 2.0.0
 */
export interface SimNodeOptions {
  /** Host name in its addresses; default the node id. */
  readonly host?: string;
  /** Clock drift in parts per million; default 0. */
  readonly driftPpm?: number;
  /** Wall-clock offset in ms; default 0. */
  readonly clockOffsetMs?: number;
  /** Virtual time it starts at; default now. */
  readonly startAtMs?: number;
}

/**
 * The outcome of a run.
 *
 * @since 2.0.0
 */
export interface SimulationResult {
  /** No failure (so far). */
  readonly ok: boolean;
  /** Virtual time at the end. */
  readonly timeMs: number;
  /** Events run so far. */
  readonly events: number;
  /** For `runUntil`: whether the predicate became true. */
  readonly reached: boolean;
  /** The failure, when not ok. */
  readonly failure?: SimulationFailure;
}

/**
 * Formats a failure as one line with everything needed to replay it.
 *
 * @param failure - The failure.
 * @returns E.g. `seed 17 at 12345.678 ms (event 9876): invariant "one leader": two leaders`.
 * @since 2.0.0
 */
export function formatFailure(failure: SimulationFailure): string {
  const what =
    failure.kind === 'error'
      ? `node ${failure.nodeId ?? '?'} threw`
      : `${failure.kind === 'final' ? 'final check' : 'invariant'} "${failure.invariant ?? '?'}"`;
  return `seed ${String(failure.seed)} at ${failure.timeMs.toFixed(3)} ms (event ${failure.events}): ${what}: ${failure.message}`;
}

const NODE_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * A deterministic simulation of a cluster.
 *
 * @since 2.0.0
 */
export class Simulation {
  readonly #kernel: SimKernel;
  readonly #finalChecks: NamedCheck[] = [];
  readonly #random: SeededRandom;
  #partitionSeq = 0;
  readonly #partitions = new Set<{ heal(): void }>();

  /**
   * @param options - The seed and the models; see {@link SimulationOptions}.
   * @throws DistributedError `INVALID_ARGUMENT` for bad options.
   */
  constructor(options: SimulationOptions) {
    this.#kernel = new SimKernel(
      resolveSimulationOptions(options),
      (kernel, node, incarnation) => new SimRuntime(kernel, node, incarnation),
    );
    this.#random = this.#kernel.random.fork('scenario');
  }

  /** The seed. */
  get seed(): number | string {
    return this.#kernel.options.seed;
  }

  /** Virtual time, in ms since the simulation began. */
  get now(): number {
    return this.#kernel.now;
  }

  /** The trace of messages and faults. */
  get trace(): SimTrace {
    return this.#kernel.trace;
  }

  /** Counters: events run, datagrams sent/delivered/dropped, stream bytes delivered. */
  get stats(): Readonly<SimulationStats> {
    return { ...this.#kernel.stats };
  }

  /** The failure that stopped the run, if any. */
  get failure(): SimulationFailure | undefined {
    return this.#kernel.failure;
  }

  /**
   * A random stream for the scenario itself (fault schedules, workloads),
   * derived from the seed and independent of the nodes' and network's streams.
   */
  get random(): SeededRandom {
    return this.#random;
  }

  /** Node ids, in the order added. */
  get nodeIds(): readonly string[] {
    return [...this.#kernel.nodeIds];
  }

  #node(id: string): SimNodeState {
    const node = this.#kernel.byId.get(id);
    if (node === undefined) throw new DistributedError('INVALID_ARGUMENT', `no node '${id}'`);
    return node;
  }

  /**
   * Adds a node; it starts at `options.startAtMs` (default now).
   *
   * @param id - Unique: letters, digits, `_.:-`, at most 64.
   * @param program - Called with a fresh runtime at start and after every restart.
   * @param options - Host, clock drift and offset, start time.
   * @throws DistributedError `INVALID_ARGUMENT` for a bad or duplicate id or host.
   */
  addNode(id: string, program: NodeProgram, options: SimNodeOptions = {}): void {
    const kernel = this.#kernel;
    if (typeof id !== 'string' || !NODE_ID.test(id)) {
      throw new DistributedError('INVALID_ARGUMENT', `bad node id '${id}'`);
    }
    if (typeof program !== 'function') {
      throw new DistributedError('INVALID_ARGUMENT', 'program must be a function');
    }
    const host = options.host ?? id;
    if (kernel.byId.has(id)) {
      throw new DistributedError('INVALID_ARGUMENT', `node '${id}' already exists`);
    }
    if (kernel.hosts.has(host)) {
      throw new DistributedError('INVALID_ARGUMENT', `host '${host}' already exists`);
    }
    const node = kernel.addNode(id, host, program);
    if (options.driftPpm !== undefined) kernel.setDrift(node, options.driftPpm);
    if (options.clockOffsetMs !== undefined) node.offsetMs = options.clockOffsetMs;
    kernel.at(options.startAtMs ?? kernel.now, -1, -1, () => {
      kernel.start(node);
    });
  }

  /**
   * Runs `action` at virtual time `atMs` (now, if in the past).
   *
   * @param atMs - Virtual time.
   * @param action - The scripted step; if it throws, the run fails.
   */
  schedule(atMs: number, action: (sim: Simulation) => void): void {
    const kernel = this.#kernel;
    kernel.at(atMs, -1, -1, () => {
      try {
        action(this);
      } catch (error) {
        kernel.fail('error', `scheduled action threw: ${String(error)}`);
      }
    });
  }

  /**
   * Runs `action` after `delayMs` of virtual time.
   *
   * @param delayMs - Delay.
   * @param action - The scripted step.
   */
  after(delayMs: number, action: (sim: Simulation) => void): void {
    this.schedule(this.#kernel.now + delayMs, action);
  }

  /**
   * Crashes a node now: timers, sockets and unsynced writes are gone.
   *
   * @param id - Node id.
   */
  crash(id: string): void {
    this.#kernel.crash(this.#node(id));
  }

  /**
   * Restarts a node now (crashing it first if it is running): its program
   * runs again with a fresh runtime over its surviving storage.
   *
   * @param id - Node id.
   */
  restart(id: string): void {
    this.#kernel.start(this.#node(id));
  }

  /**
   * Pauses a node (a GC stall): its timers and deliveries wait.
   *
   * @param id - Node id.
   * @param durationMs - Resume after this long; default until {@link Simulation.resume}.
   */
  pause(id: string, durationMs?: number): void {
    const node = this.#node(id);
    this.#kernel.pause(node);
    if (durationMs !== undefined) {
      this.#kernel.at(this.#kernel.now + durationMs, -1, -1, () => {
        this.#kernel.resume(node);
      });
    }
  }

  /**
   * Resumes a paused node: its expired timers run now, then the deliveries
   * that arrived meanwhile, each in order (see `SimKernel.resume`).
   *
   * @param id - Node id.
   */
  resume(id: string): void {
    this.#kernel.resume(this.#node(id));
  }

  /**
   * Sets a node's clock drift from now on.
   *
   * @param id - Node id.
   * @param driftPpm - Parts per million (positive: its clock runs fast).
   */
  setDrift(id: string, driftPpm: number): void {
    this.#kernel.setDrift(this.#node(id), driftPpm);
  }

  /**
   * Sets a node's wall-clock offset (`now()` jumps; `monotonic()` does not).
   *
   * @param id - Node id.
   * @param offsetMs - Offset in ms.
   */
  setClockOffset(id: string, offsetMs: number): void {
    if (!Number.isFinite(offsetMs)) {
      throw new DistributedError('INVALID_ARGUMENT', 'offsetMs must be finite');
    }
    const node = this.#node(id);
    node.offsetMs = offsetMs;
    this.#kernel.trace.record(this.now, 'clock', node.index, 0, -1, 0, 0, `offset ${offsetMs}ms`);
  }

  /**
   * Whether a node is running (started and not crashed).
   *
   * @param id - Node id.
   * @returns True when running.
   */
  isAlive(id: string): boolean {
    return this.#node(id).alive;
  }

  /**
   * Whether a node is paused.
   *
   * @param id - Node id.
   * @returns True when paused.
   */
  isPaused(id: string): boolean {
    return this.#node(id).paused;
  }

  /**
   * A running node's current runtime (for tests that drive it from outside).
   *
   * @param id - Node id.
   * @returns The runtime, or `undefined` when crashed or not started.
   */
  runtimeOf(id: string): Runtime | undefined {
    return this.#node(id).runtime;
  }

  /**
   * What of a store would survive a crash now: the writes covered by completed syncs.
   *
   * @param id - Node id.
   * @param store - Store name.
   * @returns A copy (empty when the store does not exist).
   */
  durable(id: string, store: string): Map<string, Uint8Array> {
    const data = this.#node(id).stores.get(store);
    const out = new Map<string, Uint8Array>();
    if (data !== undefined) for (const [key, value] of data.durable) out.set(key, value.slice());
    return out;
  }

  /**
   * Overrides the model of directed links. `'*'` matches every node.
   *
   * @param from - Sender id or `'*'`.
   * @param to - Receiver id or `'*'`.
   * @param model - Overrides on top of the default model; `undefined` restores the default.
   */
  setLink(from: string, to: string, model: LinkModelInput | undefined): void {
    const kernel = this.#kernel;
    const resolved =
      model === undefined ? undefined : resolveLinkModel(kernel.options.network, model);
    const froms = from === '*' ? kernel.nodes : [this.#node(from)];
    const tos = to === '*' ? kernel.nodes : [this.#node(to)];
    for (const a of froms) for (const b of tos) kernel.setLink(a.index, b.index, resolved);
  }

  /**
   * Whether messages `from → to` are blocked by a partition now.
   *
   * @param from - Sender id.
   * @param to - Receiver id.
   * @returns True when blocked.
   */
  isBlocked(from: string, to: string): boolean {
    return this.#kernel.blocked(this.#node(from).index, this.#node(to).index);
  }

  /**
   * Starts a partition now or at `timing.atMs`, healing after `timing.durationMs`.
   *
   * @param spec - Which links it blocks.
   * @param timing - When.
   * @returns A handle to heal it early.
   * @throws DistributedError `INVALID_ARGUMENT` for unknown nodes or bad timing.
   */
  partition(spec: PartitionSpec, timing: PartitionTiming = {}): PartitionHandle {
    const kernel = this.#kernel;
    const pairs = this.#blockedPairs(spec);
    const startAt = timing.atMs ?? kernel.now;
    const duration = timing.durationMs;
    if (!Number.isFinite(startAt) || (duration !== undefined && !(duration >= 0))) {
      throw new DistributedError('INVALID_ARGUMENT', 'bad partition timing');
    }
    const id = ++this.#partitionSeq;
    const note = `#${id} ${describe(spec)}`;
    let state: 'pending' | 'active' | 'healed' = 'pending';
    const apply = (): void => {
      if (state !== 'pending') return;
      state = 'active';
      kernel.trace.record(kernel.now, 'partition', -1, 0, -1, 0, 0, note);
      for (let i = 0; i < pairs.length; i += 2) {
        kernel.adjustBlock(pairs[i] as number, pairs[i + 1] as number, 1);
      }
    };
    const handle = {
      id,
      get active(): boolean {
        return state === 'active';
      },
      heal: (): void => {
        if (state === 'active') {
          kernel.trace.record(kernel.now, 'heal', -1, 0, -1, 0, 0, note);
          for (let i = 0; i < pairs.length; i += 2) {
            kernel.adjustBlock(pairs[i] as number, pairs[i + 1] as number, -1);
          }
        }
        state = 'healed';
        this.#partitions.delete(handle);
      },
    };
    this.#partitions.add(handle);
    if (startAt <= kernel.now) apply();
    else kernel.at(startAt, -1, -1, apply);
    if (duration !== undefined)
      kernel.at(Math.max(startAt, kernel.now) + duration, -1, -1, handle.heal);
    return handle;
  }

  /** Heals every partition, active or pending. */
  healAll(): void {
    for (const handle of [...this.#partitions]) handle.heal();
  }

  #blockedPairs(spec: PartitionSpec): number[] {
    const kernel = this.#kernel;
    const index = (id: string): number => this.#node(id).index;
    const pairs: number[] = [];
    const all = kernel.nodes.map((node) => node.index);
    switch (spec.kind) {
      case 'split': {
        const group = new Map<number, number>();
        spec.groups.forEach((members, g) => {
          for (const id of members) {
            const i = index(id);
            if (group.has(i)) {
              throw new DistributedError('INVALID_ARGUMENT', `node '${id}' is in two groups`);
            }
            group.set(i, g);
          }
        });
        const rest = spec.groups.length;
        for (const a of all) {
          for (const b of all) {
            if (a !== b && (group.get(a) ?? rest) !== (group.get(b) ?? rest)) pairs.push(a, b);
          }
        }
        return pairs;
      }
      case 'isolate': {
        const n = index(spec.node);
        const direction = spec.direction ?? 'both';
        for (const other of all) {
          if (other === n) continue;
          if (direction !== 'inbound') pairs.push(n, other);
          if (direction !== 'outbound') pairs.push(other, n);
        }
        return pairs;
      }
      case 'one-way': {
        for (const a of spec.from.map(index)) {
          for (const b of spec.to.map(index)) if (a !== b) pairs.push(a, b);
        }
        return pairs;
      }
      default:
        throw new DistributedError('INVALID_ARGUMENT', 'unknown partition kind');
    }
  }

  /**
   * Adds an invariant, checked after every event. Returning `false` or a
   * string (the reason), or throwing, stops the run with a failure that names
   * the seed, the time and the invariant.
   *
   * @param name - Shown in the failure.
   * @param check - The invariant.
   */
  addInvariant(name: string, check: InvariantCheck): void {
    this.#kernel.invariants.push({ name, check });
  }

  /**
   * Adds a check for the end of a run (eventual properties: convergence after
   * healing), run by {@link Simulation.runFinalChecks}.
   *
   * @param name - Shown in the failure.
   * @param check - As for {@link Simulation.addInvariant}.
   */
  addFinalCheck(name: string, check: InvariantCheck): void {
    this.#finalChecks.push({ name, check });
  }

  /**
   * Runs the final checks now; the first that fails becomes the run's failure.
   *
   * @returns The result after the checks.
   */
  runFinalChecks(): SimulationResult {
    const kernel = this.#kernel;
    if (kernel.failure === undefined) {
      for (const { name, check } of this.#finalChecks) {
        let outcome: boolean | string | undefined;
        try {
          outcome = check();
        } catch (error) {
          outcome = error instanceof Error ? error.message : String(error);
        }
        if (outcome === false || typeof outcome === 'string') {
          kernel.fail('final', outcome === false ? 'returned false' : outcome, { invariant: name });
          break;
        }
      }
    }
    return this.#result(false);
  }

  /**
   * Runs for `durationMs` of virtual time (or until a failure).
   *
   * @param durationMs - Virtual ms.
   * @returns The result.
   */
  async runFor(durationMs: number): Promise<SimulationResult> {
    if (!(durationMs >= 0)) throw new DistributedError('INVALID_ARGUMENT', 'durationMs >= 0');
    await this.#kernel.run(this.#kernel.now + durationMs);
    return this.#result(false);
  }

  /**
   * Runs until `predicate` holds (checked after every event), at most `maxMs`.
   *
   * @param predicate - The goal.
   * @param maxMs - Virtual ms bound.
   * @returns The result; `reached` tells whether the predicate held.
   */
  async runUntil(predicate: () => boolean, maxMs: number): Promise<SimulationResult> {
    if (!(maxMs >= 0)) throw new DistributedError('INVALID_ARGUMENT', 'maxMs >= 0');
    const reached = await this.#kernel.run(this.#kernel.now + maxMs, predicate);
    return this.#result(reached);
  }

  #result(reached: boolean): SimulationResult {
    const kernel = this.#kernel;
    const failure = kernel.failure;
    return Object.freeze({
      ok: failure === undefined,
      timeMs: kernel.now,
      events: kernel.stats.events,
      reached,
      ...(failure === undefined ? {} : { failure }),
    });
  }
}

function describe(spec: PartitionSpec): string {
  switch (spec.kind) {
    case 'split':
      return `split ${spec.groups.map((group) => `[${group.join(',')}]`).join(' | ')} | rest`;
    case 'isolate':
      return `isolate ${spec.node} ${spec.direction ?? 'both'}`;
    case 'one-way':
      return `one-way [${spec.from.join(',')}] -/-> [${spec.to.join(',')}]`;
  }
}
