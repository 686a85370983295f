/**
 * The IPv4 and IPv6 address detectors, with real parsers (RFC 4291 section 2.2 text
 * forms for IPv6), not loose patterns.
 *
 * @packageDocumentation
 */

import { keywordNear, wordCharAt } from './evidence.js';
import { BUILTIN_LABELS, type ClassificationDetector, type DetectorHit } from './types.js';

const IP_KEYWORDS = Object.freeze([
  'ip', 'ipv4', 'ipv6', 'address', 'addr', 'host', 'server', 'gateway', 'dns', 'subnet', 'client',
]); // prettier-ignore

/**
 * Whether `text` is an IPv4 address in dotted-decimal form: four decimal octets 0–255
 * separated by dots, without leading zeros (`010` is octal to some parsers and decimal
 * to others, so it is rejected as ambiguous).
 *
 * @param text - The candidate, nothing around it.
 * @since 2.0.0
 */
export function parseIpv4(text: string): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  return parts.every((part) => /^(?:0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255);
}

/**
 * Whether `text` is an IPv6 address in one of the RFC 4291 text forms: eight groups of
 * 1–4 hex digits separated by colons; or fewer with one `::` standing for one or more
 * zero groups; optionally with the last two groups written as an embedded IPv4
 * address (`::ffff:192.0.2.1`). Zone identifiers (`%eth0`) and prefix lengths (`/64`)
 * are not part of the address.
 *
 * @param text - The candidate, nothing around it.
 * @since 2.0.0
 */
export function parseIpv6(text: string): boolean {
  if (text.length < 2 || text.length > 45) return false;
  const gap = text.indexOf('::');
  if (gap !== -1 && text.indexOf('::', gap + 1) !== -1) return false;
  const head = gap === -1 ? text : text.slice(0, gap);
  const tail = gap === -1 ? '' : text.slice(gap + 2);
  const parts = [...(head === '' ? [] : head.split(':')), ...(tail === '' ? [] : tail.split(':'))];
  if (gap === -1 && head === '') return false;
  let groups = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (part.includes('.')) {
      if (i !== parts.length - 1 || !parseIpv4(part)) return false;
      // An embedded IPv4 address must end the address, after the gap if there is one.
      if (gap !== -1 && tail === '') return false;
      groups += 2;
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(part)) {
      groups += 1;
    } else {
      return false;
    }
  }
  return gap === -1 ? groups === 8 : groups <= 7;
}

const IPV4_CANDIDATE = /\d{1,3}(?:\.\d{1,3}){3}/g;

/**
 * Finds IPv4 addresses ({@link parseIpv4}) not glued to a letter, digit, underscore or
 * dotted continuation (`1.2.3.4.5` is not an address; `10.0.0.1:8080`, `10.0.0.1/24`
 * and a sentence-ending dot are fine). Confidence: 0.8 (version numbers share the
 * shape), 0.95 near "ip", "address", "host", "server", ….
 *
 * @since 2.0.0
 */
export function createIpv4Detector(): ClassificationDetector {
  return Object.freeze({
    name: 'builtin.ipv4',
    label: BUILTIN_LABELS.ipv4,
    exclusive: true,
    scan(text: string, maxHits: number): readonly DetectorHit[] {
      const hits: DetectorHit[] = [];
      for (const m of text.matchAll(IPV4_CANDIDATE)) {
        if (hits.length >= maxHits) break;
        const start = m.index;
        const end = start + m[0].length;
        if (wordCharAt(text, start - 1) || text[start - 1] === '.') continue;
        if (wordCharAt(text, end) || (text[end] === '.' && /\d/.test(text[end + 1] ?? '')))
          continue;
        if (!parseIpv4(m[0])) continue;
        const confidence = keywordNear(text, start, end, IP_KEYWORDS) ? 0.95 : 0.8;
        hits.push(Object.freeze({ start, end, confidence }));
      }
      return hits;
    },
  });
}

/** Maximal runs of the characters an IPv6 address is written with; linear. */
const IPV6_RUN = /[0-9A-Fa-f:.]+/g;

/**
 * Finds IPv6 addresses ({@link parseIpv6}) in maximal runs of hex digits, colons and
 * dots that are not glued to another letter or underscore. A single leading or
 * trailing colon and trailing dots are punctuation (`IP:2001:db8::1`, `… ::1.`); the
 * bare unspecified address `::` is not reported (it is too common as punctuation).
 * Confidence: 0.9, 0.97 near "ip", "address", "host", ….
 *
 * @since 2.0.0
 */
export function createIpv6Detector(): ClassificationDetector {
  return Object.freeze({
    name: 'builtin.ipv6',
    label: BUILTIN_LABELS.ipv6,
    exclusive: true,
    scan(text: string, maxHits: number): readonly DetectorHit[] {
      const hits: DetectorHit[] = [];
      for (const m of text.matchAll(IPV6_RUN)) {
        if (hits.length >= maxHits) break;
        let start = m.index;
        let end = start + m[0].length;
        const firstColon = m[0].indexOf(':');
        // Most runs are hex-looking words or decimals: skip them before splitting anything.
        if (firstColon === -1 || m[0].length > 48 || m[0].indexOf(':', firstColon + 1) === -1)
          continue;
        while (end > start && text[end - 1] === '.') end--;
        // A run starting or ending with a colon is delimited by it, whatever is beyond.
        if (text[start] === ':' && text[start + 1] !== ':') start++;
        else if (text[start] !== ':' && wordCharAt(text, start - 1)) continue;
        if (text[end - 1] === ':' && text[end - 2] !== ':') end--;
        else if (text[end - 1] !== ':' && wordCharAt(text, end)) continue;
        const candidate = text.slice(start, end);
        if (!/[0-9A-Fa-f]/.test(candidate) || !parseIpv6(candidate)) continue;
        const confidence = keywordNear(text, start, end, IP_KEYWORDS) ? 0.97 : 0.9;
        hits.push(Object.freeze({ start, end, confidence }));
      }
      return hits;
    },
  });
}
