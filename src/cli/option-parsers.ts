/**
 * Parsers for command-line option values. Each throws commander's
 * InvalidArgumentError, which becomes a usage error (exit 2) naming the option.
 */

import { InvalidArgumentError } from 'commander';
import type { ListenAddress } from '../agent/agent.js';

/** Parses `host:port`: `127.0.0.1:7700`, `localhost:0`, `[::1]:7700`. */
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

/** Parses a node id: 1 to 128 letters, digits, `.`, `_` and `-`. */
export function parseNodeId(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(value)) {
    throw new InvalidArgumentError(
      `expected 1 to 128 letters, digits, '.', '_' or '-', got '${value}'`,
    );
  }
  return value;
}

/** Parses a whole number of nodes, at least 1. */
export function parseCount(value: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(count) || count < 1) {
    throw new InvalidArgumentError(`expected a whole number of at least 1, got '${value}'`);
  }
  return count;
}
