/** Free loopback ports for tests and benchmarks that start servers on fixed ports. */

import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';

/**
 * Free TCP ports on 127.0.0.1, all held open together (so they differ), then released.
 *
 * @param count - How many.
 */
export async function freeTcpPorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let index = 0; index < count; index += 1) {
      const server = createServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            const bound = server.address();
            resolve(typeof bound === 'object' && bound !== null ? bound.port : 0);
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(
      servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  }
}

/** One free UDP port on 127.0.0.1. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
