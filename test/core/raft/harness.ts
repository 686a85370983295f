/** A deterministic in-memory network of pure Raft cores for the unit tests. */

import { createSeededRandom } from '../../../src/core/random/seeded-random.js';
import { RaftNode } from '../../../src/core/raft/raft-node.js';
import type { RaftNodeOptions } from '../../../src/core/raft/raft-node-options.js';
import type {
  RaftEntry,
  RaftMessage,
  RaftReadState,
  RaftReady,
} from '../../../src/core/raft/types.js';

export interface HarnessOptions extends Partial<Omit<RaftNodeOptions, 'id' | 'random'>> {
  readonly observers?: readonly string[];
  readonly seed?: number;
}

/** Nodes, a cut matrix, and a loop that runs every Ready to quiescence. */
export class RaftHarness {
  readonly nodes = new Map<string, RaftNode>();
  readonly applied = new Map<string, RaftEntry[]>();
  readonly readStates = new Map<string, RaftReadState[]>();
  readonly readies = new Map<string, RaftReady[]>();
  readonly sent: RaftMessage[] = [];
  readonly #cut = new Set<string>();
  /** Drops a message when it returns true. */
  filter: ((message: RaftMessage) => boolean) | undefined;

  constructor(ids: readonly string[], options: HarnessOptions = {}) {
    const random = createSeededRandom(options.seed ?? 1);
    const observers = options.observers ?? [];
    for (const id of ids) {
      this.add(id, {
        ...options,
        random: random.fork(id),
        membership: {
          voters: ids.filter((v) => !observers.includes(v)),
          observers: [...observers],
        },
      });
    }
  }

  add(id: string, options: Omit<RaftNodeOptions, 'id'>): RaftNode {
    const node = new RaftNode({ ...options, id });
    this.nodes.set(id, node);
    this.applied.set(id, []);
    this.readStates.set(id, []);
    this.readies.set(id, []);
    return node;
  }

  node(id: string): RaftNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** Cuts both directions between `a` and every node in `others`. */
  isolate(a: string, others: readonly string[] = [...this.nodes.keys()]): void {
    for (const b of others) {
      if (a === b) continue;
      this.#cut.add(`${a}>${b}`);
      this.#cut.add(`${b}>${a}`);
    }
  }

  heal(): void {
    this.#cut.clear();
  }

  /** Runs Readies and delivers messages until nothing is left (bounded). */
  process(maxRounds = 1_000): void {
    for (let round = 0; round < maxRounds; round++) {
      const outgoing: RaftMessage[] = [];
      for (const [id, node] of this.nodes) {
        if (!node.hasReady()) continue;
        const ready = node.ready();
        node.advance();
        this.readies.get(id)?.push(ready);
        this.applied.get(id)?.push(...ready.committed);
        this.readStates.get(id)?.push(...ready.readStates);
        outgoing.push(...ready.messages);
      }
      if (outgoing.length === 0 && ![...this.nodes.values()].some((n) => n.hasReady())) return;
      for (const message of outgoing) {
        this.sent.push(message);
        if (this.#cut.has(`${message.from}>${message.to}`)) continue;
        if (this.filter?.(message) === true) continue;
        this.nodes.get(message.to)?.step(message);
      }
    }
    throw new Error('the cluster did not quiesce');
  }

  /** Ticks the given nodes (default all) `count` times, processing after each. */
  tick(count: number, ids: readonly string[] = [...this.nodes.keys()]): void {
    for (let i = 0; i < count; i++) {
      for (const id of ids) this.node(id).tick();
      this.process();
    }
  }

  /** Makes `id` campaign and runs to quiescence. */
  elect(id: string): void {
    this.node(id).campaign();
    this.process();
  }

  leaders(): RaftNode[] {
    return [...this.nodes.values()].filter((n) => n.role === 'leader');
  }

  /** Commands applied by `id`, as text. */
  commands(id: string): string[] {
    return (this.applied.get(id) ?? [])
      .filter((e) => e.type === 'command')
      .map((e) => new TextDecoder().decode(e.data));
  }
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
