/**
 * A tiny deterministic network for driving SwimNode state machines by hand:
 * 1 ms latency, optional drop rules, virtual time advanced deadline by deadline.
 */

import { createSeededRandom } from '../../../src/core/random/seeded-random.js';
import { resolveSwimConfig, type SwimConfig } from '../../../src/core/swim/config.js';
import {
  isSwimFallbackPing,
  SwimNode,
  type SwimEvent,
  type SwimReady,
} from '../../../src/core/swim/swim-node.js';

interface InFlight {
  at: number;
  seq: number;
  from: string;
  to: string;
  bytes: Uint8Array;
  /** A fallback ping on a stream: its probe seq (the reply comes back on the same stream). */
  fallbackSeq?: number;
}

export class SwimNet {
  now = 0;
  readonly nodes = new Map<string, SwimNode>();
  readonly events: { observer: string; event: SwimEvent }[] = [];
  /** Return true to drop a datagram from → to (a cut link, by default for streams too). */
  drop: (from: string, to: string) => boolean = () => false;
  /**
   * Return true to break a fallback-ping stream from → to (the prober gets no
   * answer). By default a stream breaks when either direction drops datagrams
   * (a cut link); set it to model datagram loss a stream would retransmit through.
   */
  streamDrop: (from: string, to: string) => boolean = (from, to) =>
    this.drop(from, to) || this.drop(to, from);
  /** Nodes that are down: they neither tick nor receive. */
  readonly down = new Set<string>();
  readonly #inFlight: InFlight[] = [];
  #seq = 0;
  readonly #random = createSeededRandom(7);

  add(id: string, config: Partial<SwimConfig> = {}, meta?: Record<string, string>): SwimNode {
    const node = new SwimNode({
      self: { nodeId: id, host: id, port: 1 },
      config: resolveSwimConfig(config),
      random: this.#random.fork(id),
      ...(meta === undefined ? {} : { meta }),
    });
    this.nodes.set(id, node);
    this.apply(id, node.start(this.now));
    return node;
  }

  apply(id: string, ready: SwimReady): void {
    for (const send of ready.sends) {
      this.#inFlight.push({
        at: this.now + 1,
        seq: this.#seq++,
        from: id,
        to: send.to.host,
        bytes: send.bytes,
        ...(isSwimFallbackPing(send) ? { fallbackSeq: send.seq } : {}),
      });
    }
    for (const event of ready.events) this.events.push({ observer: id, event });
  }

  join(id: string, seed: string): void {
    this.apply(id, this.nodes.get(id)!.join(this.now, [{ host: seed, port: 1 }]));
  }

  /** Runs until virtual time `until`. */
  run(until: number): void {
    for (let steps = 0; steps < 1_000_000; steps++) {
      let next = Number.POSITIVE_INFINITY;
      for (const [id, node] of this.nodes)
        if (!this.down.has(id)) next = Math.min(next, node.nextDeadline());
      for (const m of this.#inFlight) next = Math.min(next, m.at);
      if (next > until) break;
      this.now = Math.max(this.now, next);
      const due = this.#inFlight
        .filter((m) => m.at <= this.now)
        .sort((a, b) => a.at - b.at || a.seq - b.seq);
      for (const m of due) this.#inFlight.splice(this.#inFlight.indexOf(m), 1);
      for (const m of due) {
        if (m.fallbackSeq !== undefined) {
          this.#deliverFallback(m, m.fallbackSeq);
          continue;
        }
        const node = this.nodes.get(m.to);
        if (
          node === undefined ||
          this.down.has(m.to) ||
          this.down.has(m.from) ||
          this.drop(m.from, m.to)
        )
          continue;
        this.apply(m.to, node.receive(this.now, m.bytes));
      }
      for (const [id, node] of this.nodes) {
        if (!this.down.has(id) && node.nextDeadline() <= this.now)
          this.apply(id, node.tick(this.now));
      }
    }
    this.now = Math.max(this.now, until);
  }

  /** A stream exchange: one round trip (the reply arrives with the request, 1 ms after sending). */
  #deliverFallback(m: InFlight, seq: number): void {
    const prober = this.nodes.get(m.from);
    if (prober === undefined || this.down.has(m.from)) return;
    const target = this.nodes.get(m.to);
    const reply =
      target === undefined || this.down.has(m.to) || this.streamDrop(m.from, m.to)
        ? undefined
        : target.answerFallbackPing(this.now, m.bytes).reply;
    this.apply(m.from, prober.fallbackResult(this.now, seq, reply));
  }

  status(observer: string, subject: string): string | undefined {
    return this.nodes.get(observer)!.member(subject)?.status;
  }

  eventsOf(observer: string, type: SwimEvent['type'], subject?: string): SwimEvent[] {
    return this.events
      .filter((e) => e.observer === observer && e.event.type === type)
      .filter((e) => subject === undefined || e.event.member.nodeId === subject)
      .map((e) => e.event);
  }

  /** A cluster of `n` nodes n1..nn, all joined through n1, run until converged. */
  static cluster(n: number, config: Partial<SwimConfig> = {}): SwimNet {
    const net = new SwimNet();
    for (let i = 1; i <= n; i++) net.add(`n${i}`, config);
    for (let i = 2; i <= n; i++) net.join(`n${i}`, 'n1');
    net.run(5_000);
    return net;
  }
}
