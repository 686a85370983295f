/**
 * `npm run bench -- governance` (issue 6): decisions per second and p50/p99 decision
 * latency of {@link CelAutoGovernance} with 10, 100 and 1,000 policies, against
 * `@cedar-policy/cedar-wasm` (its preparsed, stateful API) and `casbin` (ABAC with
 * `eval()` matchers) encoding the same rules, and beside them the ceiling: the same rules
 * as plain JavaScript closures in a loop. Every engine decides every request of the
 * workload once before timing and all must agree (CEL and closures also on the required
 * actions); a mismatch throws.
 *
 * Each engine at each size runs in its own fresh process (this file, re-run with
 * `DW_GOVERNANCE_BENCH_CHILD` set), so no engine's JIT state or garbage weighs on another,
 * and because on Node 20 the V8 deoptimizer now and then aborts a process that mixes the
 * WebAssembly peer with the others ("unreachable code" in `DoComputeBuiltinContinuation`);
 * a crashed child is run again, at most twice, and the log says so. The children report
 * every decision; the parent checks agreement. A disagreement is never retried.
 *
 * CEL is measured through `evaluateSync` (the synchronous core of `evaluate`, with its
 * context validation and event check); extra rows give `evaluate` (async), the CEL
 * engine without its index, and a naive loop over `@bufbuild/cel`'s planned programs.
 */

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { newEnforcer, newModelFromString, StringAdapter, type Enforcer } from 'casbin';
import type { GovernanceAction } from '../src/contracts/auto-governance.js';
import { CelAutoGovernance } from '../src/governance/policy/cel-auto-governance.js';
import {
  decide,
  planPolicy,
  planPolicySet,
  type PolicySetPlan,
} from '../src/governance/policy/planner.js';
import { toActivation } from '../src/governance/policy/schema.js';
import type { BenchOptions, BenchRow, BenchSuite } from './harness.js';
import {
  NOW,
  generateRequests,
  generateRules,
  type FlatRequest,
  type WorkloadRequest,
  type WorkloadRule,
} from './governance-workload.js';

const SIZES = [10, 100, 1000] as const;
const TARGET_SIZE = 100;
const PEER_SPEEDUP = 20;
const CEILING_FRACTION = 1 / 3;
const P99_TARGET_US = 25;
const SEED = 0x6a09e667;

interface Settings {
  /**
   * Requests in the workload of a size (each engine decides each once for the agreement
   * check; fewer at 1,000 policies, where the peers take milliseconds per decision).
   */
  readonly requests: (size: number) => number;
  /** How long each throughput measurement runs, ms, for fast engines and slow peers. */
  readonly rateMs: number;
  /** Latency samples for fast engines; slow peers take a tenth. */
  readonly latencySamples: number;
}

function settings(options: BenchOptions): Settings {
  return options.quick
    ? { requests: (size) => (size >= 1000 ? 150 : 600), rateMs: 250, latencySamples: 10_000 }
    : {
        requests: (size) => (size >= 1000 ? 1_000 : 4_000),
        rateMs: 2_000,
        latencySamples: 100_000,
      };
}

/** One engine: decides request `i` and returns whether it is allowed. */
interface Engine {
  readonly name: string;
  decide(request: WorkloadRequest): boolean;
  /** Slow engines get fewer latency samples. */
  readonly slow: boolean;
}

interface Measured {
  readonly rate: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

function measure(engine: Engine, requests: readonly WorkloadRequest[], s: Settings): Measured {
  let cursor = 0;
  let sink = 0;
  const batch = engine.slow ? 20 : 1000;
  const work = () => {
    for (let i = 0; i < batch; i += 1) {
      if (engine.decide(requests[cursor] as WorkloadRequest)) sink += 1;
      cursor = (cursor + 1) % requests.length;
    }
  };
  // Warm up for a tenth of the measuring time, so the JIT has settled.
  const warmUntil = process.hrtime.bigint() + BigInt(s.rateMs) * 100_000n;
  do work();
  while (process.hrtime.bigint() < warmUntil);
  let calls = 0;
  const started = process.hrtime.bigint();
  let elapsed = 0n;
  do {
    work();
    calls += 1;
    elapsed = process.hrtime.bigint() - started;
  } while (elapsed < BigInt(s.rateMs) * 1_000_000n);
  const rate = (calls * batch) / (Number(elapsed) / 1e9);
  // Slow engines: as many samples as fit in about the throughput time, at least 50.
  const samples = engine.slow
    ? Math.max(
        50,
        Math.min(Math.floor(s.latencySamples / 50), Math.floor((rate * s.rateMs) / 1000)),
      )
    : s.latencySamples;
  const latencies = new Float64Array(samples);
  for (let i = 0; i < samples; i += 1) {
    const request = requests[cursor] as WorkloadRequest;
    cursor = (cursor + 1) % requests.length;
    const t0 = process.hrtime.bigint();
    if (engine.decide(request)) sink += 1;
    latencies[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  latencies.sort();
  if (sink < 0) throw new Error('unreachable');
  return { rate, p50Us: percentile(latencies, 0.5), p99Us: percentile(latencies, 0.99) };
}

/** The ceiling: the rules as closures in priority order, combined by the same rules. */
function closureEngine(rules: readonly WorkloadRule[]): {
  decide(request: FlatRequest): { allowed: boolean; required: GovernanceAction[] };
} {
  const ordered = [...rules].sort((a, b) => b.priority - a.priority);
  return {
    decide(request) {
      let allowPriority: number | undefined;
      let denied = false;
      const required: GovernanceAction[] = [];
      for (const rule of ordered) {
        if (!rule.closure(request)) continue;
        const action = rule.action;
        if (action === 'allow') allowPriority ??= rule.priority;
        else if (action === 'deny') {
          if (allowPriority === undefined || allowPriority <= rule.priority) denied = true;
        } else if (!required.includes(action)) required.push(action);
      }
      return { allowed: !denied, required };
    },
  };
}

async function celEngine(rules: readonly WorkloadRule[]): Promise<CelAutoGovernance> {
  const governance = new CelAutoGovernance({ now: () => NOW, maxPolicies: 2048 });
  for (const rule of rules) {
    await governance.registerPolicy({
      policyId: rule.id,
      name: rule.id,
      description: rule.cel,
      type: 'access',
      expression: rule.cel,
      action: rule.action,
      priority: rule.priority,
      isEnabled: true,
    });
  }
  return governance;
}

function celPlan(rules: readonly WorkloadRule[]): PolicySetPlan {
  const limits = { maxEvaluationCost: 10_000, maxListItems: 256, maxMapEntries: 256 };
  return planPolicySet(
    rules.map((rule) =>
      planPolicy(
        {
          policyId: rule.id,
          name: rule.id,
          description: rule.cel,
          type: 'access',
          expression: rule.cel,
          action: rule.action,
          priority: rule.priority,
          isEnabled: true,
        },
        limits,
      ),
    ),
    1,
  );
}

function cedarEngine(rules: readonly WorkloadRule[], policySetId: string): void {
  const staticPolicies: Record<string, string> = {};
  for (const rule of rules) staticPolicies[rule.id] = rule.cedar;
  const answer = cedar.preparsePolicySet(policySetId, { staticPolicies });
  if (answer.type !== 'success') {
    throw new Error(`cedar refused the policies: ${JSON.stringify(answer.errors).slice(0, 500)}`);
  }
}

function cedarDecide(request: WorkloadRequest): boolean {
  const answer = cedar.statefulIsAuthorized(
    request.cedar as unknown as Parameters<typeof cedar.statefulIsAuthorized>[0],
  );
  if (answer.type !== 'success') {
    throw new Error(`cedar failed: ${JSON.stringify(answer.errors).slice(0, 500)}`);
  }
  if (answer.response.diagnostics.errors.length > 0) {
    throw new Error(`cedar policy errors: ${JSON.stringify(answer.response.diagnostics.errors)}`);
  }
  return answer.response.decision === 'allow';
}

const CASBIN_MODEL = `
[request_definition]
r = sub, obj, act, env

[policy_definition]
p = sub_rule, eft

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = eval(p.sub_rule)
`;

async function casbinEngine(rules: readonly WorkloadRule[]): Promise<Enforcer> {
  const lines = rules.map(
    (rule) => `p, "${rule.casbin}", ${rule.action === 'deny' ? 'deny' : 'allow'}`,
  );
  return newEnforcer(newModelFromString(CASBIN_MODEL), new StringAdapter(lines.join('\n')));
}

/** The engines, by name; `cel` is the subject, the others its peers and references. */
const ENGINE_NAMES = [
  'cel',
  'closures',
  'cel unindexed',
  'naive cel loop',
  'cedar',
  'casbin',
] as const;
type EngineName = (typeof ENGINE_NAMES)[number];

/** What a child process reports about one engine at one size. */
interface EngineReport extends Measured {
  /** Per request of the workload: `1` or `0`, then `|` and the sorted required actions when known. */
  readonly decisions: readonly string[];
  /** `cel` only: the async `evaluate` rate. */
  readonly asyncRate?: number;
  /** `cel` only: the mean number of index candidates per decision. */
  readonly meanCandidates?: number;
}

const LIMITS = { maxEvaluationCost: 10_000, maxListItems: 256, maxMapEntries: 256 };

/** Builds one engine over a rule set; returns how it decides (allowed, and actions when known). */
async function buildEngine(
  name: EngineName,
  rules: readonly WorkloadRule[],
  policySetId: string,
): Promise<(request: WorkloadRequest) => string> {
  const actions = (list: readonly GovernanceAction[]) => [...list].sort().join(',');
  switch (name) {
    case 'cel': {
      const governance = await celEngine(rules);
      return (r) => {
        const result = governance.evaluateSync(r.context);
        return `${result.isAllowed ? 1 : 0}|${actions(result.requiredActions)}`;
      };
    }
    case 'closures': {
      const closures = closureEngine(rules);
      return (r) => {
        const result = closures.decide(r.flat);
        return `${result.allowed ? 1 : 0}|${actions(result.required)}`;
      };
    }
    case 'cel unindexed':
    case 'naive cel loop': {
      const plan = celPlan(rules);
      const options =
        name === 'cel unindexed'
          ? { ...LIMITS, useIndex: false }
          : { ...LIMITS, useIndex: false, mode: 'library' as const };
      return (r) => {
        const result = decide(plan, toActivation(r.context, NOW, LIMITS), options).result;
        return `${result.isAllowed ? 1 : 0}|${actions(result.requiredActions)}`;
      };
    }
    case 'cedar':
      cedarEngine(rules, policySetId);
      return (r) => (cedarDecide(r) ? '1' : '0');
    case 'casbin': {
      const enforcer = await casbinEngine(rules);
      return (r) => (enforcer.enforceSync(...r.casbin) ? '1' : '0');
    }
  }
}

/** In a child process: decides every request once, then measures the engine. */
async function runEngine(size: number, name: EngineName, s: Settings): Promise<EngineReport> {
  const rules = generateRules(size);
  const policySetId = `governance-bench-${size}`;
  const requests = generateRequests(s.requests(size), size, SEED + size, policySetId);
  const decideOne = await buildEngine(name, rules, policySetId);
  const decisions = requests.map(decideOne);
  const slow =
    name === 'cedar' ||
    name === 'casbin' ||
    name === 'naive cel loop' ||
    (name === 'cel unindexed' && size >= 1000);
  const measured = measure(
    { name, slow, decide: (r) => decideOne(r).startsWith('1') },
    requests,
    s,
  );
  if (name !== 'cel') return { ...measured, decisions };
  const governance = await celEngine(rules);
  let cursor = 0;
  let count = 0;
  const started = process.hrtime.bigint();
  while (process.hrtime.bigint() - started < BigInt(s.rateMs) * 1_000_000n) {
    for (let i = 0; i < 200; i += 1) {
      await governance.evaluate((requests[cursor] as WorkloadRequest).context);
      cursor = (cursor + 1) % requests.length;
    }
    count += 200;
  }
  const asyncRate = count / (Number(process.hrtime.bigint() - started) / 1e9);
  const plan = celPlan(rules);
  let candidates = 0;
  for (const request of requests) {
    const explained = decide(plan, toActivation(request.context, NOW, LIMITS), {
      ...LIMITS,
      trace: true,
    });
    candidates += explained.trace?.length ?? 0;
  }
  return { ...measured, decisions, asyncRate, meanCandidates: candidates / requests.length };
}

/** In the parent: every engine of one size, each in its own process; checks agreement; rows. */
function runSize(size: number, options: BenchOptions, log: (line: string) => void): BenchRow[] {
  const results = new Map<EngineName, EngineReport>();
  for (const name of ENGINE_NAMES) {
    const report = runIsolated(size, name, options, log);
    results.set(name, report);
    log(
      `  ${name.padEnd(15)} ${Math.round(report.rate).toString().padStart(9)} decisions/s` +
        `  p50 ${report.p50Us.toFixed(1)} µs  p99 ${report.p99Us.toFixed(1)} µs`,
    );
  }
  const get = (name: EngineName) => results.get(name) as EngineReport;
  const cel = get('cel');
  const requests = generateRequests(
    settings(options).requests(size),
    size,
    SEED + size,
    `governance-bench-${size}`,
  );
  let denied = 0;
  for (const [index, decision] of cel.decisions.entries()) {
    const allowed = decision.slice(0, 1);
    for (const name of ENGINE_NAMES) {
      const other = get(name).decisions[index] ?? '';
      // Engines that report required actions must agree on them too.
      const agrees = other.includes('|') ? other === decision : other === allowed;
      if (!agrees) {
        throw new Error(
          `governance bench: ${name} disagrees with cel at ${size} policies on request ` +
            `${index}: ${JSON.stringify(other)} vs ${JSON.stringify(decision)} for ` +
            JSON.stringify(requests[index]?.context),
        );
      }
    }
    if (allowed === '0') denied += 1;
  }
  log(
    `${size} policies: all engines agree on ${cel.decisions.length} requests (${denied} denied); ` +
      `the index leaves ${(cel.meanCandidates ?? 0).toFixed(1)} candidates per decision`,
  );

  const atTarget = size === TARGET_SIZE;
  const rows: BenchRow[] = [];
  const rateRow = (peer: EngineName, target?: string, met?: boolean): BenchRow => ({
    name: `cel @${size}`,
    metric: 'decisions/s',
    unit: '/s',
    value: cel.rate,
    better: 'higher',
    peer,
    peerValue: get(peer).rate,
    ...(target === undefined ? {} : { target, met: met ?? false }),
  });
  rows.push(
    rateRow(
      'cedar',
      atTarget ? `≥ ${PEER_SPEEDUP}× cedar` : undefined,
      cel.rate >= PEER_SPEEDUP * get('cedar').rate,
    ),
    rateRow(
      'casbin',
      atTarget ? `≥ ${PEER_SPEEDUP}× casbin` : undefined,
      cel.rate >= PEER_SPEEDUP * get('casbin').rate,
    ),
    rateRow(
      'closures',
      atTarget ? '≥ 1/3 of closures' : undefined,
      cel.rate >= CEILING_FRACTION * get('closures').rate,
    ),
    rateRow('naive cel loop'),
    rateRow('cel unindexed'),
    {
      name: `cel @${size}`,
      metric: 'p99 latency',
      unit: 'µs',
      value: cel.p99Us,
      better: 'lower',
      peer: 'cedar',
      peerValue: get('cedar').p99Us,
      ...(atTarget ? { target: `≤ ${P99_TARGET_US} µs`, met: cel.p99Us <= P99_TARGET_US } : {}),
    },
    {
      name: `cel @${size}`,
      metric: 'p50 latency',
      unit: 'µs',
      value: cel.p50Us,
      better: 'lower',
      peer: 'cedar',
      peerValue: get('cedar').p50Us,
    },
    {
      name: `cel evaluate() async @${size}`,
      metric: 'decisions/s',
      unit: '/s',
      value: cel.asyncRate ?? 0,
      better: 'higher',
      peer: 'cel',
      peerValue: cel.rate,
    },
  );
  for (const name of ['closures', 'cedar', 'casbin', 'naive cel loop'] as const) {
    const measured = get(name);
    rows.push(
      {
        name: `${name} @${size}`,
        metric: 'decisions/s',
        unit: '/s',
        value: measured.rate,
        better: 'higher',
      },
      {
        name: `${name} @${size}`,
        metric: 'p99 latency',
        unit: 'µs',
        value: measured.p99Us,
        better: 'lower',
      },
    );
  }
  return rows;
}

const CHILD = 'DW_GOVERNANCE_BENCH_CHILD';
const ATTEMPTS = 3;

/** Runs one engine at one size in a fresh process and returns its report. */
function runIsolated(
  size: number,
  engine: EngineName,
  options: BenchOptions,
  log: (line: string) => void,
): EngineReport {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url)],
      {
        env: {
          ...process.env,
          [CHILD]: JSON.stringify({ size, engine, quick: options.quick }),
        },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 256 * 1024 * 1024,
      },
    );
    if (child.status === 0) return JSON.parse(child.stdout) as EngineReport;
    const crashed = child.signal !== null || (child.status ?? 0) >= 128;
    if (!crashed) {
      throw new Error(`governance bench: ${engine} failed at ${size} policies (see above)`);
    }
    log(
      `  ${engine} at ${size} policies died (${child.signal ?? `exit ${child.status}`}, a V8 ` +
        `abort); ${attempt < ATTEMPTS ? 'running it again in a fresh process' : 'giving up'}`,
    );
  }
  throw new Error(`governance bench: ${engine} at ${size} policies crashed ${ATTEMPTS} times`);
}

/** The governance suite. */
export const governanceSuite: BenchSuite = {
  name: 'governance',
  workload(options) {
    const s = settings(options);
    return (
      `${SIZES.join(', ')} policies (about 7 per tenant: admin-only delete, region residency ` +
      'for write/replicate, PII read needs pii-reader, no cross-tenant access but support, ' +
      'legal hold / retention blocks delete, encrypt confidential, audit stale reads; 2 global ' +
      `rules; a catch-all allow) over ${s.requests(100)} generated requests (${s.requests(1000)} at ` +
      '1000 policies; 50% read, 20% write, 15% delete, 10% replicate, 5% list; 85% same-tenant ' +
      'users). Each size runs in a fresh process. Peers: @cedar-policy/cedar-wasm ' +
      'statefulIsAuthorized on a preparsed policy set, casbin enforceSync with eval() ABAC ' +
      'matchers, and the ceiling: the same rules as plain JS closures. All engines must agree ' +
      'on every request.'
    );
  },
  run(options, log) {
    const rows: BenchRow[] = [];
    for (const size of SIZES) rows.push(...runSize(size, options, log));
    return Promise.resolve(rows);
  },
};

const childTask = process.env[CHILD];
if (childTask !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  const task = JSON.parse(childTask) as { size: number; engine: EngineName; quick: boolean };
  const report = await runEngine(task.size, task.engine, settings({ quick: task.quick }));
  process.stdout.write(JSON.stringify(report));
}
