/**
 * The benchmark convention of DESIGN.md: every suite states its workload and its
 * peer, and reports rows that compare against that peer in the same run (a
 * ratio), because these machines are noisy. A target that is not met is
 * reported as not met.
 */

/** One measured row. */
export interface BenchRow {
  /** What was measured, for example `ring @100 nodes`. */
  readonly name: string;
  /** The quantity, for example `selections/s` or `max/mean`. */
  readonly metric: string;
  /** The unit of `value`. */
  readonly unit: string;
  /** The measured value. */
  readonly value: number;
  /** Whether a higher or a lower value is better. */
  readonly better: 'higher' | 'lower';
  /** The peer or baseline measured beside it, when there is one. */
  readonly peer?: string;
  /** The peer's value for the same metric, in the same run. */
  readonly peerValue?: number;
  /** The goal the issue sets for this row, in words, for example `≥ 10× hashring`. */
  readonly target?: string;
  /** Whether the goal was met; present exactly when `target` is. */
  readonly met?: boolean;
}

/** A row as written to JSON: with the ratio to its peer computed. */
export interface BenchRowOutput extends BenchRow {
  /** `value / peerValue`, when there is a peer. */
  readonly ratio?: number;
}

/** Options every suite receives. */
export interface BenchOptions {
  /** Finish in under a minute on two cores: fewer keys, fewer rounds. */
  readonly quick: boolean;
}

/** A benchmark suite: `npm run bench -- <name>`. */
export interface BenchSuite {
  readonly name: string;
  /** The workload, in words, printed with the results. */
  workload(options: BenchOptions): string;
  /** Runs the suite and returns its rows. */
  run(options: BenchOptions, log: (line: string) => void): Promise<BenchRow[]>;
}

/** Adds the ratio to a row that has a peer value. */
export function withRatio(row: BenchRow): BenchRowOutput {
  if (row.peerValue === undefined || row.peerValue === 0) return row;
  return { ...row, ratio: row.value / row.peerValue };
}

/** Formats rows as an aligned text table. */
export function formatTable(rows: readonly BenchRowOutput[]): string {
  const header = ['name', 'metric', 'value', 'peer', 'peer value', 'ratio', 'target', 'met'];
  const cells = rows.map((row) => [
    row.name,
    row.metric,
    `${formatNumber(row.value)} ${row.unit}`.trim(),
    row.peer ?? '',
    row.peerValue === undefined ? '' : formatNumber(row.peerValue),
    row.ratio === undefined ? '' : `${formatNumber(row.ratio)}×`,
    row.target ?? '',
    row.met === undefined ? '' : row.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((line) => (line[column] ?? '').length)),
  );
  const format = (line: readonly string[]) =>
    line
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    format(header),
    format(widths.map((width) => '-'.repeat(width))),
    ...cells.map(format),
  ].join('\n');
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (magnitude >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 1) return value.toFixed(3);
  return value.toPrecision(3);
}

/**
 * Runs `work` repeatedly for at least `minMs` and returns operations per second,
 * where each call of `work` performs `opsPerCall` operations.
 */
export function measureRate(work: () => void, opsPerCall: number, minMs: number): number {
  work(); // warm up: let the JIT settle before timing
  let calls = 0;
  const started = process.hrtime.bigint();
  let elapsedNs = 0n;
  do {
    work();
    calls += 1;
    elapsedNs = process.hrtime.bigint() - started;
  } while (elapsedNs < BigInt(minMs) * 1_000_000n);
  return (calls * opsPerCall) / (Number(elapsedNs) / 1e9);
}
