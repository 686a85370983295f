/**
 * Probe scheduling state: the one probe this node has in flight (direct ping,
 * then indirect ping-reqs after the probe timeout, then failure at the end of
 * the protocol period), and the indirect probes it relays for others.
 *
 * @packageDocumentation
 */

import type { SwimPeer } from './messages.js';

/**
 * The probe in flight.
 *
 * @since 2.0.0
 */
export interface ProbeInFlight {
  /** The ping's sequence number. */
  readonly seq: number;
  /** The member probed. */
  readonly target: string;
  /** Its incarnation when the probe started (the one suspected on failure). */
  readonly incarnation: number;
  /** `direct` until the probe timeout, then `indirect`. */
  phase: 'direct' | 'indirect';
  /** When indirect probes start (monotonic ms). */
  readonly timeoutAt: number;
  /** When the probe fails if no ack came (the end of the stretched protocol period). */
  readonly endAt: number;
  /** Nacks expected from indirect probers (Lifeguard). */
  expectedNacks: number;
  /** Nacks received. */
  nacks: number;
  /**
   * The fallback ping over a stream: `none` (not sent: off, or still in the
   * direct phase), `pending`, `acked` (the target answered: the probe succeeds
   * at the end of the period even without a datagram ack), or `failed`.
   */
  fallback: 'none' | 'pending' | 'acked' | 'failed';
}

/**
 * An indirect probe relayed for another member.
 *
 * @since 2.0.0
 */
export interface Relay {
  /** The requester's probe seq, echoed in the relayed ack or nack. */
  readonly requesterSeq: number;
  /** The requester. */
  readonly requester: SwimPeer;
  /** Whether the requester wants a nack. */
  readonly wantNack: boolean;
  /** When the relay gives up (and nacks, if wanted). */
  readonly expireAt: number;
}

/**
 * The relays in flight, bounded.
 *
 * @since 2.0.0
 */
export class RelayTable {
  /** The most relays held; see `SwimConfig.maxRelays`. */
  readonly maxRelays: number;
  readonly #bySeq = new Map<number, Relay>();
  #earliest = Number.POSITIVE_INFINITY;

  /**
   * @param maxRelays - The bound.
   */
  constructor(maxRelays: number) {
    this.maxRelays = maxRelays;
  }

  /** Relays in flight. */
  get size(): number {
    return this.#bySeq.size;
  }

  /** The earliest expiry (Infinity when none). */
  get earliestExpiry(): number {
    return this.#earliest;
  }

  /**
   * Adds a relay under this node's own ping seq.
   *
   * @param seq - The seq of the ping sent to the target.
   * @param relay - The relay.
   * @returns `false` when full (the request is dropped).
   */
  add(seq: number, relay: Relay): boolean {
    if (this.#bySeq.size >= this.maxRelays) return false;
    this.#bySeq.set(seq, relay);
    this.#earliest = Math.min(this.#earliest, relay.expireAt);
    return true;
  }

  /**
   * Takes the relay an ack answers.
   *
   * @param seq - The ack's seq.
   * @returns The relay, removed; or `undefined`.
   */
  take(seq: number): Relay | undefined {
    const relay = this.#bySeq.get(seq);
    if (relay !== undefined) this.#bySeq.delete(seq);
    return relay;
  }

  /**
   * Removes and returns the relays expired at `now`.
   *
   * @param now - Now.
   * @returns The expired relays.
   */
  expire(now: number): Relay[] {
    if (now < this.#earliest) return [];
    const expired: Relay[] = [];
    let earliest = Number.POSITIVE_INFINITY;
    for (const [seq, relay] of this.#bySeq) {
      if (relay.expireAt <= now) {
        expired.push(relay);
        this.#bySeq.delete(seq);
      } else {
        earliest = Math.min(earliest, relay.expireAt);
      }
    }
    this.#earliest = earliest;
    return expired;
  }
}
