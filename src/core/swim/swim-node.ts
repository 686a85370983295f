/**
 * The SWIM state machine of one member, with Lifeguard, in the shape of etcd's
 * raft library: the caller feeds it time and received packets and gets back
 * packets to send and membership events; {@link SwimNode.nextDeadline} says
 * when to call {@link SwimNode.tick} next. It reads no clock, opens no socket
 * and draws randomness only from the source it was given, so the same machine
 * runs on the Node runtime and in the simulator.
 *
 * One protocol period: probe the next member of a shuffled round-robin list
 * with a ping; without an ack within the probe timeout, ask `indirectChecks`
 * other members to ping it (ping-req); without any ack by the end of the
 * period, suspect it. A suspicion is gossiped; the suspected member refutes by
 * gossiping `alive` with a higher incarnation; otherwise, when the suspicion
 * times out, it is declared dead. Membership updates ride on probe packets
 * (piggybacking) and on gossip rounds, from a transmit-limited queue; full
 * state is exchanged on join, periodically, and with dead members (so healed
 * partitions merge).
 *
 * @packageDocumentation
 */

import { DistributedError } from '../../contracts/errors.js';
import { BoundedIdSet } from '../gossip/gossip-message.js';
import { retransmitLimit, TransmitLimitedQueue } from '../gossip/transmit-queue.js';
import { WireError, type WireRejectReason } from '../wire/wire-error.js';
import { Awareness } from './awareness.js';
import {
  decodeFallbackAck,
  decodeFallbackPing,
  encodeFallbackAck,
  encodeFallbackPing,
} from './fallback.js';
import {
  concatSwimPacket,
  decodeSwimPacket,
  DEFAULT_SWIM_CODEC_LIMITS,
  encodeSwimMessage,
  SWIM_PACKET_HEADER_BYTES,
  type SwimCodecLimits,
} from './codec.js';
import {
  baseSuspicionTimeoutMs,
  pushPullIntervalFor,
  resolveSwimConfig,
  type SwimConfig,
} from './config.js';
import {
  isSwimLive,
  MemberTable,
  snapshotMember,
  type SwimMemberRecord,
  type SwimMember,
  type SwimRandom,
} from './member-table.js';
import type {
  SwimAck,
  SwimAddress,
  SwimAlive,
  SwimDead,
  SwimMessage,
  SwimMessageType,
  SwimPeer,
  SwimPing,
  SwimPushPull,
  SwimStateEntry,
  SwimSuspect,
  SwimUpdate,
} from './messages.js';
import { RelayTable, type ProbeInFlight } from './probe.js';
import { pushPullPackets, stateEntryToUpdate } from './push-pull.js';
import { Suspicion } from './suspicion.js';

/**
 * A packet to send.
 *
 * @since 2.0.0
 */
export interface SwimSend {
  /** Where to. */
  readonly to: SwimAddress;
  /** The receiving member's id, when known (joins to a seed address do not know it). */
  readonly nodeId?: string;
  /**
   * What the packet mainly carries (`alive`, `suspect` or `dead` for a
   * gossip-only packet). `fallback-ping` is not a datagram: it goes over a
   * reliable stream to the target (see {@link SwimFallbackPing}).
   */
  readonly kind: SwimSendKind;
  /** The encoded packet (for `fallback-ping`, the body of the one frame to write). */
  readonly bytes: Uint8Array;
}

/**
 * What a {@link SwimSend} carries: a message type, `gossip` for a
 * gossip-only packet, or `fallback-ping` for a ping over a stream.
 *
 * @since 2.0.0
 */
export type SwimSendKind = SwimMessageType | 'gossip' | 'fallback-ping';

/**
 * A fallback ping to send (memberlist's TCP ping): not a datagram. The
 * driver opens a reliable stream to `to`, writes `bytes` as one frame, reads
 * one frame back, and hands it to {@link SwimNode.fallbackResult} with `seq` —
 * or hands `undefined` when the stream could not be opened, broke, or gave no
 * answer by `deadline` (then it closes the stream). Exactly one result per
 * fallback ping.
 *
 * @since 2.0.0
 */
export interface SwimFallbackPing extends SwimSend {
  /** The kind. */
  readonly kind: 'fallback-ping';
  /** The probe's seq, to give back with the result. */
  readonly seq: number;
  /** When the answer stops mattering (the end of the probe's period), in this node's monotonic ms. */
  readonly deadline: number;
}

/**
 * Whether a send is a fallback ping (to go over a stream, not as a datagram).
 *
 * @param send - A send from a {@link SwimReady}.
 * @returns `true` for a {@link SwimFallbackPing}.
 * @since 2.0.0
 */
export function isSwimFallbackPing(send: SwimSend): send is SwimFallbackPing {
  return send.kind === 'fallback-ping';
}

/**
 * The answer to a fallback ping received on a stream.
 *
 * @since 2.0.0
 */
export interface SwimFallbackAnswer {
  /** The frame body to write back (the ack); absent when there is nothing to answer. */
  readonly reply?: Uint8Array;
  /** Why the decoder refused the request; absent when it was accepted. */
  readonly rejected?: WireRejectReason;
}

/**
 * Every kind of membership event.
 *
 * - `joined`: a member became known alive (new, or back after dead/left).
 * - `alive`: a suspected member refuted the suspicion.
 * - `suspect`: a member is suspected.
 * - `dead`: a member was declared dead.
 * - `left`: a member left gracefully.
 * - `updated`: an alive member's metadata or address changed.
 * - `reaped`: a dead or left member was forgotten after its retention period.
 *
 * @since 2.0.0
 */
export const SWIM_EVENT_TYPES = Object.freeze([
  'joined',
  'alive',
  'suspect',
  'dead',
  'left',
  'updated',
  'reaped',
] as const);

/**
 * A membership event kind; see {@link SWIM_EVENT_TYPES}.
 *
 * @since 2.0.0
 */
export type SwimEventType = (typeof SWIM_EVENT_TYPES)[number];

/**
 * A membership change as this node observed it.
 *
 * @since 2.0.0
 */
export interface SwimEvent {
  /** What changed. */
  readonly type: SwimEventType;
  /** The member, after the change. */
  readonly member: SwimMember;
  /** Who caused it: the accuser of a `suspect` or `dead`; absent otherwise. */
  readonly from?: string;
  /** When, in this node's monotonic ms. */
  readonly at: number;
}

/**
 * The work an input produced.
 *
 * @since 2.0.0
 */
export interface SwimReady {
  /** Packets to send, in order. */
  readonly sends: readonly SwimSend[];
  /** Membership events, in order. */
  readonly events: readonly SwimEvent[];
}

/**
 * The work a received packet produced, and why it was refused if it was.
 *
 * @since 2.0.0
 */
export interface SwimReceipt extends SwimReady {
  /** Why the decoder refused the packet (nothing changed then); absent when it was accepted. */
  readonly rejected?: WireRejectReason;
}

/**
 * Counters of a {@link SwimNode} since it was made.
 *
 * @since 2.0.0
 */
export interface SwimStats {
  /** Packets produced, by primary kind (`fallback-ping`: pings sent over a stream). */
  packetsOut: Record<SwimSendKind, number>;
  /** Bytes of those packets. */
  bytesOut: number;
  /** Packets received and decoded. */
  packetsIn: number;
  /** Packets refused by the decoder, by reason. */
  rejected: Partial<Record<WireRejectReason, number>>;
  /** Probes started. */
  probes: number;
  /** Probes that needed indirect checks. */
  indirectProbes: number;
  /** Probes that failed (no ack by the end of the period). */
  failedProbes: number;
  /**
   * Failed probes after which the target was not suspected because every
   * helper stayed silent (Lifeguard: the fault is likely ours).
   */
  withheldSuspicions: number;
  /** Fallback pings answered with a valid ack (in time for the probe or not). */
  fallbackAcks: number;
  /** Fallback pings that got no valid ack: no stream, a broken one, none by the deadline, a bad one. */
  fallbackFailures: number;
  /**
   * Probes only a fallback ping answered: without it the target would have
   * been suspected (memberlist logs these as a sign of a datagram problem).
   */
  fallbackRescues: number;
  /** Fallback pings from others answered with an ack. */
  fallbackAnswers: number;
  /** Times this node refuted suspicion or death of itself. */
  refutations: number;
  /** Times this node said alive again to a member still accusing an incarnation it had refuted. */
  reassertions: number;
  /** Members this node declared dead when its suspicion timed out. */
  declaredDead: number;
  /** Ping-req requests dropped because `maxRelays` relays were in flight. */
  relaysDropped: number;
  /** Members ignored because `maxMembers` were known. */
  membersIgnored: number;
  /** Alive messages ignored because they claimed a live member's id from another address. */
  addressConflicts: number;
  /** Pings addressed to another member id (a restarted node reusing an address). */
  misdirectedPings: number;
  /** Updates evicted from a full queue before their sends ran out. */
  updatesEvicted: number;
}

/**
 * Options of a {@link SwimNode}.
 *
 * @since 2.0.0
 */
export interface SwimNodeOptions {
  /** This member's id and advertised address. */
  readonly self: SwimPeer;
  /** This member's metadata (at most `config.maxMetaBytes`). Default none. */
  readonly meta?: Readonly<Record<string, string>>;
  /** The tunables; default the LAN profile (see `resolveSwimConfig`). */
  readonly config?: SwimConfig;
  /** The random source (seeded in the simulator). */
  readonly random: SwimRandom;
  /** Wire bounds; default `DEFAULT_SWIM_CODEC_LIMITS`. */
  readonly limits?: SwimCodecLimits;
}

/** How many answered push-pull exchanges are remembered, so a chunked one is answered once. */
const ANSWERED_EXCHANGES = 256;
const MAX_U32 = 0xffff_ffff;
/** A relay nacks after this fraction of the probe timeout without an ack. */
const NACK_TIMEOUT_FRACTION = 0.8;

function emptyStats(): SwimStats {
  return {
    packetsOut: {
      ping: 0,
      ack: 0,
      nack: 0,
      'ping-req': 0,
      alive: 0,
      suspect: 0,
      dead: 0,
      'push-pull': 0,
      gossip: 0,
      'fallback-ping': 0,
    },
    bytesOut: 0,
    packetsIn: 0,
    rejected: {},
    probes: 0,
    indirectProbes: 0,
    failedProbes: 0,
    withheldSuspicions: 0,
    fallbackAcks: 0,
    fallbackFailures: 0,
    fallbackRescues: 0,
    fallbackAnswers: 0,
    refutations: 0,
    reassertions: 0,
    declaredDead: 0,
    relaysDropped: 0,
    membersIgnored: 0,
    addressConflicts: 0,
    misdirectedPings: 0,
    updatesEvicted: 0,
  };
}

function sameMeta(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
}

/**
 * The SWIM + Lifeguard state machine of one member.
 *
 * @since 2.0.0
 */
export class SwimNode {
  /** The tunables in force. */
  readonly config: SwimConfig;
  /** This member's id and address. */
  readonly self: SwimPeer;
  /** Wire bounds. */
  readonly limits: SwimCodecLimits;
  /** Counters. */
  readonly stats: Readonly<SwimStats>;
  readonly #stats: SwimStats = emptyStats();
  readonly #random: SwimRandom;
  readonly #table: MemberTable;
  readonly #selfRecord: SwimMemberRecord;
  readonly #awareness: Awareness;
  readonly #queue: TransmitLimitedQueue<Uint8Array>;
  readonly #suspicions = new Map<string, Suspicion>();
  readonly #relays: RelayTable;
  readonly #answered = new BoundedIdSet(ANSWERED_EXCHANGES);
  #sends: SwimSend[] = [];
  #events: SwimEvent[] = [];
  #probe: ProbeInFlight | undefined;
  #seq = 0;
  #updateSeq = 0;
  #started = false;
  #leaving = false;
  #joined = false;
  #leaveTransmitted = false;
  #joinSeeds: readonly SwimAddress[] = [];
  #nextProbeAt = Number.POSITIVE_INFINITY;
  #nextGossipAt = Number.POSITIVE_INFINITY;
  #nextPushPullAt = Number.POSITIVE_INFINITY;
  #nextReconnectAt = Number.POSITIVE_INFINITY;
  #nextJoinAt = Number.POSITIVE_INFINITY;
  #now = 0;

  /**
   * @param options - Identity, tunables and the random source.
   * @throws A {@link DistributedError} `INVALID_ARGUMENT` for a bad id, address or metadata.
   */
  constructor(options: SwimNodeOptions) {
    this.config = options.config ?? resolveSwimConfig();
    this.limits = options.limits ?? {
      ...DEFAULT_SWIM_CODEC_LIMITS,
      maxMetaBytes: this.config.maxMetaBytes,
    };
    const { nodeId, host, port } = options.self;
    const meta = Object.freeze({ ...(options.meta ?? {}) });
    // Encoding an alive message checks id, host, port and metadata against the wire bounds.
    try {
      encodeSwimMessage({ type: 'alive', member: options.self, incarnation: 0, meta }, this.limits);
    } catch (error) {
      throw new DistributedError('INVALID_ARGUMENT', `bad SWIM identity: ${String(error)}`);
    }
    this.self = Object.freeze({ nodeId, host, port });
    this.#random = options.random;
    this.#table = new MemberTable(nodeId, this.config.maxMembers, this.#random);
    this.#selfRecord = {
      nodeId,
      host,
      port,
      incarnation: 0,
      status: 'alive',
      meta,
      since: 0,
      snapshot: undefined,
    };
    this.#table.add(this.#selfRecord);
    this.#awareness = new Awareness(this.config.awarenessMaxMultiplier);
    this.#queue = new TransmitLimitedQueue({ maxItems: this.config.maxQueuedUpdates });
    this.#relays = new RelayTable(this.config.maxRelays);
    this.stats = this.#stats;
  }

  /** This member's incarnation number. */
  get incarnation(): number {
    return this.#selfRecord.incarnation;
  }

  /** Lifeguard's health score (0 is healthy; always 0 with Lifeguard off). */
  get healthScore(): number {
    return this.#awareness.score;
  }

  /** Whether a join has completed (a full-state answer arrived), or no seeds were given. */
  get joined(): boolean {
    return this.#joined;
  }

  /** Whether {@link SwimNode.leave} was called. */
  get leaving(): boolean {
    return this.#leaving;
  }

  /** Updates waiting in the transmit queue. */
  get queuedUpdates(): number {
    return this.#queue.size;
  }

  /** Members believed alive or suspect, this one included. */
  get liveCount(): number {
    return this.#table.liveCount;
  }

  /**
   * Every member known (this one included, dead and left ones until reaped).
   *
   * @returns Frozen snapshots, in the order first learned.
   */
  members(): SwimMember[] {
    return [...this.#table.values()].map(snapshotMember);
  }

  /**
   * One member.
   *
   * @param nodeId - The id.
   * @returns Its snapshot, or `undefined` when not known.
   */
  member(nodeId: string): SwimMember | undefined {
    const record = this.#table.get(nodeId);
    return record === undefined ? undefined : snapshotMember(record);
  }

  /**
   * Starts the protocol: the first probe, gossip round and push-pull come at
   * random offsets within their periods, so members do not act in step.
   *
   * @param now - Now (monotonic ms).
   * @returns Work to do (none yet; timers only).
   */
  start(now: number): SwimReady {
    this.#now = now;
    if (this.#started) return this.#drain();
    this.#started = true;
    this.#selfRecord.since = now;
    this.#selfRecord.snapshot = undefined;
    // Announce ourselves (memberlist's setAlive): with the seed's re-gossip of our join, everyone
    // hears of us even when our join raced another member's.
    this.#enqueue({
      type: 'alive',
      member: this.self,
      incarnation: 0,
      meta: this.#selfRecord.meta,
    });
    const c = this.config;
    this.#nextProbeAt = now + this.#random.int(Math.ceil(c.probeIntervalMs));
    this.#nextGossipAt = now + this.#random.int(Math.ceil(c.gossipIntervalMs));
    if (c.pushPullIntervalMs > 0) {
      this.#nextPushPullAt = now + this.#random.int(Math.ceil(c.pushPullIntervalMs)) + 1;
    }
    if (c.reconnectIntervalMs > 0) this.#nextReconnectAt = now + c.reconnectIntervalMs;
    if (this.#joinSeeds.length === 0) this.#joined = true;
    return this.#drain();
  }

  /**
   * Joins through seed addresses: sends each a full-state exchange marked as
   * a join, and again every `joinRetryIntervalMs` until one answers
   * ({@link SwimNode.joined}). With no seeds the node is its own cluster.
   *
   * @param now - Now.
   * @param seeds - Addresses of members (this node's own address is skipped).
   * @returns Packets to send.
   */
  join(now: number, seeds: readonly SwimAddress[]): SwimReady {
    this.#now = now;
    const others = seeds.filter(
      (seed) => seed.host !== this.self.host || seed.port !== this.self.port,
    );
    if (!this.#started) this.start(now);
    if (others.length === 0) {
      this.#joined = true;
      return this.#drain();
    }
    this.#joined = false;
    this.#joinSeeds = Object.freeze(
      others.map((seed) => Object.freeze({ host: seed.host, port: seed.port })),
    );
    this.#sendJoin(now);
    return this.#drain();
  }

  /**
   * Leaves gracefully: gossips this member's own `dead` message (which others
   * record as `left`), stops probing, keeps answering and gossiping so the
   * news spreads. Call {@link SwimNode.tick} for a few gossip rounds before
   * shutting down. Leaving twice is harmless.
   *
   * @param now - Now.
   * @returns Packets to send (the leave message to `gossipNodes` members at once).
   */
  leave(now: number): SwimReady {
    this.#now = now;
    if (this.#leaving) return this.#drain();
    this.#leaving = true;
    this.#joinSeeds = [];
    this.#nextJoinAt = Number.POSITIVE_INFINITY;
    this.#probe = undefined;
    this.#nextProbeAt = Number.POSITIVE_INFINITY;
    this.#nextPushPullAt = Number.POSITIVE_INFINITY;
    this.#nextReconnectAt = Number.POSITIVE_INFINITY;
    const me = this.#selfRecord;
    const dead: SwimDead = {
      type: 'dead',
      nodeId: me.nodeId,
      incarnation: me.incarnation,
      from: me.nodeId,
    };
    this.#enqueue(dead);
    this.#table.setStatus(me, 'left', now);
    this.#emit('left', me);
    this.#gossipRound(now);
    return this.#drain();
  }

  /**
   * Whether the leave message has been sent at least once (it keeps being
   * gossiped until its transmit limit).
   */
  get leaveSent(): boolean {
    return this.#leaving && this.#leaveTransmitted;
  }

  /**
   * The earliest time {@link SwimNode.tick} has work to do.
   *
   * @returns Monotonic ms; `Infinity` when nothing is scheduled.
   */
  nextDeadline(): number {
    let at = Math.min(
      this.#nextProbeAt,
      // Gossip rounds with nothing to send are skipped, so an idle node does not wake for them.
      this.#queue.size > 0 ? this.#nextGossipAt : Number.POSITIVE_INFINITY,
      this.#nextPushPullAt,
      this.#nextReconnectAt,
      this.#nextJoinAt,
      this.#relays.earliestExpiry,
    );
    const probe = this.#probe;
    if (probe !== undefined)
      at = Math.min(at, probe.phase === 'direct' ? probe.timeoutAt : probe.endAt);
    for (const suspicion of this.#suspicions.values()) at = Math.min(at, suspicion.deadline);
    return at;
  }

  /**
   * Runs everything due at `now`: probe phases, relays expiring (nacks),
   * suspicions timing out, gossip, push-pull, reconnects, join retries.
   *
   * @param now - Now (monotonic ms).
   * @returns Work to do.
   */
  tick(now: number): SwimReady {
    this.#now = now;
    if (!this.#started) return this.#drain();
    const c = this.config;
    const probe = this.#probe;
    if (probe !== undefined && probe.phase === 'direct' && now >= probe.timeoutAt)
      this.#startIndirect(probe);
    if (this.#probe !== undefined && now >= this.#probe.endAt) this.#probeFailed(this.#probe, now);
    if (now >= this.#nextProbeAt) this.#startProbe(now);
    for (const relay of this.#relays.expire(now)) {
      if (relay.wantNack) {
        this.#send(relay.requester, relay.requester.nodeId, {
          type: 'nack',
          seq: relay.requesterSeq,
          from: this.self.nodeId,
        });
      }
    }
    if (this.#suspicions.size > 0) {
      for (const [nodeId, suspicion] of [...this.#suspicions]) {
        if (suspicion.deadline > now) continue;
        this.#suspicions.delete(nodeId);
        const record = this.#table.get(nodeId);
        if (record?.status !== 'suspect') continue;
        this.#stats.declaredDead += 1;
        this.#onDead(
          { type: 'dead', nodeId, incarnation: record.incarnation, from: this.self.nodeId },
          now,
        );
      }
    }
    if (now >= this.#nextGossipAt) {
      this.#gossipRound(now);
      this.#nextGossipAt = now + c.gossipIntervalMs;
    }
    if (now >= this.#nextPushPullAt) {
      const [peer] = this.#table.randomMembers(1, (r) => r.status === 'alive');
      if (peer !== undefined)
        this.#sendState(peer, peer.nodeId, this.#nextExchange(), false, false);
      this.#nextPushPullAt = now + pushPullIntervalFor(c, this.#table.liveCount);
    }
    if (now >= this.#nextReconnectAt) {
      const [peer] = this.#table.randomMembers(1, (r) => r.status === 'dead');
      if (peer !== undefined)
        this.#sendState(peer, peer.nodeId, this.#nextExchange(), false, false);
      this.#nextReconnectAt = now + c.reconnectIntervalMs;
    }
    if (now >= this.#nextJoinAt) this.#sendJoin(now);
    return this.#drain();
  }

  /**
   * Handles a received packet. A packet the decoder refuses changes nothing
   * but the rejection counter.
   *
   * @param now - Now.
   * @param bytes - The untrusted packet.
   * @returns Work to do; `rejected` tells why a packet was refused.
   */
  receive(now: number, bytes: Uint8Array): SwimReceipt {
    this.#now = now;
    let messages: readonly SwimMessage[];
    try {
      messages = decodeSwimPacket(bytes, this.limits);
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
      this.#stats.rejected[error.reason] = (this.#stats.rejected[error.reason] ?? 0) + 1;
      return { ...this.#drain(), rejected: error.reason };
    }
    this.#stats.packetsIn += 1;
    if (!this.#started) return this.#drain();
    for (const message of messages) this.#handle(message, now);
    return this.#drain();
  }

  /**
   * Answers a fallback ping another member sent over a stream (the driver
   * writes `reply` back as one frame, then closes the stream). A request the
   * decoder refuses, or one addressed to another member id, gets no reply.
   *
   * @param now - Now.
   * @param bytes - The untrusted frame body.
   * @returns The reply, or why there is none.
   */
  answerFallbackPing(now: number, bytes: Uint8Array): SwimFallbackAnswer {
    this.#now = now;
    let ping: SwimPing;
    try {
      ping = decodeFallbackPing(bytes, this.limits);
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
      this.#stats.rejected[error.reason] = (this.#stats.rejected[error.reason] ?? 0) + 1;
      return Object.freeze({ rejected: error.reason });
    }
    this.#stats.packetsIn += 1;
    if (!this.#started) return NO_ANSWER;
    if (ping.target !== this.self.nodeId) {
      this.#stats.misdirectedPings += 1;
      return NO_ANSWER;
    }
    this.#stats.fallbackAnswers += 1;
    return Object.freeze({
      reply: encodeFallbackAck({ type: 'ack', seq: ping.seq, from: this.self.nodeId }, this.limits),
    });
  }

  /**
   * Takes the outcome of a {@link SwimFallbackPing}: the answer read from
   * the stream, or `undefined` when there was none (connection refused or
   * broken, no answer by the deadline). An ack for the probe in flight, from
   * its target, keeps the target from being suspected at the end of the
   * period; anything else counts as a failed fallback.
   *
   * @param now - Now.
   * @param seq - The fallback ping's `seq`.
   * @param reply - The untrusted frame body read back, or `undefined`.
   * @returns Work to do (none today); `rejected` when the decoder refused the answer.
   */
  fallbackResult(now: number, seq: number, reply: Uint8Array | undefined): SwimReceipt {
    this.#now = now;
    const probe = this.#probe?.seq === seq ? this.#probe : undefined;
    if (reply === undefined) {
      this.#stats.fallbackFailures += 1;
      if (probe?.fallback === 'pending') probe.fallback = 'failed';
      return this.#drain();
    }
    let ack: SwimAck;
    try {
      ack = decodeFallbackAck(reply, this.limits);
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
      this.#stats.rejected[error.reason] = (this.#stats.rejected[error.reason] ?? 0) + 1;
      this.#stats.fallbackFailures += 1;
      if (probe?.fallback === 'pending') probe.fallback = 'failed';
      return { ...this.#drain(), rejected: error.reason };
    }
    this.#stats.packetsIn += 1;
    if (ack.seq !== seq || (probe !== undefined && ack.from !== probe.target)) {
      this.#stats.fallbackFailures += 1;
      if (probe?.fallback === 'pending') probe.fallback = 'failed';
      return this.#drain();
    }
    this.#stats.fallbackAcks += 1;
    if (probe?.fallback === 'pending') probe.fallback = 'acked';
    return this.#drain();
  }

  // ---- probing ---------------------------------------------------------------

  #scale(ms: number): number {
    return this.config.lifeguard ? this.#awareness.scale(ms) : ms;
  }

  #startProbe(now: number): void {
    const c = this.config;
    this.#nextProbeAt = now + this.#scale(c.probeIntervalMs);
    if (this.#leaving) return;
    const target = this.#table.nextProbeTarget(() => {
      this.#reap(now);
    });
    if (target === undefined) return;
    const seq = this.#nextSeq();
    this.#stats.probes += 1;
    this.#probe = {
      seq,
      target: target.nodeId,
      incarnation: target.incarnation,
      phase: 'direct',
      timeoutAt: now + this.#scale(c.probeTimeoutMs),
      endAt: now + this.#scale(c.probeIntervalMs),
      expectedNacks: 0,
      nacks: 0,
      fallback: 'none',
    };
    const extra: SwimMessage[] = [];
    if (c.lifeguard && target.status === 'suspect') {
      // Buddy system: tell the suspect it is suspected, so it refutes at once.
      extra.push({
        type: 'suspect',
        nodeId: target.nodeId,
        incarnation: target.incarnation,
        from: this.self.nodeId,
      });
    }
    this.#send(
      target,
      target.nodeId,
      { type: 'ping', seq, target: target.nodeId, from: this.self },
      extra,
    );
  }

  #startIndirect(probe: ProbeInFlight): void {
    probe.phase = 'indirect';
    const target = this.#table.get(probe.target);
    if (target === undefined) return;
    this.#stats.indirectProbes += 1;
    const helpers = this.#table.randomMembers(
      this.config.indirectChecks,
      (r) => r.status === 'alive' && r.nodeId !== probe.target,
    );
    const wantNack = this.config.lifeguard;
    for (const helper of helpers) {
      this.#send(helper, helper.nodeId, {
        type: 'ping-req',
        seq: probe.seq,
        target: { nodeId: target.nodeId, host: target.host, port: target.port },
        wantNack,
        from: this.self,
      });
    }
    probe.expectedNacks = wantNack ? helpers.length : 0;
    if (this.config.fallbackPing) {
      // memberlist's TCP ping: alongside the ping-reqs, over a stream the network cannot silently
      // drop, answered in time or not by the end of the period (when the probe is judged).
      probe.fallback = 'pending';
      const ping: SwimPing = {
        type: 'ping',
        seq: probe.seq,
        target: target.nodeId,
        from: this.self,
      };
      const bytes = encodeFallbackPing(ping, this.limits);
      this.#stats.packetsOut['fallback-ping'] += 1;
      this.#stats.bytesOut += bytes.length;
      const send: SwimFallbackPing = {
        to: { host: target.host, port: target.port },
        nodeId: target.nodeId,
        kind: 'fallback-ping',
        bytes,
        seq: probe.seq,
        deadline: probe.endAt,
      };
      this.#sends.push(Object.freeze(send));
    }
  }

  #probeFailed(probe: ProbeInFlight, now: number): void {
    this.#probe = undefined;
    if (probe.fallback === 'acked') {
      // No datagram ack came, but the target answered over the stream: it is alive (memberlist
      // warns that the datagram path may be broken). A success for local health too.
      this.#stats.fallbackRescues += 1;
      if (this.config.lifeguard) this.#awareness.apply(-1);
      return;
    }
    this.#stats.failedProbes += 1;
    if (this.config.lifeguard) {
      // Missing nacks mean the helpers could not reach us either: we are the likely problem.
      // With no helper to judge by, a failed probe is itself the (weaker) sign.
      this.#awareness.apply(
        probe.expectedNacks > 0 ? Math.max(0, probe.expectedNacks - probe.nacks) : 1,
      );
    }
    const target = this.#table.get(probe.target);
    if (target === undefined || !isSwimLive(target.status)) return;
    if (this.config.lifeguard && probe.expectedNacks > 0 && probe.nacks === 0) {
      // Every helper stayed silent — no ack and no nack, though each answers one way or the other
      // within the period. That says more about us (slow, or deaf to the network) than about the
      // target, so we hold the accusation; the health score rose instead. A target that is really
      // down is still suspected: its helpers' nacks reach us, and others probe it too.
      this.#stats.withheldSuspicions += 1;
      return;
    }
    this.#onSuspect(
      {
        type: 'suspect',
        nodeId: target.nodeId,
        incarnation: probe.incarnation,
        from: this.self.nodeId,
      },
      now,
    );
  }

  #nextSeq(): number {
    this.#seq = this.#seq >= MAX_U32 ? 1 : this.#seq + 1;
    return this.#seq;
  }

  #nextExchange(): number {
    return this.#nextSeq();
  }

  // ---- receiving ---------------------------------------------------------------

  #handle(message: SwimMessage, now: number): void {
    switch (message.type) {
      case 'ping':
        if (message.target !== this.self.nodeId) {
          this.#stats.misdirectedPings += 1;
          return;
        }
        this.#send(message.from, message.from.nodeId, {
          type: 'ack',
          seq: message.seq,
          from: this.self.nodeId,
        });
        return;
      case 'ack': {
        const probe = this.#probe;
        if (probe?.seq === message.seq) {
          this.#probe = undefined;
          if (this.config.lifeguard) this.#awareness.apply(-1);
          return;
        }
        const relay = this.#relays.take(message.seq);
        if (relay !== undefined) {
          this.#send(relay.requester, relay.requester.nodeId, {
            type: 'ack',
            seq: relay.requesterSeq,
            from: this.self.nodeId,
          });
        }
        return;
      }
      case 'nack':
        if (this.#probe?.seq === message.seq) this.#probe.nacks += 1;
        return;
      case 'ping-req': {
        const seq = this.#nextSeq();
        const added = this.#relays.add(seq, {
          requesterSeq: message.seq,
          requester: message.from,
          wantNack: message.wantNack,
          // 80% of the probe timeout (Lifeguard's choice), so the nack reaches the requester
          // before its own period ends even though its ping-req left one timeout after its ping.
          expireAt: now + Math.floor(this.config.probeTimeoutMs * NACK_TIMEOUT_FRACTION),
        });
        if (!added) {
          this.#stats.relaysDropped += 1;
          return;
        }
        this.#send(message.target, message.target.nodeId, {
          type: 'ping',
          seq,
          target: message.target.nodeId,
          from: this.self,
        });
        return;
      }
      case 'alive':
        this.#onAlive(message, now);
        return;
      case 'suspect':
        this.#onSuspect(message, now);
        return;
      case 'dead':
        this.#onDead(message, now);
        return;
      case 'push-pull':
        this.#onPushPull(message, now);
        return;
    }
  }

  #onPushPull(message: SwimPushPull, now: number): void {
    if (message.from.nodeId === this.self.nodeId) return;
    for (const entry of message.entries)
      this.#handle(stateEntryToUpdate(entry, message.from.nodeId), now);
    if (message.reply) {
      if (!this.#joined) {
        this.#joined = true;
        this.#joinSeeds = [];
        this.#nextJoinAt = Number.POSITIVE_INFINITY;
      }
      return;
    }
    // Merged first, answered second: a refutation the merge caused travels in the answer.
    if (this.#answered.has(`${message.from.nodeId}/${message.exchange}`)) return;
    this.#answered.add(`${message.from.nodeId}/${message.exchange}`);
    this.#sendState(message.from, message.from.nodeId, message.exchange, true, false);
  }

  // ---- merge rules (memberlist's aliveNode / suspectNode / deadNode) -----------

  #onAlive(message: SwimAlive, now: number): void {
    const { member, incarnation, meta } = message;
    const me = this.#selfRecord;
    if (member.nodeId === me.nodeId) {
      if (this.#leaving || incarnation < me.incarnation) return;
      if (
        incarnation === me.incarnation &&
        sameMeta(meta, me.meta) &&
        member.host === me.host &&
        member.port === me.port
      ) {
        return; // our own news coming back
      }
      this.#refute(incarnation);
      return;
    }
    const record = this.#table.get(member.nodeId);
    if (record === undefined) {
      const added: SwimMemberRecord = {
        nodeId: member.nodeId,
        host: member.host,
        port: member.port,
        incarnation,
        status: 'alive',
        meta,
        since: now,
        snapshot: undefined,
      };
      if (!this.#table.add(added)) {
        this.#stats.membersIgnored += 1;
        return;
      }
      this.#enqueue(message);
      this.#emit('joined', added);
      return;
    }
    const moved = record.host !== member.host || record.port !== member.port;
    if (moved && isSwimLive(record.status)) {
      this.#stats.addressConflicts += 1;
      return;
    }
    if (incarnation <= record.incarnation) return;
    this.#suspicions.delete(record.nodeId);
    this.#enqueue(message);
    const before = record.status;
    const changed = moved || !sameMeta(meta, record.meta);
    record.incarnation = incarnation;
    record.meta = meta;
    record.host = member.host;
    record.port = member.port;
    record.snapshot = undefined;
    this.#table.setStatus(record, 'alive', now);
    if (before === 'dead' || before === 'left') this.#emit('joined', record);
    else if (before === 'suspect') this.#emit('alive', record);
    else if (changed) this.#emit('updated', record);
  }

  /**
   * The record an accusation (`suspect` or `dead`) is about, or `undefined`
   * when it is unknown or the news is stale. A stale accusation of this
   * member means its sender (a buddy probe's prober, or gossip) missed the
   * refutation and will declare us dead when its timer runs out: say alive
   * again at the current incarnation, to the accuser first.
   */
  #accused(message: SwimSuspect | SwimDead): SwimMemberRecord | undefined {
    const record = this.#table.get(message.nodeId);
    if (record === undefined || message.incarnation >= record.incarnation) return record;
    if (record === this.#selfRecord && !this.#leaving) this.#reassertAlive(message.from);
    return undefined;
  }

  #onSuspect(message: SwimSuspect, now: number): void {
    const record = this.#accused(message);
    if (record === undefined) return;
    const suspicion = this.#suspicions.get(message.nodeId);
    if (suspicion !== undefined) {
      // Independent confirmations shorten the timeout; re-gossip them so others count them too.
      if (this.config.lifeguard && suspicion.confirm(message.from)) this.#enqueue(message);
      return;
    }
    if (record.status !== 'alive') return;
    if (record === this.#selfRecord) {
      if (!this.#leaving) this.#refute(message.incarnation);
      return;
    }
    this.#enqueue(message);
    record.incarnation = message.incarnation;
    record.snapshot = undefined;
    this.#table.setStatus(record, 'suspect', now);
    this.#suspicions.set(record.nodeId, this.#newSuspicion(message.from, now));
    this.#emit('suspect', record, message.from);
  }

  #newSuspicion(from: string, now: number): Suspicion {
    const c = this.config;
    const n = this.#table.liveCount;
    const min = baseSuspicionTimeoutMs(c, n);
    if (!c.lifeguard) return new Suspicion(from, now, 0, min, min);
    // memberlist: expect suspicionMult − 2 confirmations, so the nominal timeout is hit about two
    // probe periods early; none when there are not enough other members to give them.
    let k = c.suspicionMult - 2;
    if (n - 2 < k) k = 0;
    return new Suspicion(from, now, k, min, min * c.suspicionMaxTimeoutMult);
  }

  #onDead(message: SwimDead, now: number): void {
    const record = this.#accused(message);
    if (record === undefined) return;
    this.#suspicions.delete(message.nodeId);
    if (record.status === 'dead' || record.status === 'left') return;
    if (record === this.#selfRecord) {
      if (!this.#leaving) this.#refute(message.incarnation);
      return;
    }
    this.#enqueue(message);
    record.incarnation = message.incarnation;
    record.snapshot = undefined;
    const left = message.from === message.nodeId;
    this.#table.setStatus(record, left ? 'left' : 'dead', now);
    this.#emit(left ? 'left' : 'dead', record, left ? undefined : message.from);
  }

  /**
   * Says alive again at the current incarnation (no raise), straight to the
   * member still accusing an older one and through gossip for any others.
   */
  #reassertAlive(accuser: string): void {
    const me = this.#selfRecord;
    this.#stats.reassertions += 1;
    const alive: SwimMessage = {
      type: 'alive',
      member: this.self,
      incarnation: me.incarnation,
      meta: me.meta,
    };
    this.#enqueue(alive);
    const to = this.#table.get(accuser);
    if (to !== undefined && to !== me && to.status !== 'left') this.#send(to, to.nodeId, alive);
  }

  #refute(accused: number): void {
    const me = this.#selfRecord;
    me.incarnation = Math.min(MAX_U32, Math.max(me.incarnation, accused) + 1);
    me.snapshot = undefined;
    this.#stats.refutations += 1;
    if (this.config.lifeguard) this.#awareness.apply(1);
    this.#enqueue({
      type: 'alive',
      member: this.self,
      incarnation: me.incarnation,
      meta: me.meta,
    });
  }

  #reap(now: number): void {
    const c = this.config;
    for (const record of [...this.#table.values()]) {
      const keep =
        record.status === 'dead'
          ? c.deadRetentionMs
          : record.status === 'left'
            ? c.leftRetentionMs
            : -1;
      if (keep < 0 || now - record.since < keep) continue;
      this.#table.remove(record.nodeId);
      this.#suspicions.delete(record.nodeId);
      this.#emit('reaped', record);
    }
  }

  // ---- sending -----------------------------------------------------------------

  #enqueue(update: SwimUpdate): void {
    const bytes = encodeSwimMessage(update, this.limits);
    const key = update.type === 'alive' ? update.member.nodeId : update.nodeId;
    const evicted = this.#queue.enqueue(`u${++this.#updateSeq}`, bytes, bytes.length, key);
    // One entry replaced by key is not an eviction; more than that is.
    this.#stats.updatesEvicted += Math.max(0, evicted.length - 1);
  }

  #takeUpdates(budget: number): Uint8Array[] {
    if (this.#queue.size === 0 || budget <= 0) return [];
    const limit = retransmitLimit(
      this.config.retransmitMult,
      Math.max(1, this.#table.liveCount),
      this.config.minTransmits,
    );
    const taken = this.#queue.take(budget, limit);
    if (this.#leaving && taken.length > 0) this.#leaveTransmitted = true;
    return taken;
  }

  /** Sends `primary` (and `extra`) with piggybacked updates filling the rest of the packet. */
  #send(
    to: SwimAddress,
    nodeId: string | undefined,
    primary: SwimMessage,
    extra: SwimMessage[] = [],
  ): void {
    const parts = [primary, ...extra].map((message) => encodeSwimMessage(message, this.limits));
    let size = SWIM_PACKET_HEADER_BYTES;
    for (const part of parts) size += part.length;
    parts.push(...this.#takeUpdates(this.config.maxPacketBytes - size));
    this.#push(to, nodeId, primary.type, concatSwimPacket(parts));
  }

  #push(
    to: SwimAddress,
    nodeId: string | undefined,
    kind: SwimSend['kind'],
    bytes: Uint8Array,
  ): void {
    this.#stats.packetsOut[kind] += 1;
    this.#stats.bytesOut += bytes.length;
    const address = { host: to.host, port: to.port };
    this.#sends.push(
      Object.freeze(
        nodeId === undefined ? { to: address, kind, bytes } : { to: address, nodeId, kind, bytes },
      ),
    );
  }

  #gossipRound(now: number): void {
    if (this.#queue.size === 0) return;
    const c = this.config;
    const targets = this.#table.randomMembers(
      c.gossipNodes,
      (r) => isSwimLive(r.status) || (r.status === 'dead' && now - r.since < c.gossipToTheDeadMs),
    );
    for (const target of targets) {
      const updates = this.#takeUpdates(c.maxPacketBytes - SWIM_PACKET_HEADER_BYTES);
      if (updates.length === 0) break;
      this.#push(target, target.nodeId, 'gossip', concatSwimPacket(updates));
    }
  }

  #stateEntries(): SwimStateEntry[] {
    const entries: SwimStateEntry[] = [];
    for (const record of this.#table.values()) {
      entries.push({
        member: { nodeId: record.nodeId, host: record.host, port: record.port },
        incarnation: record.incarnation,
        status: record.status,
        meta: record.meta,
      });
    }
    return entries;
  }

  #sendState(
    to: SwimAddress,
    nodeId: string | undefined,
    exchange: number,
    reply: boolean,
    join: boolean,
  ): void {
    const packets = pushPullPackets(
      { exchange, reply, join, from: this.self },
      this.#stateEntries(),
      this.config.maxPacketBytes,
      this.limits,
    );
    for (const packet of packets) this.#push(to, nodeId, 'push-pull', packet);
  }

  #sendJoin(now: number): void {
    if (this.#joined || this.#joinSeeds.length === 0) {
      this.#nextJoinAt = Number.POSITIVE_INFINITY;
      return;
    }
    for (const seed of this.#joinSeeds)
      this.#sendState(seed, undefined, this.#nextExchange(), false, true);
    this.#nextJoinAt = now + this.config.joinRetryIntervalMs;
  }

  // ---- output ------------------------------------------------------------------

  #emit(type: SwimEventType, record: SwimMemberRecord, from?: string): void {
    const member = snapshotMember(record);
    this.#events.push(
      Object.freeze(
        from === undefined
          ? { type, member, at: this.#now }
          : { type, member, from, at: this.#now },
      ),
    );
  }

  #drain(): SwimReady {
    if (this.#sends.length === 0 && this.#events.length === 0) return EMPTY_READY;
    const ready = Object.freeze({
      sends: Object.freeze(this.#sends),
      events: Object.freeze(this.#events),
    });
    this.#sends = [];
    this.#events = [];
    return ready;
  }
}

const NO_ANSWER: SwimFallbackAnswer = Object.freeze({});

const EMPTY_READY: SwimReady = Object.freeze({
  sends: Object.freeze([]),
  events: Object.freeze([]),
});
