/**
 * Addresses dialled without knowing whose they are: the configured seeds
 * (retried with backoff while no known peer has the address) and one-shot
 * probes of peers named second hand.
 *
 * @packageDocumentation
 */

import type { NetworkAddress, Timer } from '../../runtime/runtime.js';
import type { SeedState } from './peer-connection.js';
import type { PeerTable } from './peer-table.js';

/**
 * What a {@link SeedDialer} needs from its network.
 *
 * @since 2.0.0
 */
export interface SeedDialerOptions {
  /** The known peers: a seed whose address (or last peer) is known is not dialled. */
  readonly peers: PeerTable;
  /** The most probes in progress at once. */
  readonly maxProbes: number;
  /** Opens a connection for a seed or probe; its success or failure is reported back. */
  readonly connect: (seed: SeedState) => void;
  /** Arms a timer (never throws). */
  readonly setTimer: (delayMs: number, callback: () => void) => Timer;
  /** The delay before retry number `attempt` (from 0). */
  readonly backoff: (attempt: number) => number;
  /** Whether the network is closed (nothing is dialled then). */
  readonly closed: () => boolean;
}

function key(address: NetworkAddress): string {
  return `${address.host}:${address.port}`;
}

/**
 * Dials seeds and probes, and retries seeds with backoff.
 *
 * @since 2.0.0
 */
export class SeedDialer {
  readonly #options: SeedDialerOptions;
  readonly #seeds: SeedState[];
  readonly #probes = new Map<string, SeedState>();

  /**
   * @param seeds - The configured seed addresses.
   * @param options - The peer table, the dialler, the timers and the bound.
   */
  constructor(seeds: readonly NetworkAddress[], options: SeedDialerOptions) {
    this.#options = options;
    this.#seeds = seeds.map((seed) => ({
      host: seed.host,
      port: seed.port,
      dialing: false,
      attempt: 0,
      timer: undefined,
      self: false,
      peerId: undefined,
      retry: true,
    }));
  }

  /** Dials every seed that is neither known nor already being dialled or waiting to be retried. */
  dialAll(): void {
    for (const seed of this.#seeds) this.#dial(seed);
  }

  /** Schedules a retry of every seed not known (after a peer was lost). */
  retryAll(): void {
    for (const seed of this.#seeds) this.#schedule(seed);
  }

  /**
   * A dial for a seed or probe failed (or its connection closed before a hello).
   *
   * @param seed - The seed or probe.
   */
  failed(seed: SeedState): void {
    seed.dialing = false;
    if (seed.retry) this.#schedule(seed);
    else this.#probes.delete(key(seed));
  }

  /**
   * A dial for a seed or probe reached a peer.
   *
   * @param seed - The seed or probe.
   * @param peerId - The peer that answered.
   */
  greeted(seed: SeedState, peerId: string): void {
    seed.dialing = false;
    seed.attempt = 0;
    seed.peerId = peerId;
    if (!seed.retry) this.#probes.delete(key(seed));
  }

  /**
   * Dials an address once (a peer named second hand, lost recently), unless
   * it is being probed already or `maxProbes` are in progress.
   *
   * @param address - Where the peer was said to listen.
   */
  probe(address: NetworkAddress): void {
    const probeKey = key(address);
    if (
      this.#options.closed() ||
      this.#probes.has(probeKey) ||
      this.#probes.size >= this.#options.maxProbes
    ) {
      return;
    }
    const probe: SeedState = {
      host: address.host,
      port: address.port,
      dialing: true,
      attempt: 0,
      timer: undefined,
      self: false,
      peerId: undefined,
      retry: false,
    };
    this.#probes.set(probeKey, probe);
    this.#options.connect(probe);
  }

  /** Cancels every retry and forgets the probes. */
  cancel(): void {
    for (const seed of this.#seeds) {
      seed.timer?.cancel();
      seed.timer = undefined;
    }
    this.#probes.clear();
  }

  #dial(seed: SeedState): void {
    if (this.#options.closed() || seed.self || seed.dialing || seed.timer !== undefined) return;
    if (this.#satisfied(seed)) return;
    seed.dialing = true;
    this.#options.connect(seed);
  }

  #schedule(seed: SeedState): void {
    if (this.#options.closed() || seed.self || seed.dialing || seed.timer !== undefined) return;
    if (this.#satisfied(seed)) return;
    const delay = this.#options.backoff(seed.attempt);
    seed.attempt += 1;
    seed.timer = this.#options.setTimer(delay, () => {
      seed.timer = undefined;
      this.#dial(seed);
    });
  }

  #satisfied(seed: SeedState): boolean {
    const { peers } = this.#options;
    if (seed.peerId !== undefined && peers.get(seed.peerId) !== undefined) return true;
    return peers.knownAt(seed);
  }
}
