/**
 * The behavioural tests every {@link Runtime} must pass: the Node runtime and
 * the simulator alike.
 *
 * @packageDocumentation
 */

import { describe, expect, it } from 'vitest';
import type {
  DatagramEndpoint,
  NetworkAddress,
  Runtime,
  StreamConnection,
  StreamListener,
} from '../../runtime/runtime.js';
import { rejectionCode, thrownCode } from './error-code.js';
import type { ComplianceFactory } from './factory.js';
import { withSubject } from './factory.js';

/**
 * Two runtimes of one world, and how the suite lets time pass in it.
 *
 * @since 2.0.0
 */
export interface RuntimeComplianceWorld {
  /**
   * Two nodes that can reach each other. Their networks should deliver
   * streams reliably; datagrams may be lost (the suite resends them).
   */
  readonly nodes: readonly [Runtime, Runtime];
  /**
   * Where `node` binds its sockets in these tests, with port `0`: for example
   * `127.0.0.1` on the Node runtime, or the node's host in a simulated world.
   *
   * @param node - One of {@link RuntimeComplianceWorld.nodes}.
   */
  bindAddress(node: Runtime): NetworkAddress;
  /**
   * Lets time pass until `promise` settles, and returns (or throws) its
   * outcome. A real runtime just awaits it; a simulator runs its event loop
   * until the promise settles, and fails when nothing is left to run first.
   *
   * @param promise - What to wait for.
   */
  settle<T>(promise: Promise<T>): Promise<T>;
}

/** A promise with its resolve function exposed. */
interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Checks two byte arrays are equal, reporting the first difference rather than a huge diff. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.byteLength).toBe(expected.byteLength);
  let firstDifference = -1;
  for (let i = 0; i < expected.byteLength; i++) {
    if (actual[i] !== expected[i]) {
      firstDifference = i;
      break;
    }
  }
  expect(firstDifference).toBe(-1);
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const total = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Deterministic, position-dependent bytes, so a reordering or a lost chunk shows. */
function patterned(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return out;
}

function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Collects every chunk a connection receives; `received(n)` resolves once n bytes have arrived. */
function collect(connection: StreamConnection): {
  readonly chunks: Uint8Array[];
  readonly received: (bytes: number) => Promise<Uint8Array>;
} {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const waiters: { bytes: number; resolve: (all: Uint8Array) => void }[] = [];
  connection.onData((chunk) => {
    chunks.push(chunk.slice());
    total += chunk.byteLength;
    for (const waiter of [...waiters]) {
      if (total >= waiter.bytes) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(concat(chunks));
      }
    }
  });
  return {
    chunks,
    received: (bytes) =>
      total >= bytes
        ? Promise.resolve(concat(chunks))
        : new Promise((resolve) => waiters.push({ bytes, resolve })),
  };
}

/**
 * Writes `chunks` in order, honouring backpressure: after a `false` it waits
 * for `onDrain` before writing on.
 */
async function writeAll(
  world: RuntimeComplianceWorld,
  connection: StreamConnection,
  chunks: readonly Uint8Array[],
): Promise<void> {
  for (const chunk of chunks) {
    if (!connection.write(chunk)) {
      const drained = deferred<undefined>();
      const unsubscribe = connection.onDrain(() => drained.resolve(undefined));
      await world.settle(drained.promise);
      unsubscribe();
    }
  }
}

/** Resolves once `connection` reports its close, with the error it reported. */
function closed(connection: StreamConnection): Promise<{ error: Error | undefined }> {
  return new Promise((resolve) => connection.onClose((error) => resolve({ error })));
}

/** A connected pair: node 0 listens, node 1 dials. */
async function connectedPair(world: RuntimeComplianceWorld): Promise<{
  listener: StreamListener;
  client: StreamConnection;
  server: StreamConnection;
}> {
  const [a, b] = world.nodes;
  const accepted = deferred<StreamConnection>();
  const listener = await world.settle(
    a.network.listen(world.bindAddress(a), (connection) => accepted.resolve(connection)),
  );
  const client = await world.settle(b.network.connect(listener.address));
  const server = await world.settle(accepted.promise);
  return { listener, client, server };
}

/**
 * Sends `data` from `from` to `to` every 20 ms (of the runtime's clock) until
 * `arrived` settles or 100 tries have been made: datagrams may be lost.
 */
async function sendUntil<T>(
  world: RuntimeComplianceWorld,
  clock: Runtime['clock'],
  send: () => void,
  arrived: Promise<T>,
): Promise<T> {
  let done = false;
  let tries = 0;
  const resend = (): void => {
    if (done || tries >= 100) return;
    tries += 1;
    send();
    clock.setTimer(20, resend);
  };
  resend();
  try {
    return await world.settle(arrived);
  } finally {
    done = true;
  }
}

/**
 * Registers the {@link Runtime} compliance tests with Vitest: clock and timers,
 * randomness, datagram and stream networking, and durable storage. Call it
 * inside a test file; the factory makes a fresh two-node world for each test.
 * The tests assert behaviour, never wall-clock duration, and never depend on
 * how a stream splits or joins chunks.
 *
 * @example
 * ```ts
 * runtimeCompliance('Node runtime', () => {
 *   const nodes = [createNodeRuntime({ nodeId: 'a' }), createNodeRuntime({ nodeId: 'b' })] as const;
 *   return {
 *     subject: {
 *       nodes,
 *       bindAddress: () => ({ host: '127.0.0.1', port: 0 }),
 *       settle: (promise) => promise,
 *     },
 *     cleanup: async () => { await Promise.all(nodes.map((node) => node.close())); },
 *   };
 * });
 * ```
 *
 * @param name - The implementation's name, shown in test titles.
 * @param factory - Makes a fresh world for each test.
 * @since 2.0.0
 */
export function runtimeCompliance(
  name: string,
  factory: ComplianceFactory<RuntimeComplianceWorld>,
): void {
  const test = (title: string, body: (world: RuntimeComplianceWorld) => Promise<void> | void) => {
    it(title, () => withSubject(factory, body));
  };

  describe(`Runtime compliance: ${name}`, () => {
    describe('identity', () => {
      test('each node has a non-empty id of its own', (world) => {
        const [a, b] = world.nodes;
        expect(a.nodeId).not.toBe('');
        expect(b.nodeId).not.toBe('');
        expect(a.nodeId).not.toBe(b.nodeId);
      });
    });

    describe('clock', () => {
      test('monotonic time never goes backwards and wall time is finite', async (world) => {
        const { clock } = world.nodes[0];
        expect(Number.isFinite(clock.now())).toBe(true);
        let previous = clock.monotonic();
        for (let i = 0; i < 1000; i++) {
          const current = clock.monotonic();
          expect(current).toBeGreaterThanOrEqual(previous);
          previous = current;
        }
        const later = deferred<undefined>();
        clock.setTimer(5, () => later.resolve(undefined));
        await world.settle(later.promise);
        expect(clock.monotonic()).toBeGreaterThan(previous);
      });

      test('timers fire in order of their deadlines, not of arming', async (world) => {
        const { clock } = world.nodes[0];
        const fired: number[] = [];
        const all = deferred<undefined>();
        const arm = (delay: number): void => {
          clock.setTimer(delay, () => {
            fired.push(delay);
            if (fired.length === 4) all.resolve(undefined);
          });
        };
        arm(45);
        arm(-5);
        arm(30);
        arm(15);
        await world.settle(all.promise);
        expect(fired).toEqual([-5, 15, 30, 45]);
      });

      test('a timer never fires before its delay has passed', async (world) => {
        const { clock } = world.nodes[0];
        const start = clock.monotonic();
        const firedAt = deferred<number>();
        clock.setTimer(25, () => firedAt.resolve(clock.monotonic()));
        expect((await world.settle(firedAt.promise)) - start).toBeGreaterThanOrEqual(25);
      });

      test('a cancelled timer never fires; cancelling twice or after firing is harmless', async (world) => {
        const { clock } = world.nodes[0];
        const fired: string[] = [];
        const cancelled = clock.setTimer(10, () => fired.push('cancelled'));
        const kept = clock.setTimer(20, () => fired.push('kept'));
        cancelled.cancel();
        cancelled.cancel();
        const last = deferred<undefined>();
        clock.setTimer(40, () => {
          fired.push('last');
          last.resolve(undefined);
        });
        await world.settle(last.promise);
        kept.cancel();
        expect(fired).toEqual(['kept', 'last']);
      });

      test('a timer armed from a timer callback fires', async (world) => {
        const { clock } = world.nodes[0];
        const inner = deferred<string>();
        clock.setTimer(5, () => clock.setTimer(5, () => inner.resolve('inner')));
        expect(await world.settle(inner.promise)).toBe('inner');
      });
    });

    describe('random', () => {
      test('next is in [0, 1)', (world) => {
        const { random } = world.nodes[0];
        for (let i = 0; i < 10_000; i++) {
          const x = random.next();
          expect(x >= 0 && x < 1).toBe(true);
        }
      });

      test('int is an integer in [0, maxExclusive) and reaches both ends', (world) => {
        const { random } = world.nodes[0];
        for (const max of [1, 2, 3, 7, 1000, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]) {
          for (let i = 0; i < 200; i++) {
            const x = random.int(max);
            expect(Number.isInteger(x) && x >= 0 && x < max).toBe(true);
          }
        }
        const seen = new Set<number>();
        for (let i = 0; i < 200; i++) seen.add(random.int(2));
        expect([...seen].sort()).toEqual([0, 1]);
      });

      test('int rejects a bound that is not a positive safe integer', (world) => {
        const { random } = world.nodes[0];
        for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
          expect(thrownCode(() => random.int(bad))).toBe('INVALID_ARGUMENT');
        }
      });

      test('bytes returns fresh arrays of the length asked for', (world) => {
        const { random } = world.nodes[0];
        for (const length of [0, 1, 33, 1000]) {
          const bytes = random.bytes(length);
          expect(bytes).toBeInstanceOf(Uint8Array);
          expect(bytes.byteLength).toBe(length);
        }
        const first = random.bytes(32);
        const second = random.bytes(32);
        expect(Array.from(first)).not.toEqual(Array.from(second));
        expect(thrownCode(() => random.bytes(-1))).toBe('INVALID_ARGUMENT');
      });
    });

    describe('datagrams', () => {
      test('a datagram goes there and a reply comes back, with sender addresses', async (world) => {
        const [a, b] = world.nodes;
        const atA = deferred<{ data: Uint8Array; from: NetworkAddress }>();
        const atB = deferred<{ data: Uint8Array; from: NetworkAddress }>();
        const endpointA = await world.settle(
          a.network.bindDatagram(world.bindAddress(a), (data, from) =>
            atA.resolve({ data: data.slice(), from }),
          ),
        );
        const endpointB = await world.settle(
          b.network.bindDatagram(world.bindAddress(b), (data, from) =>
            atB.resolve({ data: data.slice(), from }),
          ),
        );
        expect(endpointA.address.port).not.toBe(0);
        expect(endpointB.address.port).not.toBe(0);

        const ping = bytesOf('ping');
        const received = await sendUntil(
          world,
          b.clock,
          () => endpointB.send(ping, endpointA.address),
          atA.promise,
        );
        expectSameBytes(received.data, ping);
        expect(received.from).toEqual(endpointB.address);

        const pong = patterned(300, 1);
        const reply = await sendUntil(
          world,
          a.clock,
          () => endpointA.send(pong, received.from),
          atB.promise,
        );
        expectSameBytes(reply.data, pong);
        expect(reply.from).toEqual(endpointA.address);
        endpointA.close();
        endpointB.close();
      });

      test('a datagram of maxDatagramBytes goes through; one byte more is refused', async (world) => {
        const [a, b] = world.nodes;
        const atA = deferred<Uint8Array>();
        const endpointA = await world.settle(
          a.network.bindDatagram(world.bindAddress(a), (data) => atA.resolve(data.slice())),
        );
        const endpointB: DatagramEndpoint = await world.settle(
          b.network.bindDatagram(world.bindAddress(b), () => undefined),
        );
        const max = endpointB.maxDatagramBytes;
        expect(Number.isInteger(max) && max > 0).toBe(true);
        expect(thrownCode(() => endpointB.send(new Uint8Array(max + 1), endpointA.address))).toBe(
          'INVALID_ARGUMENT',
        );
        const largest = patterned(Math.min(max, endpointA.maxDatagramBytes), 2);
        const received = await sendUntil(
          world,
          b.clock,
          () => endpointB.send(largest, endpointA.address),
          atA.promise,
        );
        expectSameBytes(received, largest);
      });
    });

    describe('streams', () => {
      test('bytes arrive complete and in order across many writes, both ways', async (world) => {
        const { listener, client, server } = await connectedPair(world);
        expect(client.remote.port).toBe(listener.address.port);
        expect(server.remote.port).toBe(client.local.port);
        const atServer = collect(server);
        const atClient = collect(client);

        const sent: Uint8Array[] = [];
        for (let i = 0; i < 300; i++) sent.push(patterned(1 + ((i * 997) % 5000), i));
        const expected = concat(sent);
        // The connection keeps its own copy: scribbling over a written chunk changes nothing.
        await writeAll(world, client, sent);
        for (const chunk of sent) chunk.fill(0);
        expectSameBytes(await world.settle(atServer.received(expected.byteLength)), expected);

        const answer = patterned(70_000, 9);
        await writeAll(world, server, [answer]);
        expectSameBytes(await world.settle(atClient.received(answer.byteLength)), answer);
      });

      test('write returns false under backpressure and onDrain follows', async (world) => {
        const { client, server } = await connectedPair(world);
        const atServer = collect(server);
        const chunk = patterned(64 * 1024, 3);
        const limit = 1024; // 64 MiB: far beyond any reasonable send buffer.
        let written = 0;
        let accepted = true;
        while (accepted && written < limit) {
          accepted = client.write(chunk);
          written += 1;
        }
        expect(accepted).toBe(false);
        const drained = deferred<undefined>();
        client.onDrain(() => drained.resolve(undefined));
        await world.settle(drained.promise);
        const all = await world.settle(atServer.received(written * chunk.byteLength));
        expect(all.byteLength).toBe(written * chunk.byteLength);
      });

      test('close sends queued bytes, then both ends report a clean close once', async (world) => {
        const { client, server } = await connectedPair(world);
        const atServer = collect(server);
        let serverCloses = 0;
        const serverClosed = deferred<Error | undefined>();
        server.onClose((error) => {
          serverCloses += 1;
          serverClosed.resolve(error);
        });
        const clientClosed = closed(client);
        const last = patterned(10_000, 4);
        client.write(last);
        client.close();
        client.close();
        expect(await world.settle(serverClosed.promise)).toBeUndefined();
        expectSameBytes(concat(atServer.chunks), last);
        expect((await world.settle(clientClosed)).error).toBeUndefined();
        // One more turn of the loop, in which a second close report would show.
        const tick = deferred<undefined>();
        world.nodes[0].clock.setTimer(10, () => tick.resolve(undefined));
        await world.settle(tick.promise);
        expect(serverCloses).toBe(1);
      });

      test('destroy closes both ends at once', async (world) => {
        const { client, server } = await connectedPair(world);
        const serverClosed = closed(server);
        const clientClosed = closed(client);
        client.destroy();
        await world.settle(serverClosed);
        await world.settle(clientClosed);
      });

      test('a close listener subscribed after the close is still called', async (world) => {
        const { client, server } = await connectedPair(world);
        const firstReport = closed(server);
        client.close();
        await world.settle(firstReport);
        expect((await world.settle(closed(server))).error).toBeUndefined();
      });

      test('closing the listener keeps open connections working', async (world) => {
        const { listener, client, server } = await connectedPair(world);
        listener.close();
        const atServer = collect(server);
        const hello = bytesOf('still here');
        client.write(hello);
        expectSameBytes(await world.settle(atServer.received(hello.byteLength)), hello);
      });

      test('connecting to a port nobody listens on rejects', async (world) => {
        const [a, b] = world.nodes;
        const listener = await world.settle(
          a.network.listen(world.bindAddress(a), () => undefined),
        );
        const address = listener.address;
        listener.close();
        await expect(world.settle(b.network.connect(address))).rejects.toBeInstanceOf(Error);
      });

      test('connect with an aborted signal rejects with its reason', async (world) => {
        const [a, b] = world.nodes;
        const listener = await world.settle(
          a.network.listen(world.bindAddress(a), () => undefined),
        );
        const controller = new AbortController();
        const reason = new Error('caller gave up');
        controller.abort(reason);
        await expect(
          world.settle(b.network.connect(listener.address, { signal: controller.signal })),
        ).rejects.toBe(reason);
      });

      test('an unsubscribed data listener gets nothing more; others still do', async (world) => {
        const { client, server } = await connectedPair(world);
        let removedCalls = 0;
        const unsubscribe = server.onData(() => (removedCalls += 1));
        const atServer = collect(server);
        unsubscribe();
        const hello = bytesOf('hello');
        client.write(hello);
        expectSameBytes(await world.settle(atServer.received(hello.byteLength)), hello);
        expect(removedCalls).toBe(0);
      });
    });

    describe('storage', () => {
      test('writes and deletes are visible at once', (world) => {
        const store = world.nodes[0].storage.open('compliance');
        expect(store.get('k')).toBeUndefined();
        store.put('k', bytesOf('one'));
        expectSameBytes(store.get('k') ?? new Uint8Array(), bytesOf('one'));
        store.put('k', bytesOf('two'));
        expectSameBytes(store.get('k') ?? new Uint8Array(), bytesOf('two'));
        store.delete('k');
        expect(store.get('k')).toBeUndefined();
        store.delete('never-written');
        store.put('empty', new Uint8Array(0));
        expect(store.get('empty')?.byteLength).toBe(0);
      });

      test('values are copied in and out', (world) => {
        const store = world.nodes[0].storage.open('compliance');
        const value = bytesOf('original');
        store.put('k', value);
        value.fill(0);
        const read = store.get('k');
        expectSameBytes(read ?? new Uint8Array(), bytesOf('original'));
        read?.fill(0);
        expectSameBytes(store.get('k') ?? new Uint8Array(), bytesOf('original'));
      });

      test('keys(prefix) lists matching keys in code-unit order, synced or not', async (world) => {
        const store = world.nodes[0].storage.open('compliance');
        const one = new Uint8Array([1]);
        // U+1F600 sorts below U+FFFF in UTF-16 code units, above it in UTF-8 bytes.
        for (const key of ['b', 'a\u{1F600}', 'ab', 'gone']) store.put(key, one);
        await world.settle(store.sync());
        for (const key of ['a\uFFFF', 'B', 'a', 'c']) store.put(key, one);
        store.delete('gone');
        expect(store.keys()).toEqual(['B', 'a', 'ab', 'a\u{1F600}', 'a\uFFFF', 'b', 'c']);
        expect(store.keys('')).toEqual(store.keys());
        expect(store.keys('a')).toEqual(['a', 'ab', 'a\u{1F600}', 'a\uFFFF']);
        expect(store.keys('zz')).toEqual([]);
      });

      test('sync resolves and keeps every write readable', async (world) => {
        const store = world.nodes[0].storage.open('compliance');
        store.put('synced', bytesOf('s'));
        store.put('deleted', bytesOf('d'));
        await world.settle(store.sync());
        store.delete('deleted');
        await world.settle(store.sync());
        await world.settle(store.sync());
        expectSameBytes(store.get('synced') ?? new Uint8Array(), bytesOf('s'));
        expect(store.get('deleted')).toBeUndefined();
        expect(store.keys()).toEqual(['synced']);
      });

      test('one name is one store; different names are separate', (world) => {
        const { storage } = world.nodes[0];
        storage.open('first').put('k', bytesOf('1'));
        expectSameBytes(storage.open('first').get('k') ?? new Uint8Array(), bytesOf('1'));
        expect(storage.open('second').get('k')).toBeUndefined();
        expect(storage.open('second').keys()).toEqual([]);
        expect(world.nodes[1].storage.open('first').get('k')).toBeUndefined();
      });

      test('a store name outside letters, digits, - and _ is refused', (world) => {
        const { storage } = world.nodes[0];
        for (const bad of ['', 'a/b', '../x', 'with space', 'dot.name']) {
          expect(thrownCode(() => storage.open(bad))).toBe('INVALID_ARGUMENT');
        }
        expect(thrownCode(() => storage.open('Valid_name-1'))).toBe('no error');
      });
    });

    describe('errors', () => {
      test('bind and connect refuse a malformed address', async (world) => {
        const [a] = world.nodes;
        expect(await rejectionCode(world.settle(a.network.connect({ host: '', port: 1 })))).toBe(
          'INVALID_ARGUMENT',
        );
        expect(
          await rejectionCode(
            world.settle(a.network.connect({ ...world.bindAddress(a), port: 70_000 })),
          ),
        ).toBe('INVALID_ARGUMENT');
      });
    });
  });
}
