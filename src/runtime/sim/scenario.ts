/**
 * Scenarios: a named, seeded set-up of a {@link Simulation}, and the runner
 * that tries many seeds and replays one.
 *
 * @packageDocumentation
 */

import type { SimulationFailure } from './kernel.js';
import { Simulation, type SimulationResult } from './simulation.js';
import type { SimulationOptions } from './options.js';

/**
 * A scenario: builds nodes, faults, invariants and final checks on a fresh
 * simulation for a given seed.
 *
 * @since 2.0.0
 */
export interface SimScenario {
  /** Name used on the command line. */
  readonly name: string;
  /** One line on what it exercises. */
  readonly description: string;
  /** Virtual time one run lasts, in ms. */
  readonly durationMs: number;
  /** Options for the simulation (without the seed); default none. */
  readonly options?: Omit<SimulationOptions, 'seed'>;
  /**
   * Sets the simulation up: adds nodes, schedules faults, adds invariants.
   *
   * @param sim - A fresh simulation with the run's seed.
   */
  setup(sim: Simulation): void;
}

/**
 * One scenario run.
 *
 * @since 2.0.0
 */
export interface ScenarioRun {
  /** The seed. */
  readonly seed: number | string;
  /** The result, final checks included. */
  readonly result: SimulationResult;
  /** The failure, when the run failed. */
  readonly failure?: SimulationFailure;
  /** The trace digest: equal for equal runs. */
  readonly digest: string;
  /** The simulation, for printing its trace. */
  readonly sim: Simulation;
}

/**
 * Runs a scenario once: set-up, `durationMs` of virtual time, final checks.
 *
 * @param scenario - The scenario.
 * @param seed - The seed.
 * @param overrides - Option overrides (e.g. `traceCapacity`).
 * @returns The run.
 * @since 2.0.0
 */
export async function runScenario(
  scenario: SimScenario,
  seed: number | string,
  overrides: Omit<SimulationOptions, 'seed'> = {},
): Promise<ScenarioRun> {
  const sim = new Simulation({ ...scenario.options, ...overrides, seed });
  scenario.setup(sim);
  await sim.runFor(scenario.durationMs);
  const result = sim.runFinalChecks();
  return Object.freeze({
    seed,
    result,
    ...(result.failure === undefined ? {} : { failure: result.failure }),
    digest: sim.trace.digest,
    sim,
  });
}

/**
 * Runs a scenario over seeds `from`, `from + 1`, ... and returns the failing runs.
 *
 * @param scenario - The scenario.
 * @param options - Seeds to try, and a progress callback.
 * @param options.from - First seed; default 1.
 * @param options.count - How many seeds.
 * @param options.onRun - Called after each run.
 * @param options.traceCapacity - Trace kept per run; default 0 (fast; replay one seed to see it).
 * @returns The failing runs, in seed order.
 * @since 2.0.0
 */
export async function findFailingSeeds(
  scenario: SimScenario,
  options: {
    from?: number;
    count: number;
    onRun?: (run: ScenarioRun) => void;
    traceCapacity?: number;
  },
): Promise<ScenarioRun[]> {
  const failing: ScenarioRun[] = [];
  const from = options.from ?? 1;
  for (let seed = from; seed < from + options.count; seed++) {
    const run = await runScenario(scenario, seed, { traceCapacity: options.traceCapacity ?? 0 });
    options.onRun?.(run);
    if (run.failure !== undefined) failing.push(run);
  }
  return failing;
}
