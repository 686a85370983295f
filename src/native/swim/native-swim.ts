/**
 * The SWIM + Lifeguard failure detector and membership driver: the pure
 * {@link SwimNode} bound to a {@link Runtime} (its monotonic clock arms one
 * timer at the machine's next deadline, its random source shuffles and picks)
 * over a {@link GossipTransport}.
 *
 * @packageDocumentation
 */

import type { CallOptions, Listener, Unsubscribe } from '../../contracts/common.js';
import { DistributedError } from '../../contracts/errors.js';
import { EventHub } from '../../core/events.js';
import { resolveSwimConfig, type SwimConfig, type SwimProfile } from '../../core/swim/config.js';
import type { SwimMember } from '../../core/swim/member-table.js';
import type { SwimAddress } from '../../core/swim/messages.js';
import {
  isSwimFallbackPing,
  SwimNode,
  type SwimEvent,
  type SwimFallbackPing,
  type SwimReady,
  type SwimSend,
  type SwimStats,
} from '../../core/swim/swim-node.js';
import type { WireRejectReason } from '../../core/wire/wire-error.js';
import type { NetworkAddress, Runtime, Timer } from '../../runtime/runtime.js';
import type { GossipTransport } from '../gossip/gossip-transport.js';
import type { SwimFallbackChannel } from './swim-stream-channel.js';
import { addressPeerId } from './swim-transport.js';

/**
 * Options of {@link NativeSwim}.
 *
 * @since 2.0.0
 */
export interface NativeSwimOptions {
  /** This member's id. Default the runtime's node id. */
  readonly nodeId?: string;
  /** The address other members reach this one at (host and the transport's port). */
  readonly advertise: NetworkAddress;
  /** This member's metadata (at most `maxMetaBytes` bytes). Default none. */
  readonly meta?: Readonly<Record<string, string>>;
  /** The profile the tunables start from. Default `'lan'`. */
  readonly profile?: SwimProfile;
  /** Tunables that differ from the profile (see `SwimConfig`). */
  readonly config?: Partial<SwimConfig>;
  /**
   * The transport peer id of a destination. Default `host:port` (what
   * `addressDatagramTransport` expects); a transport keyed by node id would map
   * `nodeId` (absent only for seed addresses).
   */
  readonly peerIdFor?: (to: SwimAddress, nodeId: string | undefined) => string;
  /** How long {@link NativeSwim.join} waits for a seed to answer. Default 30 000 ms. */
  readonly joinTimeoutMs?: number;
  /**
   * How long {@link NativeSwim.leave} keeps gossiping after the leave message
   * first went out, so it spreads before this member stops. Default three gossip intervals.
   */
  readonly leaveGraceMs?: number;
  /** Receives errors listeners throw. Default: printed to standard error. */
  readonly onListenerError?: (error: unknown) => void;
  /** Told about every packet the decoder refused (also counted in `stats.rejected`). */
  readonly onRejectedPacket?: (fromPeerId: string, reason: WireRejectReason) => void;
  /**
   * The reliable channel for the fallback ping (memberlist's TCP ping), e.g.
   * `addressStreamChannel(runtime, { port })` on the transport's port. Without
   * one the fallback ping is off (`config.fallbackPing` reads `false`): over a
   * transport that is itself a stream (the P2P network) it would add nothing.
   */
  readonly fallbackChannel?: SwimFallbackChannel;
}

/**
 * SWIM membership on one node: probes members, detects failures, gossips
 * membership, and tells listeners. It runs from construction; call
 * {@link NativeSwim.join} with seed addresses to join a cluster, or nothing to
 * be the first member.
 *
 * @since 2.0.0
 */
export class NativeSwim implements Disposable {
  /** This member's id. */
  readonly nodeId: string;
  /** The tunables in force. */
  readonly config: SwimConfig;
  readonly #runtime: Runtime;
  readonly #transport: GossipTransport;
  readonly #node: SwimNode;
  readonly #events: EventHub<SwimEvent>;
  readonly #peerIdFor: (to: SwimAddress, nodeId: string | undefined) => string;
  readonly #onRejected: ((fromPeerId: string, reason: WireRejectReason) => void) | undefined;
  readonly #offReceive: Unsubscribe;
  readonly #joinTimeoutMs: number;
  readonly #leaveGraceMs: number;
  readonly #joinWaiters = new Set<() => void>();
  readonly #fallbackChannel: SwimFallbackChannel | undefined;
  readonly #offServe: Unsubscribe | undefined;
  /** Fallback exchanges in flight (at most about two: one probe at a time, each ending by its period). */
  readonly #fallbacks = new Set<AbortController>();
  #timer: Timer | undefined;
  #armedAt = Number.POSITIVE_INFINITY;
  #closed = false;

  /**
   * Starts the protocol at once (the first probe within one probe interval).
   *
   * @param runtime - Clock, timers and random source.
   * @param transport - The channel to other members.
   * @param options - Identity, address and tunables.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for bad options.
   */
  constructor(runtime: Runtime, transport: GossipTransport, options: NativeSwimOptions) {
    const config = resolveSwimConfig(options.config, options.profile);
    const maxPacketBytes = Math.min(config.maxPacketBytes, transport.maxBatchBytes ?? Infinity);
    // No channel, no fallback ping: the config says so rather than counting pings never sent.
    const fallbackPing = config.fallbackPing && options.fallbackChannel !== undefined;
    this.config =
      maxPacketBytes === config.maxPacketBytes && fallbackPing === config.fallbackPing
        ? config
        : resolveSwimConfig({ ...config, maxPacketBytes, fallbackPing }, options.profile);
    const joinTimeoutMs = options.joinTimeoutMs ?? 30_000;
    const leaveGraceMs = options.leaveGraceMs ?? 3 * this.config.gossipIntervalMs;
    for (const [name, value] of [
      ['joinTimeoutMs', joinTimeoutMs],
      ['leaveGraceMs', leaveGraceMs],
    ] as const) {
      if (!Number.isFinite(value) || value < 0) {
        throw new DistributedError('INVALID_ARGUMENT', `${name} must be a finite duration >= 0`);
      }
    }
    this.#joinTimeoutMs = joinTimeoutMs;
    this.#leaveGraceMs = leaveGraceMs;
    this.nodeId = options.nodeId ?? runtime.nodeId;
    this.#runtime = runtime;
    this.#transport = transport;
    this.#peerIdFor = options.peerIdFor ?? ((to) => addressPeerId(to));
    this.#onRejected = options.onRejectedPacket;
    this.#events = new EventHub(
      options.onListenerError ??
        ((error: unknown) => {
          console.error('a SWIM listener threw:', error);
        }),
    );
    this.#node = new SwimNode({
      self: { nodeId: this.nodeId, host: options.advertise.host, port: options.advertise.port },
      config: this.config,
      random: runtime.random,
      ...(options.meta === undefined ? {} : { meta: options.meta }),
    });
    this.#offReceive = transport.onReceive((fromPeerId, bytes) => {
      this.#receive(fromPeerId, bytes);
    });
    this.#fallbackChannel = options.fallbackChannel;
    // Answered whether or not this member's own fallback ping is on: others may have theirs on.
    this.#offServe = options.fallbackChannel?.serve((request, from) => {
      if (this.#closed) return undefined;
      const answer = this.#node.answerFallbackPing(this.#now(), request);
      if (answer.rejected !== undefined) this.#onRejected?.(addressPeerId(from), answer.rejected);
      return answer.reply;
    });
    this.#apply(this.#node.start(this.#now()));
  }

  /** Counters of the state machine (packets by kind, probes, refutations, rejections). */
  get stats(): Readonly<SwimStats> {
    return this.#node.stats;
  }

  /** Lifeguard's local health score (0 is healthy). */
  get healthScore(): number {
    return this.#node.healthScore;
  }

  /** This member's incarnation number. */
  get incarnation(): number {
    return this.#node.incarnation;
  }

  /** Whether this member has joined (or needed no join). */
  get joined(): boolean {
    return this.#node.joined;
  }

  /** Whether the driver was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Every member known, this one included.
   *
   * @returns Frozen snapshots with status and incarnation.
   */
  members(): SwimMember[] {
    return this.#node.members();
  }

  /**
   * One member.
   *
   * @param nodeId - The id.
   * @returns The snapshot, or `undefined` when unknown.
   */
  member(nodeId: string): SwimMember | undefined {
    return this.#node.member(nodeId);
  }

  /**
   * Subscribes to membership events (joined, alive, suspect, dead, left, updated, reaped).
   *
   * @param listener - Called with every event, on the runtime's event loop.
   * @returns A disposer.
   */
  onMembershipEvent(listener: Listener<SwimEvent>): Unsubscribe {
    return this.#events.subscribe(listener);
  }

  /**
   * Joins a cluster through seed addresses; resolves once one answers with its
   * full state. With no seed other than this member, resolves at once.
   *
   * @param seeds - Addresses of current members.
   * @param options - Cancellation.
   * @throws A {@link DistributedError}: `CLOSED` after close; `UNAVAILABLE` when
   *   no seed answered within `joinTimeoutMs`; the signal's reason when aborted.
   */
  async join(seeds: readonly NetworkAddress[], options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    if (this.#closed) throw new DistributedError('CLOSED', 'SWIM membership is closed');
    this.#apply(this.#node.join(this.#now(), seeds));
    if (this.#node.joined) return;
    await new Promise<void>((resolve, reject) => {
      const signal = options?.signal;
      const finish = (error?: unknown): void => {
        timer.cancel();
        this.#joinWaiters.delete(onJoined);
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error instanceof Error ? error : new Error('join aborted', { cause: error }));
      };
      const onJoined = (): void => {
        finish();
      };
      const onAbort = (): void => {
        finish(signal?.reason);
      };
      const timer = this.#runtime.clock.setTimer(this.#joinTimeoutMs, () => {
        finish(
          new DistributedError(
            'UNAVAILABLE',
            `no seed answered within ${this.#joinTimeoutMs} ms (${seeds.map(addressPeerId).join(', ')})`,
          ),
        );
      });
      this.#joinWaiters.add(onJoined);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Leaves gracefully: gossips the leave, waits until it has gone out and
   * `leaveGraceMs` more, then closes. Harmless twice.
   *
   * @param options - Cancellation (closes at once when aborted).
   */
  async leave(options?: CallOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    if (this.#closed) return;
    this.#apply(this.#node.leave(this.#now()));
    await new Promise<void>((resolve) => {
      const signal = options?.signal;
      const state: { timer?: Timer } = {};
      const done = (): void => {
        state.timer?.cancel();
        signal?.removeEventListener('abort', done);
        this.close();
        resolve();
      };
      signal?.addEventListener('abort', done, { once: true });
      // The leave went out with the first gossip round (or piggybacks on the next answer).
      state.timer = this.#runtime.clock.setTimer(
        this.#leaveGraceMs + (this.#node.leaveSent ? 0 : this.config.gossipIntervalMs),
        done,
      );
    });
  }

  /** Stops: cancels the timer and stops receiving. Does not tell others (see {@link NativeSwim.leave}). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#offReceive();
    this.#offServe?.();
    for (const controller of [...this.#fallbacks]) {
      controller.abort(new DistributedError('CLOSED', 'SWIM membership is closed'));
    }
    this.#fallbacks.clear();
    this.#joinWaiters.clear();
  }

  /** Same as {@link NativeSwim.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #now(): number {
    return this.#runtime.clock.monotonic();
  }

  #receive(fromPeerId: string, bytes: Uint8Array): void {
    if (this.#closed) return;
    const ready = this.#node.receive(this.#now(), bytes);
    if (ready.rejected !== undefined) this.#onRejected?.(fromPeerId, ready.rejected);
    this.#apply(ready);
  }

  #tick(): void {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    if (this.#closed) return;
    this.#apply(this.#node.tick(this.#now()));
  }

  #apply(ready: SwimReady): void {
    for (const send of ready.sends) this.#send(send);
    for (const event of ready.events) this.#events.emit(event);
    if (this.#node.joined && this.#joinWaiters.size > 0) {
      for (const waiter of [...this.#joinWaiters]) waiter();
    }
    this.#arm();
  }

  #send(send: SwimSend): void {
    if (isSwimFallbackPing(send)) {
      this.#sendFallback(send);
      return;
    }
    this.#transport.send(this.#peerIdFor(send.to, send.nodeId), send.bytes);
  }

  /**
   * Runs one fallback exchange and gives the machine exactly one result: the
   * reply, or nothing when the channel failed or the deadline (the probe's
   * period end) passed first.
   */
  #sendFallback(send: SwimFallbackPing): void {
    const channel = this.#fallbackChannel;
    const controller = new AbortController();
    let settled = false;
    const settle = (reply: Uint8Array | undefined): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      this.#fallbacks.delete(controller);
      if (this.#closed) return;
      this.#apply(this.#node.fallbackResult(this.#now(), send.seq, reply));
    };
    // Without a channel the config has the fallback off, so this is defensive: fail it on a
    // later turn (never inside the #apply that produced it).
    const timer = this.#runtime.clock.setTimer(
      channel === undefined ? 0 : Math.max(0, send.deadline - this.#now()),
      () => {
        controller.abort(new DistributedError('UNAVAILABLE', 'fallback ping: no answer in time'));
        settle(undefined);
      },
    );
    if (channel === undefined) return;
    this.#fallbacks.add(controller);
    channel.request(send.to, send.nodeId, send.bytes, { signal: controller.signal }).then(
      (reply) => {
        settle(reply);
      },
      () => {
        settle(undefined);
      },
    );
  }

  /** Keeps one timer at the machine's next deadline (an earlier one is kept: a spare tick is harmless). */
  #arm(): void {
    if (this.#closed) return;
    const deadline = this.#node.nextDeadline();
    if (deadline >= this.#armedAt) return;
    this.#timer?.cancel();
    this.#armedAt = deadline;
    if (!Number.isFinite(deadline)) {
      this.#timer = undefined;
      return;
    }
    this.#timer = this.#runtime.clock.setTimer(Math.max(0, deadline - this.#now()), () => {
      this.#tick();
    });
  }
}
