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

/** Parses a comma-separated list of `host:port` peer addresses; port 0 is refused (it cannot be dialled). */
export function parseAddressList(value: string, previous: ListenAddress[] = []): ListenAddress[] {
  const addresses = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map(parseListenAddress);
  if (addresses.length === 0) {
    throw new InvalidArgumentError(`expected host:port[,host:port…], got '${value}'`);
  }
  if (addresses.some((address) => address.port === 0)) {
    throw new InvalidArgumentError(`a peer address needs a port from 1 to 65535, got '${value}'`);
  }
  // Repeating the option adds to the list.
  return [...previous, ...addresses];
}

/** Parses a duration in whole milliseconds, at least 1. */
export function parseMilliseconds(value: string): number {
  const ms = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(ms) || ms < 1) {
    throw new InvalidArgumentError(
      `expected a whole number of milliseconds, at least 1, got '${value}'`,
    );
  }
  return ms;
}

/** Parses a comma-separated list of http(s) URLs (etcd endpoints); repeating the option adds. */
export function parseUrlList(value: string, previous: string[] = []): string[] {
  const urls = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new InvalidArgumentError(`expected an http:// or https:// URL, got '${url}'`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new InvalidArgumentError(`expected an http:// or https:// URL, got '${url}'`);
    }
  }
  if (urls.length === 0) throw new InvalidArgumentError(`expected URL[,URL…], got '${value}'`);
  return [...previous, ...urls];
}
