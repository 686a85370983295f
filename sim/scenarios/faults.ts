/**
 * Helpers shared by the scenarios: a random fault schedule derived from the
 * simulation's seed, and an independent record of which links a partition
 * cuts, so invariants do not trust the simulator's own bookkeeping.
 */

import type { PartitionSpec, Simulation } from '../../src/runtime/sim/simulation.js';

/** Which directed links are cut now, as the scenario itself computed them. */
export class CutRecord {
  readonly #counts = new Map<string, number>();

  /** Whether `from → to` is cut. */
  isCut(from: string, to: string): boolean {
    return (this.#counts.get(`${from}>${to}`) ?? 0) > 0;
  }

  /** Starts a partition in the simulation and records its cuts; heals after `durationMs`. */
  apply(sim: Simulation, spec: PartitionSpec, durationMs: number): void {
    const pairs = cutPairs(sim.nodeIds, spec);
    for (const pair of pairs) this.#counts.set(pair, (this.#counts.get(pair) ?? 0) + 1);
    const handle = sim.partition(spec);
    sim.after(durationMs, () => {
      handle.heal();
      for (const pair of pairs) this.#counts.set(pair, (this.#counts.get(pair) ?? 1) - 1);
    });
  }
}

function cutPairs(ids: readonly string[], spec: PartitionSpec): string[] {
  const pairs: string[] = [];
  switch (spec.kind) {
    case 'split': {
      const groupOf = (id: string): number => {
        const g = spec.groups.findIndex((group) => group.includes(id));
        return g === -1 ? spec.groups.length : g;
      };
      for (const a of ids)
        for (const b of ids) if (a !== b && groupOf(a) !== groupOf(b)) pairs.push(`${a}>${b}`);
      return pairs;
    }
    case 'isolate': {
      const direction = spec.direction ?? 'both';
      for (const other of ids) {
        if (other === spec.node) continue;
        if (direction !== 'inbound') pairs.push(`${spec.node}>${other}`);
        if (direction !== 'outbound') pairs.push(`${other}>${spec.node}`);
      }
      return pairs;
    }
    case 'one-way':
      for (const a of spec.from) for (const b of spec.to) if (a !== b) pairs.push(`${a}>${b}`);
      return pairs;
  }
}

/** Options of {@link scheduleRandomFaults}. */
export interface FaultPlan {
  /** Faults to schedule. */
  readonly count: number;
  /** Earliest fault start (virtual ms). */
  readonly fromMs: number;
  /** Every fault has ended by then. */
  readonly untilMs: number;
  /** Allow crashes (with a restart 0.5–5 s later). */
  readonly crashes?: boolean;
}

/**
 * Schedules `count` random faults (partitions of every kind, crash+restart,
 * pauses, clock offsets), all chosen from the simulation's scenario stream.
 */
export function scheduleRandomFaults(sim: Simulation, cuts: CutRecord, plan: FaultPlan): void {
  const random = sim.random;
  const ids = sim.nodeIds;
  const pick = (): string => ids[random.int(ids.length)] as string;
  for (let i = 0; i < plan.count; i++) {
    const span = plan.untilMs - plan.fromMs;
    const duration = 200 + random.int(Math.max(1, Math.floor(Math.min(15_000, span / 3))));
    const at = plan.fromMs + random.int(Math.max(1, Math.floor(span - duration)));
    const kind = random.int(plan.crashes === false ? 5 : 6);
    sim.schedule(at, () => {
      switch (kind) {
        case 0: {
          const group = ids.filter(() => random.next() < 0.5);
          cuts.apply(sim, { kind: 'split', groups: [group] }, duration);
          break;
        }
        case 1: {
          const directions = ['both', 'inbound', 'outbound'] as const;
          const direction = directions[random.int(3)] ?? 'both';
          cuts.apply(sim, { kind: 'isolate', node: pick(), direction }, duration);
          break;
        }
        case 2:
          cuts.apply(sim, { kind: 'one-way', from: [pick()], to: [pick(), pick()] }, duration);
          break;
        case 3:
          sim.pause(pick(), duration);
          break;
        case 4:
          sim.setClockOffset(pick(), random.int(20_000) - 10_000);
          break;
        default: {
          const id = pick();
          sim.crash(id);
          sim.after(Math.min(duration, 5_000), () => {
            sim.restart(id);
          });
        }
      }
    });
  }
}
