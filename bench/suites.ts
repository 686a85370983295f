/** Every benchmark suite, by name. */

import type { BenchSuite } from './harness.js';

/** The registered suites; `npm run bench -- <name>` runs one. */
export const suites: readonly BenchSuite[] = [];
