/**
 * The gossip state machine, in the shape of etcd's raft library: the caller
 * feeds it inputs — a round tick (with the peers and a random source), a batch
 * received from a peer, a request to spread a message — and gets back work to
 * do: batches to send to peers, and messages to deliver to local subscribers.
 * It does no I/O and reads no clock, so the same engine runs on the Node
 * runtime and in the simulator.
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import type { GossipMessage } from '../../contracts/p2p-network.js';
import {
  concatGossipBatch,
  decodeGossipBatch,
  encodeGossipEntry,
  GOSSIP_BATCH_HEADER_BYTES,
  GossipBatchError,
  resolveGossipBatchLimits,
  type GossipBatchLimits,
  type GossipBatchRejectReason,
} from './batch-codec.js';
import { BoundedIdSet, gossipMessageProblem } from './gossip-message.js';
import { retransmitLimit, TransmitLimitedQueue } from './transmit-queue.js';

/**
 * The random choices the engine needs (a subset of the runtime's random source).
 *
 * @since 2.0.0
 */
export interface GossipRandom {
  /**
   * A uniform integer in [0, `maxExclusive`).
   *
   * @param maxExclusive - A positive integer.
   */
  int(maxExclusive: number): number;
}

/**
 * Settings of a {@link GossipEngine}; every bound is named and has a default.
 *
 * @since 2.0.0
 */
export interface GossipEngineOptions {
  /** This node's id; it never sends to itself. */
  readonly nodeId: string;
  /** Peers sent to per round. Default 3 (memberlist's `GossipNodes`). */
  readonly fanout?: number;
  /**
   * Sends per message are `max(minTransmits, retransmitMult · ⌈log10(N + 1)⌉)` for N nodes (see
   * {@link retransmitLimit}). Default 4 (memberlist's `RetransmitMult`).
   */
  readonly retransmitMult?: number;
  /**
   * The fewest sends per message whatever the cluster size (see
   * {@link retransmitLimit}). Default 12: a message then misses some node of a
   * small cluster with probability below about 1 in 10 000 (1% loss included).
   */
  readonly minTransmits?: number;
  /**
   * The most messages in the transmit queue. When full, the message sent the
   * most times is evicted to make room (it has mostly spread already). Default 1 024.
   */
  readonly maxQueuedMessages?: number;
  /**
   * The most message ids remembered for de-duplication; the oldest is
   * forgotten first (a forgotten id that comes back is treated as new). Default 10 000.
   */
  readonly maxSeenIds?: number;
  /**
   * The most messages waiting for local delivery (only grows while nothing
   * takes deliveries, i.e. no subscriber). When full, `spread` rejects with
   * `CAPACITY_EXCEEDED` and received messages are ignored — not remembered as
   * seen and not relayed, so a later copy is accepted once there is room. Default 1 000.
   */
  readonly maxUndelivered?: number;
  /**
   * The most hops a message makes: a node that receives a message after this
   * many relays delivers it but does not relay it. At most 255 (one byte on
   * the wire). Default 32, far above the ~log N depth of an epidemic.
   */
  readonly maxHops?: number;
  /** Wire bounds, including the maximum payload size. Default `DEFAULT_GOSSIP_BATCH_LIMITS` (batch-codec). */
  readonly limits?: GossipBatchLimits;
}

/**
 * A batch to send to one peer.
 *
 * @since 2.0.0
 */
export interface GossipSend {
  /** The peer. */
  readonly peerId: string;
  /** The encoded batch. */
  readonly batch: Uint8Array;
}

/**
 * What a received batch did.
 *
 * @since 2.0.0
 */
export interface GossipReceipt {
  /** Messages new to this node, now queued for delivery and relay. */
  readonly accepted: number;
  /** Messages this node had already seen. */
  readonly duplicates: number;
  /** New messages ignored because the undelivered queue was full. */
  readonly ignored: number;
  /** Why the batch was refused, when it was; nothing changed then. */
  readonly rejected?: GossipBatchRejectReason;
}

/**
 * Counters of a {@link GossipEngine}, since it was made.
 *
 * @since 2.0.0
 */
export interface GossipEngineStats {
  /** Messages accepted through `spread`. */
  spread: number;
  /** Messages new to this node accepted from peers. */
  received: number;
  /** Copies of already-seen messages received. */
  duplicates: number;
  /** New messages ignored because the undelivered queue was full. */
  ignored: number;
  /** Messages evicted from a full transmit queue before their sends ran out. */
  evicted: number;
  /** Batches refused by the decoder. */
  rejectedBatches: number;
  /** Batches produced (rounds and piggyback). */
  batchesOut: number;
  /** Bytes of those batches. */
  bytesOut: number;
}

interface Queued {
  readonly message: GossipMessage;
  readonly hops: number;
  readonly entry: Uint8Array;
  readonly seq: number;
}

const DEFAULTS = {
  fanout: 3,
  retransmitMult: 4,
  minTransmits: 12,
  maxQueuedMessages: 1_024,
  maxSeenIds: 10_000,
  maxUndelivered: 1_000,
  maxHops: 32,
} as const;

/**
 * The infection-style gossip state machine of one node. Every round
 * ({@link GossipEngine.tick}) it sends a batch of queued messages to `fanout`
 * random peers; each message is sent a limited number of times (see
 * {@link retransmitLimit}), messages sent fewer times first. A message new to
 * this node — spread here or received — is queued for relay and for local
 * delivery once; its id is then remembered in a bounded seen-set.
 *
 * @since 2.0.0
 */
export class GossipEngine {
  /** This node's id. */
  readonly nodeId: string;
  /** Peers per round. */
  readonly fanout: number;
  /** The retransmit multiplier. */
  readonly retransmitMult: number;
  /** The fewest sends per message. */
  readonly minTransmits: number;
  /** The most messages waiting for local delivery. */
  readonly maxUndelivered: number;
  /** The most hops a message makes. */
  readonly maxHops: number;
  /** The wire bounds in force. */
  readonly limits: Readonly<Required<GossipBatchLimits>>;
  /** Counters. */
  readonly stats: Readonly<GossipEngineStats>;
  readonly #stats: GossipEngineStats = {
    spread: 0,
    received: 0,
    duplicates: 0,
    ignored: 0,
    evicted: 0,
    rejectedBatches: 0,
    batchesOut: 0,
    bytesOut: 0,
  };
  readonly #queue: TransmitLimitedQueue<Queued>;
  readonly #seen: BoundedIdSet;
  // Insertion order is acceptance order, so delivery follows it.
  readonly #undelivered = new Map<string, Queued>();
  #seq = 0;
  #nodeCount = 1;

  /**
   * @param options - Identity and bounds.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for an empty node id or bad bounds.
   */
  constructor(options: GossipEngineOptions) {
    if (typeof options.nodeId !== 'string' || options.nodeId === '') {
      throw new DistributedError('INVALID_ARGUMENT', 'nodeId must be a non-empty string');
    }
    const settings: Record<keyof typeof DEFAULTS, number> = { ...DEFAULTS };
    for (const name of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
      const value = options[name] ?? DEFAULTS[name];
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new DistributedError(
          'INVALID_ARGUMENT',
          `${name} must be a positive integer, got ${String(value)}`,
        );
      }
      settings[name] = value;
    }
    if (settings.maxHops > 255) {
      throw new DistributedError('INVALID_ARGUMENT', 'maxHops must be at most 255');
    }
    try {
      this.limits = resolveGossipBatchLimits(options.limits);
    } catch (error) {
      throw new DistributedError('INVALID_ARGUMENT', `bad gossip limits: ${String(error)}`);
    }
    this.nodeId = options.nodeId;
    this.fanout = settings.fanout;
    this.retransmitMult = settings.retransmitMult;
    this.minTransmits = settings.minTransmits;
    this.maxUndelivered = settings.maxUndelivered;
    this.maxHops = settings.maxHops;
    this.#queue = new TransmitLimitedQueue({ maxItems: settings.maxQueuedMessages });
    this.#seen = new BoundedIdSet(settings.maxSeenIds);
    this.stats = this.#stats;
  }

  /**
   * Accepts a message originated here (or handed in by the application) for
   * spreading and local delivery. A message whose id was seen does nothing.
   *
   * @param message - The message; copied.
   * @returns `true` when accepted, `false` for an already-seen id.
   * @throws A {@link DistributedError}: `INVALID_ARGUMENT` for a malformed message
   *   or one beyond the size limits; `CAPACITY_EXCEEDED` when
   *   {@link GossipEngine.maxUndelivered} messages already wait for delivery.
   *   Nothing changes when it throws.
   */
  spread(message: GossipMessage): boolean {
    const problem = gossipMessageProblem(message);
    if (problem !== undefined) {
      throw new DistributedError('INVALID_ARGUMENT', `invalid gossip message: ${problem}`);
    }
    const sizeProblem = this.#sizeProblem(message);
    if (sizeProblem !== undefined) throw new DistributedError('INVALID_ARGUMENT', sizeProblem);
    if (this.#isSeen(message.messageId)) return false;
    if (this.#undelivered.size >= this.maxUndelivered) {
      throw new DistributedError(
        'CAPACITY_EXCEEDED',
        `cannot accept gossip '${message.messageId}': ${this.maxUndelivered} messages wait ` +
          'for local delivery (maxUndelivered)',
      );
    }
    this.#accept(copyMessage(message), 0);
    this.#stats.spread += 1;
    return true;
  }

  /**
   * Handles a batch from a peer: new messages are queued for delivery and, within
   * the hop limit, for relay; seen ones are counted. A refused batch changes nothing.
   *
   * @param _fromPeerId - The sender (for the caller's logs; the engine keeps no per-peer state).
   * @param bytes - The untrusted batch.
   * @returns What the batch did.
   */
  receive(_fromPeerId: string, bytes: Uint8Array): GossipReceipt {
    let entries;
    try {
      entries = decodeGossipBatch(bytes, this.limits);
    } catch (error) {
      if (!(error instanceof GossipBatchError)) throw error;
      this.#stats.rejectedBatches += 1;
      return Object.freeze({ accepted: 0, duplicates: 0, ignored: 0, rejected: error.reason });
    }
    let accepted = 0;
    let duplicates = 0;
    let ignored = 0;
    for (const { hops, message } of entries) {
      if (this.#isSeen(message.messageId)) {
        duplicates += 1;
      } else if (this.#undelivered.size >= this.maxUndelivered) {
        ignored += 1;
      } else {
        this.#accept(message, Math.min(hops + 1, 255));
        accepted += 1;
      }
    }
    this.#stats.received += accepted;
    this.#stats.duplicates += duplicates;
    this.#stats.ignored += ignored;
    return Object.freeze({ accepted, duplicates, ignored });
  }

  /**
   * One gossip round: picks up to `fanout` distinct random peers and builds a
   * batch for each from the transmit queue (each counts one send of every
   * message in it). Sends nothing when nothing is queued.
   *
   * @param peers - The peers known now (this node is skipped if listed).
   * @param random - The random source.
   * @returns The batches to send, one per peer; empty when there is nothing to send.
   */
  tick(peers: readonly string[], random: GossipRandom): GossipSend[] {
    const selfListed = peers.includes(this.nodeId);
    const available = peers.length - (selfListed ? 1 : 0);
    this.#nodeCount = available + 1;
    if (this.#queue.size === 0 || available === 0) return [];
    const sends: GossipSend[] = [];
    const targets = pickDistinct(peers, this.fanout, random, selfListed ? this.nodeId : undefined);
    for (const peerId of targets) {
      const batch = this.takeBatch(this.limits.maxBatchBytes);
      if (batch === undefined) break;
      sends.push(Object.freeze({ peerId, batch }));
    }
    return sends;
  }

  /**
   * A batch of queued messages that fits `byteBudget`, for piggybacking on
   * other traffic; counts as one send of each message in it.
   *
   * @param byteBudget - The most bytes the batch may take.
   * @returns The batch, or `undefined` when nothing is queued or nothing fits.
   */
  takeBatch(byteBudget: number): Uint8Array | undefined {
    const budget = Math.min(byteBudget, this.limits.maxBatchBytes) - GOSSIP_BATCH_HEADER_BYTES;
    if (budget <= 0 || this.#queue.size === 0) return undefined;
    const limit = retransmitLimit(this.retransmitMult, this.#nodeCount, this.minTransmits);
    const items = this.#queue.take(budget, limit).slice(0, this.limits.maxEntries);
    if (items.length === 0) return undefined;
    const batch = concatGossipBatch(items.map((item) => item.entry));
    this.#stats.batchesOut += 1;
    this.#stats.bytesOut += batch.length;
    return batch;
  }

  /**
   * Sets the cluster size the retransmit limit uses, for callers that only
   * piggyback (a round sets it from its peer list).
   *
   * @param nodeCount - Nodes, this one included; at least 1.
   */
  setNodeCount(nodeCount: number): void {
    if (Number.isSafeInteger(nodeCount) && nodeCount >= 1) this.#nodeCount = nodeCount;
  }

  /**
   * Takes the next message to deliver to local subscribers, in acceptance order.
   * Call it only when it will be delivered: it is then no longer pending here.
   *
   * @returns The message (a frozen copy shared by this delivery), or `undefined`.
   */
  nextDelivery(): GossipMessage | undefined {
    const next = this.#undelivered.entries().next();
    if (next.done === true) return undefined;
    const [messageId, queued] = next.value;
    this.#undelivered.delete(messageId);
    return queued.message;
  }

  /** How many messages wait for local delivery. */
  get undelivered(): number {
    return this.#undelivered.size;
  }

  /** How many messages are in the transmit queue. */
  get queued(): number {
    return this.#queue.size;
  }

  /**
   * The messages still in the transmit queue or not yet delivered locally, in
   * acceptance order, each once.
   *
   * @returns The messages (frozen; callers must copy payloads they hand out).
   */
  pending(): GossipMessage[] {
    const all = new Map<string, Queued>();
    for (const queued of this.#queue.items()) all.set(queued.message.messageId, queued);
    for (const [id, queued] of this.#undelivered) all.set(id, queued);
    return [...all.values()].sort((a, b) => a.seq - b.seq).map((queued) => queued.message);
  }

  /**
   * Whether this node has seen a message id (accepted it, or still holds it).
   *
   * @param messageId - The id.
   */
  hasSeen(messageId: string): boolean {
    return this.#isSeen(messageId);
  }

  #isSeen(messageId: string): boolean {
    return (
      this.#seen.has(messageId) || this.#undelivered.has(messageId) || this.#queue.has(messageId)
    );
  }

  #accept(message: GossipMessage, hops: number): void {
    const queued: Queued = {
      message,
      hops,
      entry: encodeGossipEntry({ hops, message }),
      seq: this.#seq++,
    };
    this.#seen.add(message.messageId);
    this.#undelivered.set(message.messageId, queued);
    if (hops <= this.maxHops) {
      const evicted = this.#queue.enqueue(message.messageId, queued, queued.entry.length);
      this.#stats.evicted += evicted.length;
    }
  }

  #sizeProblem(message: GossipMessage): string | undefined {
    if (message.payload.length > this.limits.maxPayloadBytes) {
      return `payload of ${message.payload.length} bytes exceeds maxPayloadBytes ${this.limits.maxPayloadBytes}`;
    }
    for (const [name, id] of [
      ['messageId', message.messageId],
      ['originNodeId', message.originNodeId],
    ] as const) {
      const bytes = utf8Length(id);
      if (bytes < 0) return `${name} is not well-formed Unicode`;
      if (bytes > this.limits.maxIdBytes) {
        return `${name} of ${bytes} UTF-8 bytes exceeds maxIdBytes ${this.limits.maxIdBytes}`;
      }
    }
    return undefined;
  }
}

/**
 * Up to `count` distinct elements of `items`, uniformly at random, never `exclude`.
 *
 * @param items - The candidates (not modified; assumed free of duplicates).
 * @param count - How many to pick.
 * @param random - The random source.
 * @param exclude - An element never picked (this node).
 * @returns The picked elements.
 * @since 2.0.0
 */
export function pickDistinct<T>(
  items: readonly T[],
  count: number,
  random: GossipRandom,
  exclude?: T,
): T[] {
  const excluded = exclude !== undefined && items.includes(exclude) ? 1 : 0;
  if (count >= items.length - excluded - 1) {
    // Few candidates: shuffle them all (rejection sampling would spin).
    const all = excluded === 1 ? items.filter((item) => item !== exclude) : [...items];
    shuffleInPlace(all, random);
    return all.slice(0, count);
  }
  // Rejection sampling: cheap when count is much smaller than the list, as fan-out is.
  const picked = new Set<number>();
  while (picked.size < count) {
    const index = random.int(items.length);
    if (excluded === 0 || items[index] !== exclude) picked.add(index);
  }
  return [...picked].map((index) => items[index] as T);
}

function shuffleInPlace(items: unknown[], random: GossipRandom): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const swap = items[i];
    items[i] = items[j];
    items[j] = swap;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 length of `text`, or -1 when it is not well-formed (a lone surrogate would not survive the wire). */
function utf8Length(text: string): number {
  const bytes = encoder.encode(text);
  return decoder.decode(bytes) === text ? bytes.length : -1;
}

function copyMessage(message: GossipMessage): GossipMessage {
  return Object.freeze({
    messageId: message.messageId,
    originNodeId: message.originNodeId,
    payload: message.payload.slice(),
    generation: message.generation,
    timestamp: message.timestamp,
  });
}
