/**
 * `npm run bench -- transport` (issue 3): the native P2P network's
 * request/response latency and throughput over real loopback TCP, with and
 * without authenticated encryption, against a bare `node:net` length-prefixed
 * echo server and client measured in the same run with the same payloads, the
 * same concurrency and the same latency method.
 */

import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { NativeP2PNetwork } from '../src/native/p2p/native-p2p-network.js';
import { Keyring } from '../src/native/transport/keyring.js';
import { SecureCodec } from '../src/native/transport/secure-codec.js';
import { keyringPreSharedKeys } from '../src/native/transport/tls-psk.js';
import { createNodeRuntime } from '../src/runtime/node/node-runtime.js';
import { createTlsPskRuntime } from '../src/runtime/node/tls-psk-runtime.js';
import type { Runtime } from '../src/runtime/runtime.js';
import type { BenchOptions, BenchRow, BenchSuite } from './harness.js';

const PAYLOADS = [
  { label: '64 B', bytes: 64 },
  { label: '64 KiB', bytes: 64 * 1024 },
] as const;
const CONCURRENCY = 32;
const PEER = 'node:net echo';
const CORKED_PEER = 'node:net echo, writes corked per tick';
const THROUGHPUT_TARGET = { plaintext: 0.7, sealed: 0.5, 'tls-psk': 0.5 } as const;
const P50_TARGET = 1.5;

type Mode = 'plaintext' | 'sealed' | 'tls-psk';
const MODE_LABEL: Record<Mode, string> = {
  plaintext: 'plaintext',
  sealed: 'AES-256-GCM',
  'tls-psk': 'TLS-PSK AES-256-GCM',
};

interface Settings {
  /** Measurement rounds; each measures baseline, plaintext and sealed once, medians are reported. */
  readonly rounds: number;
  /** Sequential requests timed per latency measurement, by payload size. */
  readonly latencySamples: (bytes: number) => number;
  /** How long each throughput measurement runs, in ms. */
  readonly throughputMs: number;
}

function settings(options: BenchOptions): Settings {
  return options.quick
    ? {
        rounds: 1,
        latencySamples: (bytes) => (bytes > 1024 ? 300 : 1_000),
        throughputMs: 1_000,
      }
    : {
        rounds: 3,
        latencySamples: (bytes) => (bytes > 1024 ? 1_500 : 5_000),
        throughputMs: 3_000,
      };
}

/** Something that sends one request and resolves with the echoed bytes. */
type Requester = (payload: Uint8Array) => Promise<Uint8Array>;

interface Measurement {
  readonly p50Us: number;
  readonly p99Us: number;
  readonly requestsPerSecond: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
}

function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

async function measure(request: Requester, bytes: number, config: Settings): Promise<Measurement> {
  const payload = new Uint8Array(bytes).fill(0x5a);
  const check = (response: Uint8Array): void => {
    if (response.length !== bytes) {
      throw new Error(`echo returned ${response.length} bytes, expected ${bytes}`);
    }
  };
  // Warm up: JIT, socket buffers, the first sealed frames.
  for (let i = 0; i < 200; i++) check(await request(payload));
  await throughput(request, payload, 200, check);

  // Latency: one request at a time, each timed from call to resolution.
  const samples = config.latencySamples(bytes);
  const latencies: number[] = new Array<number>(samples);
  for (let i = 0; i < samples; i++) {
    const started = process.hrtime.bigint();
    check(await request(payload));
    latencies[i] = Number(process.hrtime.bigint() - started) / 1_000;
  }
  latencies.sort((a, b) => a - b);

  const requestsPerSecond = await throughput(request, payload, config.throughputMs, check);
  return {
    p50Us: percentile(latencies, 0.5),
    p99Us: percentile(latencies, 0.99),
    requestsPerSecond,
  };
}

/** Keeps {@link CONCURRENCY} requests in flight for `durationMs`; returns requests per second. */
async function throughput(
  request: Requester,
  payload: Uint8Array,
  durationMs: number,
  check: (response: Uint8Array) => void,
): Promise<number> {
  let completed = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      check(await request(payload));
      completed += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return completed / ((performance.now() - started) / 1_000);
}

// ---- the native network --------------------------------------------------

interface NetworkPair {
  readonly request: Requester;
  readonly close: () => Promise<void>;
  readonly stats: () => string;
}

async function startNetworkPair(mode: Mode): Promise<NetworkPair> {
  const key = new Uint8Array(32).fill(7);
  const nodes: { runtime: Runtime & { close(): Promise<void> }; network: NativeP2PNetwork }[] = [];
  const start = async (id: string, seeds: { host: string; port: number }[]) => {
    const keyring = new Keyring([{ keyId: 'k1', key: key.slice() }], 'k1');
    const runtime =
      mode === 'tls-psk'
        ? createTlsPskRuntime({ nodeId: id, keys: keyringPreSharedKeys(keyring) })
        : createNodeRuntime({ nodeId: id });
    // TLS-PSK: the stream encrypts; the network makes its own plaintext-frame codec.
    const security =
      mode === 'tls-psk'
        ? ({ transportSecurity: 'tls-psk' } as const)
        : {
            codec:
              mode === 'sealed'
                ? new SecureCodec({ keyring, localNodeId: id, random: runtime.random })
                : new SecureCodec({
                    allowPlaintext: true,
                    localNodeId: id,
                    random: runtime.random,
                  }),
          };
    const network = new NativeP2PNetwork({
      runtime,
      localPeerId: id,
      listen: { host: '127.0.0.1', port: 0 },
      seeds,
      ...security,
      onReject: (reason) => {
        throw new Error(`transport bench: a frame was refused (${reason})`);
      },
    });
    await network.start();
    nodes.push({ runtime, network });
    return network;
  };
  const server = await start('server', []);
  const client = await start('client', [server.listenAddress]);
  server.setRequestHandler((request) => Promise.resolve(request.data));
  const deadline = performance.now() + 5_000;
  for (;;) {
    const [a, b] = await Promise.all([client.discoverPeers(), server.discoverPeers()]);
    if (a.some((p) => p.peerId === 'server') && b.some((p) => p.peerId === 'client')) break;
    if (performance.now() > deadline) throw new Error('the two nodes did not meet within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    request: (payload) => client.requestFromPeer('server', payload),
    stats: () => {
      const { framesSent, framesReceived, rejected } = client.stats;
      const refused = Object.values(rejected).reduce((sum, n) => sum + n, 0);
      return `client frames sent ${framesSent}, received ${framesReceived}, refused ${refused}`;
    },
    close: async () => {
      for (const { network } of nodes) await network.close();
      for (const { runtime } of nodes) await runtime.close();
    },
  };
}

// ---- the baseline: bare node:net, 4-byte length prefix -----------------------

/** Calls `onFrame(frame, bodyLength)` for each complete length-prefixed frame. */
function frameReader(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let held: Buffer[] = [];
  let heldBytes = 0;
  return (chunk) => {
    let buffer = chunk;
    if (heldBytes > 0) {
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < 4 || heldBytes < 4 + readLength(held)) return;
      buffer = Buffer.concat(held, heldBytes);
      held = [];
      heldBytes = 0;
    }
    let offset = 0;
    while (buffer.length - offset >= 4) {
      const end = offset + 4 + buffer.readUInt32BE(offset);
      if (end > buffer.length) break;
      onFrame(buffer.subarray(offset, end));
      offset = end;
    }
    if (offset < buffer.length) {
      held = [buffer.subarray(offset)];
      heldBytes = buffer.length - offset;
    }
  };
}

function readLength(chunks: readonly Buffer[]): number {
  const first = chunks[0] as Buffer;
  if (first.length >= 4) return first.readUInt32BE(0);
  return Buffer.concat(chunks).readUInt32BE(0);
}

/**
 * The bare echo pair. `corked`: writes are coalesced like the native network
 * coalesces them (the client corks until the end of the tick, the server
 * answers a whole chunk's frames in one write), a stronger peer for throughput.
 */
async function startEchoPair(corked = false): Promise<NetworkPair> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const read = frameReader((frame) => socket.write(frame));
    socket.on('data', (chunk: Buffer) => {
      if (corked) socket.cork();
      read(chunk);
      if (corked) socket.uncork();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no server address');
  const socket = createConnection({ host: '127.0.0.1', port: address.port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.setNoDelay(true);
  sockets.add(socket);
  // The echo server answers in order, so responses match requests first in, first out.
  const waiting: ((body: Uint8Array) => void)[] = [];
  socket.on(
    'data',
    frameReader((frame) => waiting.shift()?.(frame.subarray(4))),
  );
  const uncork = (): void => {
    socket.uncork();
  };
  return {
    request: (payload) => {
      const frame = Buffer.allocUnsafe(4 + payload.length);
      frame.writeUInt32BE(payload.length, 0);
      frame.set(payload, 4);
      if (corked && socket.writableCorked === 0) {
        socket.cork();
        process.nextTick(uncork);
      }
      socket.write(frame);
      return new Promise((resolve) => waiting.push(resolve));
    },
    stats: () => '',
    close: async () => {
      for (const open of sockets) open.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// ---- the suite -------------------------------------------------------------

async function measurePair(
  startPair: () => Promise<NetworkPair>,
  bytes: number,
  config: Settings,
): Promise<Measurement & { stats: string }> {
  const pair = await startPair();
  try {
    const result = await measure(pair.request, bytes, config);
    return { ...result, stats: pair.stats() };
  } finally {
    await pair.close();
  }
}

function describe(m: Measurement, bytes: number): string {
  const mbps = (m.requestsPerSecond * bytes) / 1e6;
  return (
    `p50 ${m.p50Us.toFixed(1)} µs, p99 ${m.p99Us.toFixed(1)} µs, ` +
    `${m.requestsPerSecond.toFixed(0)} req/s, ${mbps.toFixed(1)} MB/s`
  );
}

function medianOf(runs: readonly Measurement[]): Measurement {
  return {
    p50Us: median(runs.map((m) => m.p50Us)),
    p99Us: median(runs.map((m) => m.p99Us)),
    requestsPerSecond: median(runs.map((m) => m.requestsPerSecond)),
  };
}

async function transportRows(
  options: BenchOptions,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const config = settings(options);
  const rows: BenchRow[] = [];
  for (const { label, bytes } of PAYLOADS) {
    const runs: Record<'baseline' | 'corked' | Mode, Measurement[]> = {
      baseline: [],
      corked: [],
      plaintext: [],
      sealed: [],
      'tls-psk': [],
    };
    const starters = {
      baseline: () => startEchoPair(false),
      corked: () => startEchoPair(true),
      plaintext: () => startNetworkPair('plaintext'),
      sealed: () => startNetworkPair('sealed'),
      'tls-psk': () => startNetworkPair('tls-psk'),
    } as const;
    for (let round = 1; round <= config.rounds; round++) {
      // Interleaved, so drift in the machine's load affects all variants alike.
      for (const variant of ['baseline', 'corked', 'plaintext', 'sealed', 'tls-psk'] as const) {
        const result = await measurePair(starters[variant], bytes, config);
        runs[variant].push(result);
        log(
          `${label} ${variant.padEnd(9)} round ${round}: ${describe(result, bytes)}` +
            (result.stats === '' ? '' : ` (${result.stats})`),
        );
      }
    }
    const baseline = medianOf(runs.baseline);
    const corked = medianOf(runs.corked);
    for (const mode of ['plaintext', 'sealed', 'tls-psk'] as const) {
      const m = medianOf(runs[mode]);
      const name = `${label} ${MODE_LABEL[mode]}`;
      const minRatio = THROUGHPUT_TARGET[mode];
      rows.push(
        {
          name,
          metric: 'p50 latency',
          unit: 'µs',
          value: m.p50Us,
          better: 'lower',
          peer: PEER,
          peerValue: baseline.p50Us,
          target: `≤ ${P50_TARGET}× baseline`,
          met: m.p50Us <= P50_TARGET * baseline.p50Us,
        },
        {
          name,
          metric: 'p99 latency',
          unit: 'µs',
          value: m.p99Us,
          better: 'lower',
          peer: PEER,
          peerValue: baseline.p99Us,
        },
        {
          name,
          metric: `throughput @${CONCURRENCY}`,
          unit: 'req/s',
          value: m.requestsPerSecond,
          better: 'higher',
          peer: PEER,
          peerValue: baseline.requestsPerSecond,
          target: `≥ ${minRatio}× baseline`,
          met: m.requestsPerSecond >= minRatio * baseline.requestsPerSecond,
        },
        {
          name,
          metric: `throughput @${CONCURRENCY}`,
          unit: 'req/s',
          value: m.requestsPerSecond,
          better: 'higher',
          peer: CORKED_PEER,
          peerValue: corked.requestsPerSecond,
        },
        {
          name,
          metric: `throughput @${CONCURRENCY}`,
          unit: 'MB/s',
          value: (m.requestsPerSecond * bytes) / 1e6,
          better: 'higher',
          peer: PEER,
          peerValue: (baseline.requestsPerSecond * bytes) / 1e6,
        },
      );
    }
  }
  return rows;
}

/** The `transport` suite. */
export const transportSuite: BenchSuite = {
  name: 'transport',
  workload: (options) => {
    const config = settings(options);
    return (
      `two NativeP2PNetwork nodes (Node runtime, one process) on 127.0.0.1; the client calls ` +
      `requestFromPeer on the server, whose handler echoes the request; payloads of ` +
      `${PAYLOADS.map((p) => p.label).join(' and ')}; each with AES-256-GCM (SecureCodec + Keyring), ` +
      `plaintext (allowPlaintext), and TLS-PSK (TLS 1.2 PSK-AES256-GCM-SHA384 keyed from the ` +
      `keyring, transportSecurity tls-psk, frames as plaintext inside TLS). Latency: ${config.latencySamples(64)} (64 B) / ` +
      `${config.latencySamples(65_536)} (64 KiB) sequential requests, p50 and p99 of call-to-resolve ` +
      `time. Throughput: ${CONCURRENCY} requests in flight for ${config.throughputMs / 1000} s; ` +
      `MB/s counts the payload one way (request bytes × req/s). Peer: a bare node:net server ` +
      `echoing 4-byte length-prefixed frames to a client on one socket (noDelay on both, like the ` +
      `runtime), same payloads, concurrency and timing, in the same run; targets are against it. ` +
      `A second peer, shown for throughput without a target, is the same echo with writes ` +
      `coalesced as the native network coalesces them (client corked until the end of the tick, ` +
      `server answering a chunk's frames in one write). ${config.rounds} ` +
      `interleaved round(s) per variant, medians reported; each round starts fresh sockets and ` +
      `warms up with 200 sequential requests and 200 ms at full concurrency.`
    );
  },
  run: transportRows,
};
