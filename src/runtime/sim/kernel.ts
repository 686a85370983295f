/**
 * The simulator's kernel: virtual time, the event queue, the nodes and their
 * lifecycle (start, crash, pause), the link models and the partition matrix.
 * The public `Simulation` wraps it; the runtime pieces (clock, network,
 * storage) schedule their work through it.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import { createSeededRandom, type SeededRandom } from '../../core/random/seeded-random.js';
import type { NetworkAddress, Runtime, StreamConnection } from '../runtime.js';
import { EventQueue, SimEvent } from './event-queue.js';
import type { LinkModel } from './network-model.js';
import type { ResolvedSimulationOptions } from './options.js';
import type { StoreData } from './store-data.js';
import { SimTrace } from './trace.js';

/**
 * What a node runs: called with a fresh runtime at start and after every
 * restart. A returned promise that rejects fails the run.
 *
 * @since 2.0.0
 */
export type NodeProgram = (runtime: Runtime) => void | Promise<void>;

/**
 * How a run failed.
 *
 * @since 2.0.0
 */
export interface SimulationFailure {
  /** The seed that reproduces it. */
  readonly seed: number | string;
  /** Virtual time (ms) of the failure. */
  readonly timeMs: number;
  /** An invariant did not hold, a program threw, or a final check failed. */
  readonly kind: 'invariant' | 'error' | 'final';
  /** The invariant's name (for `invariant` and `final`). */
  readonly invariant?: string;
  /** The node whose program threw (for `error`). */
  readonly nodeId?: string;
  /** What went wrong. */
  readonly message: string;
  /** How many events had run. */
  readonly events: number;
}

/**
 * An invariant or final check: `false` or a string (the reason) is a failure;
 * `true` or `undefined` is a pass; a throw is a failure with its message.
 *
 * @since 2.0.0
 */
export type InvariantCheck = () => boolean | string | undefined;

/**
 * One end of a stream as the kernel sees it, for crashes and partition timeouts.
 *
 * @since 2.0.0
 */
export interface KernelConnection {
  /** The node index of the other end. */
  readonly peerNode: number;
  /** The local node crashed: drop silently here, reset the other end. */
  crashLocal(): void;
  /** The link to the peer became blocked: check after the stream timeout. */
  watchPartition(): void;
}

/**
 * A datagram binding as the kernel sees it.
 *
 * @since 2.0.0
 */
export interface KernelDatagramBinding {
  /** Delivers one datagram. */
  deliver(data: Uint8Array, from: NetworkAddress): void;
}

/**
 * A stream listener binding as the kernel sees it.
 *
 * @since 2.0.0
 */
export interface KernelListenerBinding {
  /** Hands an accepted connection to the program. */
  accept(connection: StreamConnection): void;
}

/**
 * One simulated node and everything that outlives or belongs to its incarnations.
 *
 * @since 2.0.0
 */
export class SimNodeState {
  /** The node id. */
  readonly id: string;
  /** Index in the simulation (stable). */
  readonly index: number;
  /** The host name its addresses carry. */
  readonly host: string;
  /** What it runs. */
  readonly program: NodeProgram;
  /** Bumped at every start and crash; events of an older incarnation are discarded. */
  incarnation = 0;
  /** Running (started and not crashed). */
  alive = false;
  /** Paused (a GC stall): its events wait in `deferred`. */
  paused = false;
  /** Events that arrived while paused, in order. */
  deferred: SimEvent[] = [];
  /** Clock: local monotonic time at `globalBase`. */
  localBase = 0;
  /** Clock: the virtual time the current rate applies from. */
  globalBase = 0;
  /** Clock: local ms per virtual ms (1 + drift ppm / 1e6). */
  rate = 1;
  /** Clock: drift in parts per million. */
  driftPpm = 0;
  /** Clock: wall-clock offset in ms (a wrongly set clock). */
  offsetMs = 0;
  /** Stores by name; they survive restarts (their durable part does). */
  readonly stores = new Map<string, StoreData>();
  /** Bound datagram ports of the current incarnation. */
  readonly datagramPorts = new Map<number, KernelDatagramBinding>();
  /** Listening stream ports of the current incarnation. */
  readonly listeners = new Map<number, KernelListenerBinding>();
  /** Open stream ends of the current incarnation. */
  readonly connections = new Set<KernelConnection>();
  /** Next ephemeral port; continues across restarts so old and new connections differ. */
  nextEphemeralPort = 49_152;
  /** The node's random stream root (forked per incarnation). */
  readonly random: SeededRandom;
  /** The current runtime, when alive. */
  runtime: Runtime | undefined;

  /**
   * @param id - Node id.
   * @param index - Index.
   * @param host - Host name.
   * @param program - What it runs.
   * @param random - Its random root.
   */
  constructor(id: string, index: number, host: string, program: NodeProgram, random: SeededRandom) {
    this.id = id;
    this.index = index;
    this.host = host;
    this.program = program;
    this.random = random;
  }
}

/**
 * Counters of a run.
 *
 * @since 2.0.0
 */
export interface SimulationStats {
  /** Events run. */
  events: number;
  /** Datagrams handed to `send` by live nodes. */
  datagramsSent: number;
  /** Datagrams delivered to an endpoint (duplicates count twice). */
  datagramsDelivered: number;
  /** Datagrams dropped (loss, partition, no endpoint, unknown host). */
  datagramsDropped: number;
  /** Stream bytes delivered. */
  streamBytesDelivered: number;
}

/**
 * An invariant or final check with its name.
 *
 * @since 2.0.0
 */
export interface NamedCheck {
  /** Shown in the failure. */
  readonly name: string;
  /** The check. */
  readonly check: InvariantCheck;
}

/**
 * Builds the runtime for one incarnation of a node (injected into the kernel
 * to avoid an import cycle).
 *
 * @since 2.0.0
 */
export type RuntimeFactory = (
  kernel: SimKernel,
  node: SimNodeState,
  incarnation: number,
) => Runtime;

/**
 * The event loop and world state of one simulation.
 *
 * @since 2.0.0
 */
export class SimKernel {
  /** Resolved options. */
  readonly options: ResolvedSimulationOptions;
  /** The trace. */
  readonly trace: SimTrace;
  /** Nodes by index. */
  readonly nodes: SimNodeState[] = [];
  /** Node ids by index (the trace reads it). */
  readonly nodeIds: string[] = [];
  /** Nodes by id. */
  readonly byId = new Map<string, SimNodeState>();
  /** Nodes by host. */
  readonly hosts = new Map<string, SimNodeState>();
  /** The network's random stream (latency, loss, ...). */
  readonly netRandom: SeededRandom;
  /** The root random stream. */
  readonly random: SeededRandom;
  /** Invariants, checked after every event. */
  readonly invariants: NamedCheck[] = [];
  /** Counters. */
  readonly stats: SimulationStats = {
    events: 0,
    datagramsSent: 0,
    datagramsDelivered: 0,
    datagramsDropped: 0,
    streamBytesDelivered: 0,
  };
  /** Virtual time (ms). */
  now = 0;
  /** The failure that stopped the run, if any. */
  failure: SimulationFailure | undefined;
  readonly #queue = new EventQueue();
  #seq = 0;
  #capacity = 0;
  #blocked = new Int32Array(0);
  #blockedSince = new Float64Array(0);
  #links: (LinkModel | undefined)[] = [];
  readonly #createRuntime: RuntimeFactory;
  #running = false;

  /**
   * @param options - Resolved options.
   * @param createRuntime - Builds a runtime for a node incarnation.
   */
  constructor(options: ResolvedSimulationOptions, createRuntime: RuntimeFactory) {
    this.options = options;
    this.#createRuntime = createRuntime;
    this.random = createSeededRandom(options.seed);
    this.netRandom = this.random.fork('network');
    this.trace = new SimTrace(options.traceCapacity, this.nodeIds);
  }

  /** Queued events (cancelled ones included). */
  get pendingEvents(): number {
    return this.#queue.size;
  }

  // ---- scheduling ----------------------------------------------------------

  /**
   * Schedules work at an absolute virtual time (clamped to now).
   *
   * @param time - Virtual time (ms).
   * @param node - Owning node index, or `-1`.
   * @param incarnation - Owning incarnation, or `-1` to survive restarts.
   * @param action - The work.
   * @param timer - A program timer (`Clock.setTimer`): on resume from a pause it
   *   runs before held I/O. Default `false` (I/O or kernel work).
   * @returns The event (for cancelling).
   */
  at(time: number, node: number, incarnation: number, action: () => void, timer = false): SimEvent {
    const event = new SimEvent(
      time > this.now ? time : this.now,
      this.#seq++,
      node,
      incarnation,
      action,
      timer,
    );
    this.#queue.push(event);
    if (this.#queue.size > this.options.maxPendingEvents && this.failure === undefined) {
      this.fail('error', `more than ${this.options.maxPendingEvents} pending events`);
    }
    return event;
  }

  /**
   * Cancels a scheduled event.
   *
   * @param event - The event.
   */
  cancel(event: SimEvent): void {
    this.#queue.cancel(event);
  }

  // ---- failures ------------------------------------------------------------

  /**
   * Stops the run with a failure (the first one wins).
   *
   * @param kind - Failure kind.
   * @param message - What went wrong.
   * @param extra - Invariant name or node id.
   * @param extra.invariant - The invariant's name.
   * @param extra.nodeId - The node whose program threw.
   */
  fail(
    kind: SimulationFailure['kind'],
    message: string,
    extra: { invariant?: string; nodeId?: string } = {},
  ): void {
    if (this.failure !== undefined) return;
    this.failure = Object.freeze({
      seed: this.options.seed,
      timeMs: this.now,
      kind,
      ...(extra.invariant === undefined ? {} : { invariant: extra.invariant }),
      ...(extra.nodeId === undefined ? {} : { nodeId: extra.nodeId }),
      message,
      events: this.stats.events,
    });
    this.trace.record(this.now, 'failure', -1, 0, -1, 0, 0, message.slice(0, 200));
  }

  /**
   * A program callback threw or rejected: the run fails.
   *
   * @param node - The node.
   * @param error - What was thrown.
   */
  programError(node: SimNodeState, error: unknown): void {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.fail('error', `node ${node.id} threw: ${message}`, { nodeId: node.id });
  }

  // ---- nodes -----------------------------------------------------------------

  /**
   * Adds a node (not yet started).
   *
   * @param id - Unique id.
   * @param host - Unique host.
   * @param program - What it runs.
   * @returns The node.
   */
  addNode(id: string, host: string, program: NodeProgram): SimNodeState {
    if (this.nodes.length >= this.options.maxNodes) {
      throw new DistributedError('CAPACITY_EXCEEDED', `at most ${this.options.maxNodes} nodes`);
    }
    const index = this.nodes.length;
    const node = new SimNodeState(id, index, host, program, this.random.fork(`node:${id}`));
    this.nodes.push(node);
    this.nodeIds.push(id);
    this.hosts.set(host, node);
    this.byId.set(id, node);
    this.#ensureCapacity(this.nodes.length);
    return node;
  }

  /**
   * Starts (or restarts, after a crash) a node now: a fresh runtime over its
   * surviving storage, and its program called.
   *
   * @param node - The node.
   */
  start(node: SimNodeState): void {
    if (node.alive) this.crash(node);
    node.incarnation += 1;
    node.alive = true;
    node.paused = false;
    const incarnation = node.incarnation;
    const runtime = this.#createRuntime(this, node, incarnation);
    node.runtime = runtime;
    this.trace.record(this.now, 'start', node.index, 0, -1, 0, 0, `incarnation ${incarnation}`);
    this.at(this.now, node.index, incarnation, () => {
      try {
        const result = node.program(runtime);
        if (result instanceof Promise) {
          result.catch((error: unknown) => {
            if (node.incarnation === incarnation) this.programError(node, error);
          });
        }
      } catch (error) {
        this.programError(node, error);
      }
    });
  }

  /**
   * Crashes a node: its timers, sockets and unsynced writes are gone; the
   * other ends of its streams are reset.
   *
   * @param node - The node.
   */
  crash(node: SimNodeState): void {
    if (!node.alive) return;
    node.alive = false;
    node.incarnation += 1;
    node.runtime = undefined;
    this.trace.record(this.now, 'crash', node.index, 0, -1, 0, 0, '');
    node.datagramPorts.clear();
    node.listeners.clear();
    const connections = [...node.connections];
    node.connections.clear();
    for (const connection of connections) connection.crashLocal();
    for (const store of node.stores.values()) store.crash();
    // Deliveries held while paused still arrive (to nothing); its own work is gone.
    node.paused = false;
    this.#releaseDeferred(node);
  }

  /**
   * Pauses a node (a GC stall, a stopped VM): its timers and deliveries wait
   * until it resumes. Its clock keeps running, and bytes it already wrote keep
   * flowing; peers see only silence.
   *
   * @param node - The node.
   */
  pause(node: SimNodeState): void {
    if (node.paused || !node.alive) return;
    node.paused = true;
    this.trace.record(this.now, 'pause', node.index, 0, -1, 0, 0, '');
  }

  /**
   * Resumes a paused node the way a stalled Node.js process wakes: first every
   * held timer that expired during the pause (the event loop's timers phase),
   * then every held delivery and other I/O completion (the poll phase), each
   * group in its original order, all at the resume time. So a timeout that
   * expired during the stall fires before the reply that arrived in time,
   * as it does after a real GC pause. Work the held events schedule for "now"
   * (a 0 ms timer, a send) runs after all of them.
   *
   * @param node - The node.
   */
  resume(node: SimNodeState): void {
    if (!node.paused) return;
    node.paused = false;
    this.trace.record(this.now, 'resume', node.index, 0, -1, 0, 0, `${node.deferred.length} held`);
    this.#releaseDeferred(node);
  }

  /** Requeues held events at now: timers first, then I/O, each in held order. */
  #releaseDeferred(node: SimNodeState): void {
    const held = node.deferred;
    node.deferred = [];
    for (const event of held) if (event.timer) this.#requeue(event);
    for (const event of held) if (!event.timer) this.#requeue(event);
  }

  #requeue(event: SimEvent): void {
    event.time = this.now;
    event.seq = this.#seq++;
    this.#queue.push(event);
  }

  /**
   * Changes a node's clock drift from now on.
   *
   * @param node - The node.
   * @param driftPpm - Parts per million; must keep the rate positive.
   */
  setDrift(node: SimNodeState, driftPpm: number): void {
    if (!Number.isFinite(driftPpm) || driftPpm <= -1_000_000) {
      throw new DistributedError('INVALID_ARGUMENT', 'driftPpm must be finite and > -1e6');
    }
    node.localBase = this.localTime(node);
    node.globalBase = this.now;
    node.driftPpm = driftPpm;
    node.rate = 1 + driftPpm / 1_000_000;
    this.trace.record(this.now, 'clock', node.index, 0, -1, 0, 0, `drift ${driftPpm}ppm`);
  }

  /**
   * A node's monotonic time (ms since the simulation began, at its rate).
   *
   * @param node - The node.
   * @returns Local ms.
   */
  localTime(node: SimNodeState): number {
    return node.localBase + (this.now - node.globalBase) * node.rate;
  }

  // ---- links and partitions --------------------------------------------------

  #ensureCapacity(count: number): void {
    if (count <= this.#capacity) return;
    const old = this.#capacity;
    const capacity = Math.max(16, old * 2, count);
    const blocked = new Int32Array(capacity * capacity);
    const since = new Float64Array(capacity * capacity);
    const links = new Array<LinkModel | undefined>(capacity * capacity).fill(undefined);
    for (let a = 0; a < old; a++) {
      for (let b = 0; b < old; b++) {
        blocked[a * capacity + b] = this.#blocked[a * old + b] ?? 0;
        since[a * capacity + b] = this.#blockedSince[a * old + b] ?? 0;
        links[a * capacity + b] = this.#links[a * old + b];
      }
    }
    this.#capacity = capacity;
    this.#blocked = blocked;
    this.#blockedSince = since;
    this.#links = links;
  }

  /**
   * The model of the directed link `from → to`.
   *
   * @param from - Sender index.
   * @param to - Receiver index.
   * @returns The override, or the default.
   */
  link(from: number, to: number): LinkModel {
    return this.#links[from * this.#capacity + to] ?? this.options.network;
  }

  /**
   * Overrides the model of one directed link.
   *
   * @param from - Sender index.
   * @param to - Receiver index.
   * @param model - The model, or `undefined` for the default.
   */
  setLink(from: number, to: number, model: LinkModel | undefined): void {
    this.#links[from * this.#capacity + to] = model;
  }

  /**
   * Whether traffic `from → to` is blocked by a partition now.
   *
   * @param from - Sender index.
   * @param to - Receiver index.
   * @returns True when blocked.
   */
  blocked(from: number, to: number): boolean {
    return (this.#blocked[from * this.#capacity + to] ?? 0) > 0;
  }

  /**
   * Since when `from → to` has been blocked without interruption.
   *
   * @param from - Sender index.
   * @param to - Receiver index.
   * @returns Virtual ms, or `undefined` when not blocked.
   */
  blockedSince(from: number, to: number): number | undefined {
    const i = from * this.#capacity + to;
    return (this.#blocked[i] ?? 0) > 0 ? this.#blockedSince[i] : undefined;
  }

  /**
   * Adds (`+1`) or removes (`-1`) one partition rule's block on `from → to`.
   *
   * @param from - Sender index.
   * @param to - Receiver index.
   * @param delta - `+1` or `-1`.
   */
  adjustBlock(from: number, to: number, delta: 1 | -1): void {
    if (from === to) return;
    const i = from * this.#capacity + to;
    const before = this.#blocked[i] ?? 0;
    const after = Math.max(0, before + delta);
    this.#blocked[i] = after;
    if (before === 0 && after > 0) {
      this.#blockedSince[i] = this.now;
      const node = this.nodes[from];
      if (node !== undefined) {
        for (const connection of node.connections) {
          if (connection.peerNode === to) connection.watchPartition();
        }
      }
    }
  }

  // ---- the loop --------------------------------------------------------------

  /**
   * Runs events until virtual time passes `untilTime`, the predicate holds, or
   * the run fails. After each event the loop yields one macrotask turn
   * (`setImmediate`), which drains every microtask the event started: promise
   * continuations of the drivers run at the event's virtual time and before
   * the next event, exactly as on a real event loop. The yield costs about
   * 1.2 µs (measured: 1e6 `await new Promise(setImmediate)` in 1.24 s on the
   * two-core dev box); a whole event averages 3–6 µs in the 100-node gossip
   * benchmark. Only this process's own microtasks run in between (there are
   * no real timers or sockets), so the interleaving is a function of the seed.
   *
   * @param untilTime - Virtual time bound (inclusive).
   * @param predicate - Checked after every event; stops the run when true.
   * @returns Whether the predicate became true.
   */
  async run(untilTime: number, predicate?: () => boolean): Promise<boolean> {
    if (this.#running) {
      throw new DistributedError('INVALID_ARGUMENT', 'the simulation is already running');
    }
    this.#running = true;
    try {
      if (predicate?.() === true) return true;
      const queue = this.#queue;
      const nodes = this.nodes;
      while (this.failure === undefined) {
        const event = queue.peek();
        if (event === undefined || event.time > untilTime) break;
        queue.pop();
        const action = event.action;
        if (action === null) continue;
        if (event.node >= 0) {
          const node = nodes[event.node] as SimNodeState;
          if (event.incarnation >= 0 && event.incarnation !== node.incarnation) continue;
          if (node.paused) {
            node.deferred.push(event);
            continue;
          }
        }
        this.now = event.time;
        event.action = null;
        this.stats.events += 1;
        try {
          action();
        } catch (error) {
          const owner = event.node >= 0 ? nodes[event.node] : undefined;
          if (owner === undefined) throw error;
          this.programError(owner, error);
        }
        await new Promise<void>(setImmediateResolve);
        if (this.#failed()) break;
        this.#checkInvariants();
        if (predicate?.() === true) return true;
      }
      if (this.failure === undefined && untilTime > this.now && Number.isFinite(untilTime)) {
        this.now = untilTime;
      }
      return false;
    } finally {
      this.#running = false;
    }
  }

  /** Re-reads the failure (the compiler narrows the field across the `await`). */
  #failed(): boolean {
    return this.failure !== undefined;
  }

  #checkInvariants(): void {
    for (const invariant of this.invariants) {
      let outcome: boolean | string | undefined;
      try {
        outcome = invariant.check();
      } catch (error) {
        outcome = error instanceof Error ? error.message : String(error);
      }
      if (outcome === false || typeof outcome === 'string') {
        this.fail('invariant', outcome === false ? 'returned false' : outcome, {
          invariant: invariant.name,
        });
        return;
      }
    }
  }
}

function setImmediateResolve(resolve: () => void): void {
  setImmediate(resolve);
}
