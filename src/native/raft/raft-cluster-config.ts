/**
 * The {@link ClusterConfigStore} of a native cluster: the configuration map a
 * {@link NativeRaftNode} replicates, seen through the contract.
 *
 * @packageDocumentation
 */

import type {
  ClusterConfigStore,
  CompareAndSetResult,
  ConfigChange,
  ConfigEntry,
  ConfigExpectation,
} from '../../contracts/cluster-config.js';
import type { CallOptions, Listener, Unsubscribe } from '../../contracts/common.js';
import { DistributedError } from '../../contracts/errors.js';
import {
  checkConfigExpectation,
  checkConfigKey,
  checkConfigValue,
} from '../../core/config/config-arguments.js';
import { createUnsubscribe, EventHub } from '../../core/events.js';
import {
  DEFAULT_CONFIG_LIMITS,
  encodeConfigCommand,
  type ConfigCommand,
  type ConfigLimits,
  type ConfigRecord,
  type ConfigResult,
  type ConfigValue,
} from '../../core/raft/config-state-machine.js';
import { WireError } from '../../core/wire/wire-error.js';
import type { Clock, Timer } from '../../runtime/runtime.js';
import type { GossipTransport } from '../gossip/gossip-transport.js';
import type { NativeRaftNode, RaftAppliedEntry } from './native-raft-node.js';
import { RaftError } from './raft-error.js';
import {
  decodeForwardMessage,
  encodeForwardFailure,
  encodeForwardOutcome,
  encodeForwardRequest,
  isForwardMessage,
  type ForwardMessage,
  type ForwardOutcome,
} from './raft-forward-codec.js';

/**
 * Options of {@link RaftClusterConfig}.
 *
 * @since 2.0.0
 */
export interface RaftClusterConfigOptions {
  /**
   * The transport the Raft node uses. When given, a write on a follower is
   * forwarded to the leader over it (and this member serves writes other
   * members forward to it); without it, a write on a follower fails with
   * `NOT_LEADER` carrying the leader's id. Default none.
   */
  readonly transport?: GossipTransport;
  /** Arms the forwarding timeouts; required with `transport`. */
  readonly clock?: Clock;
  /**
   * How long a forwarded write waits for the leader's reply before failing
   * with `UNAVAILABLE` (outcome unknown: it may still apply). Default 10 000 ms.
   */
  readonly forwardTimeoutMs?: number;
  /** Forwarded writes waiting for a reply here at once; beyond: `CAPACITY_EXCEEDED`. Default 256. */
  readonly maxPendingForwards?: number;
  /** Writes forwarded by other members served here at once; beyond, refused (`overloaded`). Default 256. */
  readonly maxServedForwards?: number;
  /** Bounds of keys and values: must equal the Raft node's `configLimits`. Default {@link DEFAULT_CONFIG_LIMITS}. */
  readonly configLimits?: ConfigLimits;
  /** Receives errors thrown by change listeners. Default: printed to standard error. */
  readonly onListenerError?: (error: unknown) => void;
}

/**
 * Counters of a {@link RaftClusterConfig}.
 *
 * @since 2.0.0
 */
export interface RaftClusterConfigStats {
  /** Writes this member forwarded to the leader. */
  readonly forwarded: number;
  /** Forwarded writes this member served (as leader or not). */
  readonly served: number;
  /** Forward messages ignored: malformed, from a non-member, or an unexpected reply. */
  readonly ignored: number;
}

interface PendingForward {
  readonly to: string;
  readonly resolve: (outcome: ForwardOutcome) => void;
  readonly reject: (error: unknown) => void;
  readonly cleanup: () => void;
}

const lenientUtf8 = new TextDecoder();

function toText(value: ConfigValue): string {
  // Keys written as bytes through the Raft node directly are shown as (lenient) UTF-8 text.
  return typeof value === 'string' ? value : lenientUtf8.decode(value);
}

function toEntry(record: ConfigRecord): ConfigEntry {
  return Object.freeze({ key: record.key, value: toText(record.value), revision: record.revision });
}

function toOutcome(result: ConfigResult): ForwardOutcome {
  return {
    ok: result.ok,
    revision: result.revision,
    existed: result.previous !== undefined,
    ...(result.current === undefined ? {} : { current: toEntry(result.current) }),
    ...(result.error === undefined ? {} : { failure: result.error }),
  };
}

function invalid(message: string): DistributedError {
  return new DistributedError('INVALID_ARGUMENT', message);
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw invalid(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/**
 * A {@link ClusterConfigStore} on a {@link NativeRaftNode}.
 *
 * - Revisions are log indexes: a key's revision is the index of the entry
 *   that last wrote it, so revisions grow across the cluster's history and
 *   are the same on every member.
 * - `get` and `list` are linearizable (read-index), on any member.
 * - Writes go through the Raft log. On a follower they are forwarded to the
 *   leader when a `transport` is given (one attempt, bounded and timed; see
 *   {@link RaftClusterConfigOptions}), otherwise refused with `NOT_LEADER`
 *   and the leader's id. A write that fails with `UNAVAILABLE` may still have
 *   applied: read before retrying a compare-and-set.
 * - Watchers hear every applied put and delete in log order, on every member
 *   alike (again after a restart replays the log).
 *
 * @since 2.0.0
 */
export class RaftClusterConfig implements ClusterConfigStore, Disposable {
  readonly #raft: NativeRaftNode;
  readonly #transport: GossipTransport | undefined;
  readonly #clock: Clock | undefined;
  readonly #limits: ConfigLimits;
  readonly #forwardTimeoutMs: number;
  readonly #maxPendingForwards: number;
  readonly #maxServedForwards: number;
  readonly #changes: EventHub<ConfigChange>;
  readonly #pending = new Map<number, PendingForward>();
  readonly #offReceive: Unsubscribe | undefined;
  #offApplied: Unsubscribe | undefined;
  #nextId = 0;
  #serving = 0;
  #forwarded = 0;
  #served = 0;
  #ignored = 0;
  #closed = false;

  /**
   * @param raft - The Raft member (its owner closes it).
   * @param options - Forwarding, bounds, listener errors.
   * @throws DistributedError `INVALID_ARGUMENT` for bad options.
   */
  constructor(raft: NativeRaftNode, options: RaftClusterConfigOptions = {}) {
    this.#raft = raft;
    this.#transport = options.transport;
    this.#clock = options.clock;
    if (this.#transport !== undefined && this.#clock === undefined) {
      throw invalid('forwarding over a transport needs a clock');
    }
    this.#limits = options.configLimits ?? DEFAULT_CONFIG_LIMITS;
    this.#forwardTimeoutMs = positiveInteger(
      'forwardTimeoutMs',
      options.forwardTimeoutMs ?? 10_000,
    );
    this.#maxPendingForwards = positiveInteger(
      'maxPendingForwards',
      options.maxPendingForwards ?? 256,
    );
    this.#maxServedForwards = positiveInteger(
      'maxServedForwards',
      options.maxServedForwards ?? 256,
    );
    this.#changes = new EventHub(
      options.onListenerError ??
        ((error: unknown) => {
          console.error('a cluster config listener threw:', error);
        }),
    );
    this.#offReceive = this.#transport?.onReceive((fromPeerId, bytes) => {
      if (isForwardMessage(bytes)) this.#receive(fromPeerId, bytes);
    });
  }

  /** Counters. */
  get stats(): Readonly<RaftClusterConfigStats> {
    return Object.freeze({
      forwarded: this.#forwarded,
      served: this.#served,
      ignored: this.#ignored,
    });
  }

  /**
   * Reads one key, linearizably.
   *
   * @param key - The key.
   * @param options - Cancellation.
   * @returns The entry, or `undefined`.
   * @throws DistributedError `INVALID_ARGUMENT`, `UNAVAILABLE` (no leader), `CLOSED`.
   */
  async get(key: string, options?: CallOptions): Promise<ConfigEntry | undefined> {
    options?.signal?.throwIfAborted();
    this.#checkKey(key);
    const record = await this.#raft.read(key, this.#signalOnly(options));
    return record === undefined ? undefined : toEntry(record);
  }

  /**
   * Reads every key under a prefix in key order, linearizably, at one index.
   *
   * @param prefix - The prefix (`''` for all).
   * @param options - Cancellation.
   * @returns The entries.
   */
  async list(prefix: string, options?: CallOptions): Promise<readonly ConfigEntry[]> {
    options?.signal?.throwIfAborted();
    if (typeof prefix !== 'string') throw invalid('prefix must be a string');
    const records = await this.#raft.list(prefix, this.#signalOnly(options));
    return Object.freeze(records.map(toEntry));
  }

  /**
   * Writes one key through the log.
   *
   * @param key - The key.
   * @param value - The value.
   * @param options - Cancellation (the write may still apply; only the wait ends).
   * @returns The entry as written; its revision is the entry's log index.
   * @throws DistributedError `INVALID_ARGUMENT`, `NOT_LEADER`, `UNAVAILABLE`, `CAPACITY_EXCEEDED`, `CLOSED`.
   */
  async put(key: string, value: string, options?: CallOptions): Promise<ConfigEntry> {
    options?.signal?.throwIfAborted();
    this.#checkKey(key);
    this.#checkValue(value);
    const outcome = await this.#write({ op: 'put', key, value }, options);
    if (!outcome.ok || outcome.current === undefined) throw failed(outcome);
    return outcome.current;
  }

  /**
   * Writes one key when it holds the expected revision or value, atomically
   * (`{ revision: 0 }` and `{ value: undefined }` expect it absent).
   *
   * @param key - The key.
   * @param expected - What the key must hold.
   * @param value - The new value.
   * @param options - Cancellation.
   * @returns Whether it applied, and the key after (or as found).
   */
  async compareAndSet(
    key: string,
    expected: ConfigExpectation,
    value: string,
    options?: CallOptions,
  ): Promise<CompareAndSetResult> {
    options?.signal?.throwIfAborted();
    this.#checkKey(key);
    this.#checkValue(value);
    const command = this.#casCommand(key, expected, value);
    const outcome = await this.#write(command, options);
    if (outcome.failure !== undefined) throw failed(outcome);
    return Object.freeze({
      succeeded: outcome.ok,
      ...(outcome.current === undefined ? {} : { current: outcome.current }),
    });
  }

  /**
   * Removes one key through the log.
   *
   * @param key - The key.
   * @param options - Cancellation.
   * @returns Whether the key existed.
   */
  async delete(key: string, options?: CallOptions): Promise<boolean> {
    options?.signal?.throwIfAborted();
    this.#checkKey(key);
    const outcome = await this.#write({ op: 'delete', key }, options);
    if (!outcome.ok) throw failed(outcome);
    return outcome.existed;
  }

  /**
   * Subscribes to puts and deletes as they are applied on this member, in log order.
   *
   * @param listener - Called for every change.
   * @returns A disposer.
   */
  onConfigChanged(listener: Listener<ConfigChange>): Unsubscribe {
    const off = this.#changes.subscribe(listener);
    // The Raft node copies entry data only while someone listens: listen only while we do.
    this.#offApplied ??= this.#raft.onApplied((entry) => {
      this.#applied(entry);
    });
    return createUnsubscribe(() => {
      off();
      if (this.#changes.size === 0) {
        this.#offApplied?.();
        this.#offApplied = undefined;
      }
    });
  }

  /** Stops forwarding and serving; waiting forwarded writes fail with `CLOSED`. The Raft node stays open. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#offReceive?.();
    this.#offApplied?.();
    this.#offApplied = undefined;
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id, new RaftError('closed', 'cluster config closed'));
    }
  }

  /** Same as {@link RaftClusterConfig.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #applied(entry: RaftAppliedEntry): void {
    const result = entry.result;
    if (result === undefined || !result.ok) return;
    let change: ConfigChange | undefined;
    if (result.current !== undefined) {
      change = Object.freeze({
        type: 'put',
        key: result.current.key,
        value: toText(result.current.value),
        revision: result.revision,
      });
    } else if (result.previous !== undefined) {
      change = Object.freeze({
        type: 'delete',
        key: result.previous.key,
        revision: result.revision,
      });
    }
    if (change !== undefined) this.#changes.emit(change);
  }

  #signalOnly(options: CallOptions | undefined): CallOptions | undefined {
    return options?.signal === undefined ? undefined : { signal: options.signal };
  }

  #checkKey(key: unknown): void {
    checkConfigKey(key, this.#limits);
  }

  #checkValue(value: unknown): void {
    checkConfigValue(value, this.#limits);
  }

  #casCommand(key: string, expected: ConfigExpectation, value: string): ConfigCommand {
    checkConfigExpectation(expected, this.#limits);
    if ('revision' in expected) return { op: 'cas', key, expectRevision: expected.revision, value };
    return { op: 'cas', key, expectValue: expected.value ?? null, value };
  }

  // ---------------------------------------------------------------- writes and forwarding

  async #write(command: ConfigCommand, options: CallOptions | undefined): Promise<ForwardOutcome> {
    if (this.#closed) throw new RaftError('closed', 'cluster config closed');
    const leaderId = this.#raft.leaderId;
    // Propose here when leader, or when there is no one to forward to (the node then says why).
    if (this.#transport === undefined || leaderId === '' || leaderId === this.#raft.nodeId) {
      return toOutcome(await this.#raft.propose(command, this.#signalOnly(options)));
    }
    return this.#forward(leaderId, command, options);
  }

  #forward(
    leaderId: string,
    command: ConfigCommand,
    options: CallOptions | undefined,
  ): Promise<ForwardOutcome> {
    const transport = this.#transport;
    const clock = this.#clock;
    if (transport === undefined || clock === undefined) throw new Error('unreachable');
    if (this.#pending.size >= this.#maxPendingForwards) {
      throw new RaftError('overloaded', 'too many forwarded writes waiting', leaderId);
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeConfigCommand(command, this.#limits);
    } catch (error) {
      throw invalid(`bad command: ${String(error)}`);
    }
    this.#nextId = (this.#nextId + 1) % 0x1_0000_0000;
    const id = this.#nextId;
    const message = encodeForwardRequest(id, bytes);
    if (transport.maxBatchBytes !== undefined && message.length > transport.maxBatchBytes) {
      throw invalid(`the write is too large to forward (${message.length} bytes)`);
    }
    const promise = new Promise<ForwardOutcome>((resolve, reject) => {
      const timer: Timer = clock.setTimer(this.#forwardTimeoutMs, () => {
        this.#settle(
          id,
          new RaftError('unknown-outcome', 'no reply from the leader in time', leaderId),
        );
      });
      const signal = options?.signal;
      const onAbort = (): void => {
        this.#settle(id, signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        to: leaderId,
        resolve,
        reject,
        cleanup: () => {
          timer.cancel();
          signal?.removeEventListener('abort', onAbort);
        },
      });
    });
    this.#forwarded++;
    transport.send(leaderId, message);
    return promise;
  }

  #settle(id: number, error: unknown, outcome?: ForwardOutcome): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    pending.cleanup();
    if (outcome !== undefined) pending.resolve(outcome);
    else pending.reject(error);
  }

  #receive(fromPeerId: string, bytes: Uint8Array): void {
    if (this.#closed) return;
    let message: ForwardMessage;
    try {
      message = decodeForwardMessage(bytes, this.#limits);
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
      this.#ignored++;
      return;
    }
    if (message.kind === 'request') {
      this.#serve(fromPeerId, message.id, message.command);
      return;
    }
    const pending = this.#pending.get(message.id);
    if (pending?.to !== fromPeerId) {
      this.#ignored++;
      return;
    }
    if ('outcome' in message) this.#settle(message.id, undefined, message.outcome);
    else {
      const { reason, message: text, leaderId } = message.failure;
      this.#settle(message.id, new RaftError(reason, `at the leader: ${text}`, leaderId));
    }
  }

  #serve(fromPeerId: string, id: number, command: ConfigCommand): void {
    const transport = this.#transport;
    if (transport === undefined) return;
    // Only members may write: an unknown peer on a shared network is ignored.
    const { voters, observers } = this.#raft.membership;
    if (!voters.includes(fromPeerId) && !observers.includes(fromPeerId)) {
      this.#ignored++;
      return;
    }
    if (this.#serving >= this.#maxServedForwards) {
      transport.send(
        fromPeerId,
        encodeForwardFailure(id, {
          reason: 'overloaded',
          message: 'too many forwarded writes',
          leaderId: this.#raft.leaderId,
        }),
      );
      return;
    }
    this.#serving++;
    this.#served++;
    this.#raft.propose(command).then(
      (result) => {
        this.#serving--;
        if (!this.#closed) transport.send(fromPeerId, encodeForwardOutcome(id, toOutcome(result)));
      },
      (error: unknown) => {
        this.#serving--;
        if (this.#closed) return;
        const failure =
          error instanceof RaftError
            ? { reason: error.reason, message: error.message, leaderId: error.leaderId }
            : {
                reason: 'unknown-outcome' as const,
                message: String(error),
                leaderId: this.#raft.leaderId,
              };
        transport.send(fromPeerId, encodeForwardFailure(id, failure));
      },
    );
  }
}

function failed(outcome: ForwardOutcome): DistributedError {
  if (outcome.failure === 'too-many-keys') {
    return new DistributedError('CAPACITY_EXCEEDED', 'the configuration holds too many keys');
  }
  return new DistributedError('INVALID_ARGUMENT', 'the command was refused as malformed');
}
