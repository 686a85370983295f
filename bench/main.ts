/**
 * `npm run bench -- <suite> [--quick] [--json <file>]`: runs one benchmark suite,
 * prints its workload and a table, and optionally writes the rows as JSON.
 */

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatTable, withRatio, type BenchSuite } from './harness.js';
import { suites } from './suites.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const usage = `usage: npm run bench -- <suite> [--quick] [--json <file>]
suites: ${suites.map((suite) => suite.name).join(', ')}`;

const suiteName = positionals[0];
if (values.help || suiteName === undefined) {
  process.stdout.write(`${usage}\n`);
  process.exit(values.help ? 0 : 2);
}
const suite: BenchSuite | undefined = suites.find((candidate) => candidate.name === suiteName);
if (!suite) {
  process.stderr.write(`unknown suite '${suiteName}'\n${usage}\n`);
  process.exit(2);
}

const options = { quick: values.quick };
const workload = suite.workload(options);
process.stdout.write(
  `suite: ${suite.name}${options.quick ? ' (quick)' : ''}\nworkload: ${workload}\n\n`,
);
const rows = (await suite.run(options, (line) => process.stdout.write(`${line}\n`))).map(withRatio);
process.stdout.write(`\n${formatTable(rows)}\n`);
const unmet = rows.filter((row) => row.met === false);
if (unmet.length > 0) {
  process.stdout.write(
    `\n${unmet.length} target(s) not met: ${unmet.map((row) => row.name).join('; ')}\n`,
  );
}
if (values.json !== undefined) {
  writeFileSync(
    values.json,
    `${JSON.stringify({ suite: suite.name, workload, results: rows }, null, 2)}\n`,
  );
  process.stdout.write(`wrote ${values.json}\n`);
}
