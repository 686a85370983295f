/**
 * The messages SWIM members exchange: probes (ping, ack, nack, ping-req),
 * membership updates (alive, suspect, dead) piggybacked on probes and
 * gossiped, and full-state push-pull exchanges.
 *
 * @packageDocumentation
 */

/**
 * Every status a member can have, in wire order (the status byte is the index).
 *
 * - `alive`: answering probes (as far as this member knows).
 * - `suspect`: missed a probe; declared dead unless it refutes in time.
 * - `dead`: declared failed.
 * - `left`: left gracefully.
 *
 * @since 2.0.0
 */
export const SWIM_MEMBER_STATUSES = Object.freeze(['alive', 'suspect', 'dead', 'left'] as const);

/**
 * A member status; see {@link SWIM_MEMBER_STATUSES}.
 *
 * @since 2.0.0
 */
export type SwimMemberStatus = (typeof SWIM_MEMBER_STATUSES)[number];

/**
 * Where a member listens.
 *
 * @since 2.0.0
 */
export interface SwimAddress {
  /** Host name or IP address. */
  readonly host: string;
  /** Port, 0..65 535. */
  readonly port: number;
}

/**
 * A member's identity as carried in probes: id and address.
 *
 * @since 2.0.0
 */
export interface SwimPeer extends SwimAddress {
  /** The member's id, unique in the cluster. */
  readonly nodeId: string;
}

/**
 * A direct probe. The target answers with an {@link SwimAck} carrying the same `seq`.
 *
 * @since 2.0.0
 */
export interface SwimPing {
  /** The kind. */
  readonly type: 'ping';
  /** Pairs the ack with the probe. */
  readonly seq: number;
  /** The member the prober means to reach (a restarted node under another id ignores it). */
  readonly target: string;
  /** Who probes, and where to send the ack. */
  readonly from: SwimPeer;
}

/**
 * The answer to a ping (direct, or relayed by an indirect prober).
 *
 * @since 2.0.0
 */
export interface SwimAck {
  /** The kind. */
  readonly type: 'ack';
  /** The probe's `seq` (for a relayed ack, the original requester's). */
  readonly seq: number;
  /** Who sends the ack. */
  readonly from: string;
}

/**
 * Lifeguard's negative ack: an indirect prober tells the requester it got no
 * ack from the target in time. A requester that misses expected nacks learns
 * that it, not the target, is probably the slow one.
 *
 * @since 2.0.0
 */
export interface SwimNack {
  /** The kind. */
  readonly type: 'nack';
  /** The requester's probe `seq`. */
  readonly seq: number;
  /** Who sends the nack. */
  readonly from: string;
}

/**
 * A request to probe `target` on the requester's behalf and relay its ack.
 *
 * @since 2.0.0
 */
export interface SwimPingReq {
  /** The kind. */
  readonly type: 'ping-req';
  /** The requester's probe `seq`, echoed in the relayed ack or nack. */
  readonly seq: number;
  /** The member to probe. */
  readonly target: SwimPeer;
  /** Whether the requester wants a nack when no ack comes (Lifeguard). */
  readonly wantNack: boolean;
  /** The requester. */
  readonly from: SwimPeer;
}

/**
 * A member is alive at `incarnation` (a join, or a refutation).
 *
 * @since 2.0.0
 */
export interface SwimAlive {
  /** The kind. */
  readonly type: 'alive';
  /** The member, with its address. */
  readonly member: SwimPeer;
  /** Its incarnation number. */
  readonly incarnation: number;
  /** Its metadata. */
  readonly meta: Readonly<Record<string, string>>;
}

/**
 * `from` suspects `nodeId` at `incarnation`.
 *
 * @since 2.0.0
 */
export interface SwimSuspect {
  /** The kind. */
  readonly type: 'suspect';
  /** The suspected member. */
  readonly nodeId: string;
  /** The incarnation suspected. */
  readonly incarnation: number;
  /** Who suspects it (counted once as a confirmation). */
  readonly from: string;
}

/**
 * `from` declares `nodeId` dead at `incarnation`; when `from` is `nodeId`
 * itself, the member left gracefully.
 *
 * @since 2.0.0
 */
export interface SwimDead {
  /** The kind. */
  readonly type: 'dead';
  /** The member. */
  readonly nodeId: string;
  /** The incarnation declared dead. */
  readonly incarnation: number;
  /** Who declares it. */
  readonly from: string;
}

/**
 * One member in a full-state exchange.
 *
 * @since 2.0.0
 */
export interface SwimStateEntry {
  /** The member and its address. */
  readonly member: SwimPeer;
  /** Its incarnation number. */
  readonly incarnation: number;
  /** Its status as the sender sees it. */
  readonly status: SwimMemberStatus;
  /** Its metadata. */
  readonly meta: Readonly<Record<string, string>>;
}

/**
 * One packet of a full-state exchange. A state too large for one packet is
 * split into several, each merged on its own (merging is per member).
 *
 * @since 2.0.0
 */
export interface SwimPushPull {
  /** The kind. */
  readonly type: 'push-pull';
  /** Identifies the exchange: the answer carries the same id. */
  readonly exchange: number;
  /** Whether this is the answer (not answered again). */
  readonly reply: boolean;
  /** Whether the sender is joining through this exchange. */
  readonly join: boolean;
  /** The sender, and where to answer. */
  readonly from: SwimPeer;
  /** Members in this packet. */
  readonly entries: readonly SwimStateEntry[];
}

/**
 * A membership update, as queued for dissemination.
 *
 * @since 2.0.0
 */
export type SwimUpdate = SwimAlive | SwimSuspect | SwimDead;

/**
 * Every message.
 *
 * @since 2.0.0
 */
export type SwimMessage = SwimPing | SwimAck | SwimNack | SwimPingReq | SwimUpdate | SwimPushPull;

/**
 * A message kind.
 *
 * @since 2.0.0
 */
export type SwimMessageType = SwimMessage['type'];
