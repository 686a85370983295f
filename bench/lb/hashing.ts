/**
 * The consistent-hashing rows of `npm run bench -- lb`: selections per second,
 * balance, disruption and build time of the ring, Maglev, bounded-load and jump
 * hashing, each beside the npm `hashring` package (ketama) on the same members
 * and the same keys.
 */

import { createRequire } from 'node:module';
import type { BenchOptions, BenchRow } from '../harness.js';
import { measureRate } from '../harness.js';
import { selectWithBoundedLoad } from '../../src/core/load-balancing/hashing/bounded-load.js';
import { hashString } from '../../src/core/load-balancing/hashing/hash.js';
import { jumpHash } from '../../src/core/load-balancing/hashing/jump.js';
import { MaglevTable } from '../../src/core/load-balancing/hashing/maglev.js';
import {
  DEFAULT_VIRTUAL_NODES_PER_WEIGHT,
  HashRing,
  type HashMember,
} from '../../src/core/load-balancing/hashing/ring.js';

/** The part of the `hashring` package's API used here (it ships no types). */
interface KetamaRing {
  get(key: string): string | undefined;
  /** The continuum: points sorted by value, each owned by a server. */
  readonly ring: readonly { readonly value: number; readonly server: string }[];
}
type KetamaRingConstructor = new (servers: readonly string[]) => KetamaRing;

// `hashring` is CommonJS without type declarations; require it with a declared shape.
const KetamaHashRing = createRequire(import.meta.url)('hashring') as KetamaRingConstructor;

/** Seeds of the key generator, fixed so runs are comparable. */
const KEY_SEED = 0x5eed_0001;
const KEY_LENGTH = 16;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const SIZES = [10, 100, 1000] as const;
const BALANCE_MEMBERS = 100;
/** The bounded-load factor c benchmarked (the common choice, as in HAProxy and Vimeo's use). */
const LOAD_FACTOR = 1.25;
/** How many different members are removed (and added), one at a time, to average disruption over. */
const DISRUPTION_TRIALS = 3;

interface Sizes {
  /** Keys in the throughput array (also the first keys of the other streams). */
  readonly throughputKeys: number;
  /** Keys streamed through each algorithm for the balance rows. */
  readonly balanceKeys: number;
  /** Keys compared before and after each membership change. */
  readonly disruptionKeys: number;
  /** Minimum timed duration of each throughput measurement. */
  readonly minMs: number;
}

function sizesFor(options: BenchOptions): Sizes {
  return options.quick
    ? { throughputKeys: 100_000, balanceKeys: 2_000_000, disruptionKeys: 100_000, minMs: 300 }
    : { throughputKeys: 1_000_000, balanceKeys: 4_000_000, disruptionKeys: 200_000, minMs: 1500 };
}

/**
 * The workload of the hashing rows, in words.
 *
 * @param options - Quick or full mode.
 * @returns One paragraph for the suite's workload line.
 */
export function hashingWorkload(options: BenchOptions): string {
  const sizes = sizesFor(options);
  return (
    `consistent hashing: ${sizes.throughputKeys.toLocaleString('en-US')} distinct random ` +
    `${KEY_LENGTH}-character keys (seeded PRNG, same array for every algorithm) looked up against ` +
    `${SIZES.join(', ')} members of weight 1; ring = HashRing (${DEFAULT_VIRTUAL_NODES_PER_WEIGHT} points per member), ` +
    `maglev = MaglevTable (65,537 slots; 100,003 at 1,000 members), bounded = bounded loads on ` +
    `the ring with c = ${LOAD_FACTOR}, each key placed and counted, jump = jumpHash (ids by ` +
    `bucket); peer = npm hashring 3.2.0 (ketama, md5, 160 points per server, its default ` +
    `5,000-entry LRU cache). Balance: max/mean keys per member at ${BALANCE_MEMBERS} members over ` +
    `${sizes.balanceKeys.toLocaleString('en-US')} keys from the same generator. Disruption: keys ` +
    `(${sizes.disruptionKeys.toLocaleString('en-US')}) that change member when one of ` +
    `${BALANCE_MEMBERS} members is removed, or a 101st added, as a multiple of the ideal 1/N ` +
    `(1/100 removed, 1/101 added), mean of ${DISRUPTION_TRIALS} members. Build: time to build ` +
    `from 1,000 members.`
  );
}

/**
 * Measures the consistent-hashing rows.
 *
 * @param options - Quick or full mode.
 * @param log - Progress lines.
 * @returns The rows, in the order they should be printed.
 */
export async function hashingRows(
  options: BenchOptions,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const sizes = sizesFor(options);
  const rows: BenchRow[] = [];
  const started = performance.now();
  const phase = (name: string) =>
    log(`hashing: ${name} done after ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const keys = generateKeys(sizes.throughputKeys);
  phase(`generating ${keys.length} keys`);

  for (const size of SIZES) {
    rows.push(...throughputRows(size, keys, sizes.minMs, log));
    phase(`throughput at ${size} members`);
    await yieldToEventLoop();
  }
  rows.push(...balanceRows(sizes.balanceKeys, log));
  phase('balance');
  await yieldToEventLoop();
  rows.push(...disruptionRows(keys.slice(0, sizes.disruptionKeys), log));
  phase('disruption');
  await yieldToEventLoop();
  rows.push(...buildRows(options.quick ? 500 : 2000, log));
  phase('build time');
  return rows;
}

function throughputRows(
  size: number,
  keys: readonly string[],
  minMs: number,
  log: (line: string) => void,
): BenchRow[] {
  const members = membersOf(size);
  const ids = members.map((member) => member.id);
  const ring = HashRing.build(members);
  const maglev = MaglevTable.build(members);
  const ketama = new KetamaHashRing(ids);
  const count = keys.length;
  // Each loop is its own function so every call site stays monomorphic; the sink
  // keeps the lookups from being optimised away.
  let sink = 0;
  const rate = (work: () => number) =>
    measureRate(
      () => {
        sink += work();
      },
      count,
      minMs,
    );

  const peer = rate(() => {
    let total = 0;
    for (let i = 0; i < count; i += 1) total += ketama.get(keys[i] ?? '')?.length ?? 0;
    return total;
  });
  const ringRate = rate(() => {
    let total = 0;
    for (let i = 0; i < count; i += 1) total += ring.lookup(keys[i] ?? '')?.length ?? 0;
    return total;
  });
  const maglevRate = rate(() => {
    let total = 0;
    for (let i = 0; i < count; i += 1) total += maglev.lookup(keys[i] ?? '')?.length ?? 0;
    return total;
  });
  const boundedRate = rate(() => {
    // Every call places all keys afresh: loads start at zero.
    const loads = new Map<string, number>(ids.map((id) => [id, 0]));
    const loadOf = (id: string) => loads.get(id) ?? 0;
    let total = 0;
    for (let i = 0; i < count; i += 1) {
      const id = selectWithBoundedLoad(ring, keys[i] ?? '', LOAD_FACTOR, loadOf, i) ?? '';
      loads.set(id, loadOf(id) + 1);
      total += id.length;
    }
    return total;
  });
  const jumpRate = rate(() => {
    let total = 0;
    for (let i = 0; i < count; i += 1) total += ids[jumpHash(keys[i] ?? '', size)]?.length ?? 0;
    return total;
  });
  log(
    `hashing: ${size} members: hashring ${fmt(peer)}/s, ring ${fmt(ringRate)}/s, maglev ` +
      `${fmt(maglevRate)}/s, bounded ${fmt(boundedRate)}/s, jump ${fmt(jumpRate)}/s (checksum ${sink % 10})`,
  );
  const versus = { peer: 'hashring (ketama)', peerValue: peer };
  const selection = { metric: 'selections/s', unit: '/s', better: 'higher' as const, ...versus };
  return [
    {
      name: `ring @${size} members`,
      ...selection,
      value: ringRate,
      target: '≥ 10× hashring',
      met: ringRate >= 10 * peer,
    },
    {
      name: `maglev @${size} members`,
      ...selection,
      value: maglevRate,
      target: '≥ 10× hashring',
      met: maglevRate >= 10 * peer,
    },
    { name: `bounded-load c=${LOAD_FACTOR} @${size} members`, ...selection, value: boundedRate },
    { name: `jump (practical ceiling) @${size} members`, ...selection, value: jumpRate },
  ];
}

function balanceRows(keyCount: number, log: (line: string) => void): BenchRow[] {
  const members = membersOf(BALANCE_MEMBERS);
  const ids = members.map((member) => member.id);
  const ring = HashRing.build(members);
  const maglev = MaglevTable.build(members);
  const ketama = new KetamaHashRing(ids);

  const peer = maxOverMean(ids, keyCount, (key) => ketama.get(key));
  const ringValue = maxOverMean(ids, keyCount, (key) => ring.lookup(key));
  const maglevValue = maxOverMean(ids, keyCount, (key) => maglev.lookup(key));
  const jumpValue = maxOverMean(ids, keyCount, (key) => ids[jumpHash(key, ids.length)]);
  // The sampling floor: a perfectly even split (hash mod N) still shows noise of ≈ 2.5/√(keys/N).
  const floor = maxOverMean(ids, keyCount, (key) => ids[hashString(key) % ids.length]);
  const loads = new Map<string, number>();
  let placed = 0;
  const boundedValue = maxOverMean(ids, keyCount, (key) => {
    const id = selectWithBoundedLoad(ring, key, LOAD_FACTOR, (m) => loads.get(m) ?? 0, placed);
    if (id !== undefined) loads.set(id, (loads.get(id) ?? 0) + 1);
    placed += 1;
    return id;
  });
  const ringExact = maxShareOverMean(ring.shares().values());
  const maglevExact = maxShareOverMean(maglev.shares().values());
  const ketamaExact = maxShareOverMean(ketamaShares(ketama).values());
  log(
    `hashing: balance over ${keyCount} keys: ring ${ringValue.toFixed(4)}, maglev ${maglevValue.toFixed(4)}, ` +
      `bounded ${boundedValue.toFixed(4)}, jump ${jumpValue.toFixed(4)}, hashring ${peer.toFixed(4)}, ` +
      `floor ${floor.toFixed(4)}; exact shares: ring ${ringExact.toFixed(4)}, maglev ` +
      `${maglevExact.toFixed(4)}, hashring ${ketamaExact.toFixed(4)}`,
  );
  const at = `@${BALANCE_MEMBERS} members`;
  const keysMetric = {
    metric: 'max/mean keys',
    unit: '',
    better: 'lower' as const,
    peer: 'hashring (ketama)',
    peerValue: peer,
  };
  const shareMetric = {
    metric: 'max/mean share',
    unit: '',
    better: 'lower' as const,
    peer: 'hashring (ketama)',
    peerValue: ketamaExact,
  };
  return [
    {
      name: `ring balance ${at}`,
      ...keysMetric,
      value: ringValue,
      target: '≤ 1.10',
      met: ringValue <= 1.1,
    },
    {
      name: `maglev balance ${at}`,
      ...keysMetric,
      value: maglevValue,
      target: '≤ 1.02',
      met: maglevValue <= 1.02,
    },
    {
      name: `bounded-load balance ${at}`,
      ...keysMetric,
      value: boundedValue,
      target: `≤ c = ${LOAD_FACTOR}`,
      met: boundedValue <= LOAD_FACTOR,
    },
    { name: `jump balance ${at}`, ...keysMetric, value: jumpValue },
    {
      name: `sampling floor (hash mod N) ${at}`,
      metric: 'max/mean keys',
      unit: '',
      better: 'lower',
      value: floor,
    },
    { name: `ring exact share ${at}`, ...shareMetric, value: ringExact },
    { name: `maglev exact share ${at}`, ...shareMetric, value: maglevExact },
  ];
}

function disruptionRows(keys: readonly string[], log: (line: string) => void): BenchRow[] {
  const members = membersOf(BALANCE_MEMBERS);
  const ids = members.map((member) => member.id);
  // Removed members are spread over the membership, chosen by a fixed rule.
  const removed = Array.from(
    { length: DISRUPTION_TRIALS },
    (_, trial) => ids[Math.floor(((trial + 0.5) * ids.length) / DISRUPTION_TRIALS)] ?? '',
  );
  const added = Array.from({ length: DISRUPTION_TRIALS }, (_, trial) => `node-new-${trial}`);

  type Assign = (members: readonly HashMember[]) => (string | undefined)[];
  const algorithms: { readonly name: string; readonly assign: Assign }[] = [
    {
      name: 'ring',
      assign: (list) => {
        const ring = HashRing.build(list);
        return keys.map((key) => ring.lookup(key));
      },
    },
    {
      name: 'maglev',
      assign: (list) => {
        const table = MaglevTable.build(list);
        return keys.map((key) => table.lookup(key));
      },
    },
    {
      // Bounded loads depend on the order of placement: every key is placed afresh,
      // in the same order, before and after the change.
      name: `bounded-load c=${LOAD_FACTOR}`,
      assign: (list) => {
        const ring = HashRing.build(list);
        const loads = new Map<string, number>();
        const loadOf = (id: string) => loads.get(id) ?? 0;
        return keys.map((key, placed) => {
          const id = selectWithBoundedLoad(ring, key, LOAD_FACTOR, loadOf, placed);
          if (id !== undefined) loads.set(id, loadOf(id) + 1);
          return id;
        });
      },
    },
    {
      name: 'hashring',
      assign: (list) => {
        const ketama = new KetamaHashRing(list.map((member) => member.id));
        return keys.map((key) => ketama.get(key));
      },
    },
  ];

  const results = new Map<string, { removal: number; addition: number }>();
  for (const { name, assign } of algorithms) {
    const before = assign(members);
    const removals = removed.map(
      (id) =>
        movedFraction(before, assign(members.filter((member) => member.id !== id))) * ids.length,
    );
    const additions = added.map(
      (id) => movedFraction(before, assign([...members, { id, weight: 1 }])) * (ids.length + 1),
    );
    const removal = mean(removals);
    const addition = mean(additions);
    results.set(name, { removal, addition });
    log(
      `hashing: disruption ${name}: removal ${removals.map((x) => x.toFixed(3)).join(', ')} ` +
        `(mean ${removal.toFixed(3)}), addition ${additions.map((x) => x.toFixed(3)).join(', ')} ` +
        `(mean ${addition.toFixed(3)}) × ideal`,
    );
  }
  const peer = results.get('hashring') ?? { removal: Number.NaN, addition: Number.NaN };
  const rows: BenchRow[] = [];
  for (const { name } of algorithms) {
    if (name === 'hashring') continue;
    const result = results.get(name) ?? { removal: Number.NaN, addition: Number.NaN };
    const isRing = name === 'ring';
    for (const change of ['removal', 'addition'] as const) {
      const value = result[change];
      rows.push({
        name: `${name} disruption on ${change} @${BALANCE_MEMBERS} members`,
        metric: 'moved / ideal 1/N',
        unit: '×',
        better: 'lower',
        value,
        peer: 'hashring (ketama)',
        peerValue: peer[change],
        ...(isRing ? { target: '≤ 1.1×', met: value <= 1.1 } : {}),
      });
    }
  }
  return rows;
}

function buildRows(minMs: number, log: (line: string) => void): BenchRow[] {
  const members = membersOf(1000);
  const ids = members.map((member) => member.id);
  let sink = 0;
  const msPerBuild = (build: () => number) =>
    1000 /
    measureRate(
      () => {
        sink += build();
      },
      1,
      minMs,
    );
  const peer = msPerBuild(() => new KetamaHashRing(ids).ring.length);
  const ring = msPerBuild(() => HashRing.build(members).pointCount);
  const maglev = msPerBuild(() => MaglevTable.build(members).tableSize);
  log(
    `hashing: build @1000 members: ring ${ring.toFixed(1)} ms, maglev ${maglev.toFixed(1)} ms, ` +
      `hashring ${peer.toFixed(1)} ms (checksum ${sink % 10})`,
  );
  const build = {
    metric: 'build time',
    unit: 'ms',
    better: 'lower' as const,
    peer: 'hashring (ketama)',
    peerValue: peer,
  };
  return [
    { name: 'ring build @1000 members (2,048,000 points)', ...build, value: ring },
    { name: 'maglev build @1000 members (100,003 slots)', ...build, value: maglev },
  ];
}

/** Members `node-0000` … of weight 1. */
function membersOf(count: number): HashMember[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `node-${String(i).padStart(4, '0')}`,
    weight: 1,
  }));
}

/** A seeded generator of random keys: SplitMix32 drawing from a 62-character alphabet. */
function keyStream(): () => string {
  let state = KEY_SEED | 0;
  const next = () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  const codes = new Array<number>(KEY_LENGTH);
  // fromCharCode builds a flat string, so no lookup pays for flattening a concatenation.
  return () => {
    for (let i = 0; i < KEY_LENGTH; i += 1)
      codes[i] = ALPHABET.charCodeAt(next() % ALPHABET.length);
    return String.fromCharCode(...codes);
  };
}

/**
 * The first `count` keys of the stream. With 62^16 possible keys a repeat among
 * millions is vanishingly unlikely (probability below 10^-15), so the keys are distinct.
 */
function generateKeys(count: number): string[] {
  const stream = keyStream();
  const keys = new Array<string>(count);
  for (let i = 0; i < count; i += 1) keys[i] = stream();
  return keys;
}

/** Streams `keyCount` keys through `pick` and returns max/mean keys per member. */
function maxOverMean(
  ids: readonly string[],
  keyCount: number,
  pick: (key: string) => string | undefined,
): number {
  const counts = new Map<string, number>(ids.map((id) => [id, 0]));
  const stream = keyStream();
  for (let i = 0; i < keyCount; i += 1) {
    const id = pick(stream());
    if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return Math.max(...counts.values()) / (keyCount / ids.length);
}

function maxShareOverMean(shares: Iterable<number>): number {
  const list = [...shares];
  return Math.max(...list) * list.length;
}

/** hashring's exact shares: the arc before each continuum point belongs to its server. */
function ketamaShares(ketama: KetamaRing): Map<string, number> {
  const points = ketama.ring;
  const shares = new Map<string, number>();
  let previous = (points[points.length - 1]?.value ?? 0) - 2 ** 32;
  for (const point of points) {
    shares.set(point.server, (shares.get(point.server) ?? 0) + (point.value - previous) / 2 ** 32);
    previous = point.value;
  }
  return shares;
}

function movedFraction(
  before: readonly (string | undefined)[],
  after: readonly (string | undefined)[],
): number {
  let moved = 0;
  for (let i = 0; i < before.length; i += 1) if (before[i] !== after[i]) moved += 1;
  return moved / before.length;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function fmt(rate: number): string {
  return rate >= 1e6 ? `${(rate / 1e6).toFixed(2)}M` : `${(rate / 1e3).toFixed(0)}k`;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
