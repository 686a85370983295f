/** Parses `--http host:port` values: `127.0.0.1:7700`, `localhost:0`, `[::1]:7700`. */

import { InvalidArgumentError } from 'commander';
import type { ListenAddress } from '../agent/agent.js';

/** Parses `host:port`, or throws a usage error that says what is wrong. */
export function parseListenAddress(value: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !Number.isInteger(port) || port > 65_535) {
    throw new InvalidArgumentError(
      `expected host:port (for example 127.0.0.1:7700 or [::1]:7700), got '${value}'`,
    );
  }
  return { host, port };
}
