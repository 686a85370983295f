// A deterministic, seeded, labelled corpus for measuring the classifier: valid values
// of every built-in label and near misses (values that look right but fail a check),
// embedded in filler text. Each document records where its valid values are.
import {
  ibanCheckDigits,
  IBAN_LENGTHS,
} from '../../../src/core/governance/classification/checksums.js';
import { classify } from '../../../src/core/governance/classification/classifier.js';
import { BUILTIN_LABELS } from '../../../src/core/governance/classification/types.js';
import { createSeededRandom, type SeededRandom } from '../../../src/core/random/seeded-random.js';

export interface TruthSpan {
  readonly label: string;
  readonly start: number;
  readonly end: number;
}

export interface CorpusDocument {
  readonly text: string;
  readonly truth: readonly TruthSpan[];
  /** How many near misses of each label were embedded. */
  readonly nearMisses: Readonly<Record<string, number>>;
}

type Item = { readonly value: string; readonly valid: boolean; readonly keyword?: string };
type Generator = (r: SeededRandom) => Item;

const FILLER = [
  'the', 'report', 'was', 'sent', 'on', 'Monday', 'and', 'reviewed', 'by', 'our', 'team',
  'invoice', 'total', '$1,234.56', 'due', '2024-05-17', 'at', '10:30', 'order', 'ORD-48213',
  'version', 'v2.3.1', 'shipped', '42', 'items', 'to', 'warehouse', '94103', 'please', 'note',
  'Q3', 'revenue', 'grew', '12.5%', 'see', 'page', '7', 'ref', 'A-17', 'from', 'the', 'branch',
  'in', 'Berlin', 'for', 'customer', 'requests', 'ticket', '#5521', 'closed', 'after', '3',
  'days', 'SKU', '000123', 'EUR', '19.99', 'x86_64', 'build', '2025.1', 'port', '8080',
]; // prettier-ignore

const pick = <T>(r: SeededRandom, items: readonly T[]): T => items[r.int(items.length)] as T;
const digits = (r: SeededRandom, n: number): string =>
  Array.from({ length: n }, () => String(r.int(10))).join('');

function luhnComplete(body: string): string {
  for (let d = 0; d <= 9; d++) {
    const candidate = body + String(d);
    let sum = 0;
    for (let i = 0; i < candidate.length; i++) {
      let v = Number(candidate[candidate.length - 1 - i]);
      if (i % 2 === 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
      sum += v;
    }
    if (sum % 10 === 0) return candidate;
  }
  throw new Error('unreachable');
}

function cardBody(r: SeededRandom): { prefix: string; length: number } {
  const schemes: { prefix: () => string; length: number }[] = [
    { prefix: () => '4', length: 16 },
    { prefix: () => '4', length: 13 },
    { prefix: () => String(51 + r.int(5)), length: 16 },
    { prefix: () => String(2221 + r.int(500)), length: 16 },
    { prefix: () => pick(r, ['34', '37']), length: 15 },
    { prefix: () => '6011', length: 16 },
    { prefix: () => String(3528 + r.int(62)), length: 16 },
  ];
  const scheme = pick(r, schemes);
  return { prefix: scheme.prefix(), length: scheme.length };
}

function formatCard(r: SeededRandom, number: string): string {
  const style = r.int(3);
  if (style === 0) return number;
  const separator = style === 1 ? ' ' : '-';
  const lengths = number.length === 15 ? [4, 6, 5] : [];
  if (lengths.length === 0)
    for (let i = 0; i < number.length; i += 4) lengths.push(Math.min(4, number.length - i));
  const groups: string[] = [];
  let at = 0;
  for (const length of lengths) {
    groups.push(number.slice(at, at + length));
    at += length;
  }
  return groups.join(separator);
}

function validCard(r: SeededRandom): string {
  const { prefix, length } = cardBody(r);
  return luhnComplete(prefix + digits(r, length - prefix.length - 1));
}

const CARD_KEYWORDS = ['card', 'Visa', 'credit card', 'payment'];

const card: Generator = (r) => ({
  value: formatCard(r, validCard(r)),
  valid: true,
  ...(r.int(2) === 0 ? { keyword: pick(r, CARD_KEYWORDS) } : {}),
});

const cardNearMiss: Generator = (r) => {
  const number = validCard(r);
  const kind = r.int(3);
  let miss: string;
  if (kind === 0) {
    // One digit changed: Luhn catches every single-digit error.
    const at = r.int(number.length);
    const old = Number(number[at]);
    miss = number.slice(0, at) + String((old + 1 + r.int(9)) % 10) + number.slice(at + 1);
  } else if (kind === 1) {
    // Luhn-valid, but a length the scheme does not issue.
    miss = luhnComplete(`4${digits(r, 13)}`); // 15-digit "Visa"
  } else {
    // Luhn-valid, but an issuer prefix no scheme uses.
    miss = luhnComplete(`9${digits(r, 14)}`);
  }
  return {
    value: formatCard(r, miss),
    valid: false,
    ...(r.int(2) === 0 ? { keyword: 'card' } : {}),
  };
};

const IBAN_COUNTRIES = Object.keys(IBAN_LENGTHS);

function validIbanCompact(r: SeededRandom): string {
  const country = pick(r, IBAN_COUNTRIES);
  const length = IBAN_LENGTHS[country] ?? 22;
  // Some countries (GB, NL, …) carry a bank code in letters.
  const bban = r.int(3) === 0 ? randomLetters(r, 4) + digits(r, length - 8) : digits(r, length - 4);
  return country + ibanCheckDigits(country, bban) + bban;
}

function randomLetters(r: SeededRandom, n: number): string {
  return Array.from({ length: n }, () => String.fromCharCode(65 + r.int(26))).join('');
}

const printIban = (compact: string): string => compact.replace(/(.{4})(?=.)/g, '$1 ');

const iban: Generator = (r) => {
  const compact = validIbanCompact(r);
  return {
    value: r.int(2) === 0 ? compact : printIban(compact),
    valid: true,
    ...(r.int(2) === 0 ? { keyword: pick(r, ['IBAN', 'bank account', 'IBAN:']) } : {}),
  };
};

const ibanNearMiss: Generator = (r) => {
  const compact = validIbanCompact(r);
  const kind = r.int(3);
  let miss: string;
  if (kind === 0) {
    // Wrong check digits: the remainder moves by the difference, never a multiple of 97.
    const check = Number(compact.slice(2, 4));
    let wrong = 2 + r.int(97);
    if (wrong === check) wrong = wrong === 98 ? 2 : wrong + 1;
    miss = compact.slice(0, 2) + String(wrong).padStart(2, '0') + compact.slice(4);
  } else if (kind === 1) {
    // One BBAN digit changed: MOD 97-10 catches every single-character error.
    const digitsAt = compact
      .slice(4)
      .split('')
      .flatMap((c, i) => (/\d/.test(c) ? [i + 4] : []));
    const at = pick(r, digitsAt);
    miss =
      compact.slice(0, at) +
      String((Number(compact[at]) + 1 + r.int(9)) % 10) +
      compact.slice(at + 1);
  } else {
    // Checksum-valid but the wrong length for the country.
    const country = pick(r, IBAN_COUNTRIES);
    const length = (IBAN_LENGTHS[country] ?? 22) + pick(r, [-1, 1]);
    const bban = digits(r, length - 4);
    miss = country + ibanCheckDigits(country, bban) + bban;
  }
  return {
    value: r.int(2) === 0 ? miss : printIban(miss),
    valid: false,
    ...(r.int(2) === 0 ? { keyword: 'IBAN' } : {}),
  };
};

function ssnParts(r: SeededRandom): [string, string, string] {
  let area = 1 + r.int(899);
  if (area === 666) area = 667;
  return [
    String(area).padStart(3, '0'),
    String(1 + r.int(99)).padStart(2, '0'),
    String(1 + r.int(9999)).padStart(4, '0'),
  ];
}

const ssn: Generator = (r) => {
  const [a, g, s] = ssnParts(r);
  if (r.int(4) === 0) return { value: `${a}${g}${s}`, valid: true, keyword: 'SSN' };
  return { value: `${a}-${g}-${s}`, valid: true, ...(r.int(2) === 0 ? { keyword: 'SSN' } : {}) };
};

const ssnNearMiss: Generator = (r) => {
  let [a, g, s] = ssnParts(r);
  const kind = r.int(5);
  if (kind === 0) a = '000';
  else if (kind === 1) a = '666';
  else if (kind === 2) a = String(900 + r.int(100));
  else if (kind === 3) g = '00';
  else s = '0000';
  return {
    value: r.int(3) === 0 ? `${a}${g}${s}` : `${a}-${g}-${s}`,
    valid: false,
    keyword: 'SSN',
  };
};

const nxx = (r: SeededRandom): string => String(2 + r.int(8)) + digits(r, 2);

const phone: Generator = (r) => {
  const kind = r.int(5);
  let value: string;
  if (kind === 0) value = `+44 20 ${digits(r, 4)} ${digits(r, 4)}`;
  else if (kind === 1) value = `+1${nxx(r)}${nxx(r)}${digits(r, 4)}`;
  else if (kind === 2) value = `(${nxx(r)}) ${nxx(r)}-${digits(r, 4)}`;
  else if (kind === 3) value = `${nxx(r)}.${nxx(r)}.${digits(r, 4)}`;
  else value = `+49 (30) ${digits(r, 6)}`;
  return {
    value,
    valid: true,
    ...(r.int(2) === 0 ? { keyword: pick(r, ['phone', 'call', 'mobile']) } : {}),
  };
};

const phoneNearMiss: Generator = (r) => {
  const kind = r.int(3);
  let value: string;
  if (kind === 0)
    value = `(${String(r.int(2))}${digits(r, 2)}) ${nxx(r)}-${digits(r, 4)}`; // area code 0xx/1xx
  else if (kind === 1)
    value = `+44 20 ${digits(r, 2)}`; // too short
  else value = `+${String(1 + r.int(9))}${digits(r, 16)}`; // too long for E.164
  return { value, valid: false, ...(r.int(2) === 0 ? { keyword: 'phone' } : {}) };
};

const octet = (r: SeededRandom): string => String(r.int(256));

const ipv4: Generator = (r) => ({
  value: [octet(r), octet(r), octet(r), octet(r)].join('.'),
  valid: true,
  ...(r.int(2) === 0 ? { keyword: pick(r, ['host', 'IP', 'server']) } : {}),
});

const ipv4NearMiss: Generator = (r) => {
  const parts = [octet(r), octet(r), octet(r), octet(r)];
  const kind = r.int(3);
  if (kind === 0) parts[r.int(4)] = String(256 + r.int(744));
  else if (kind === 1) parts[r.int(4)] = `0${String(1 + r.int(9))}`;
  else parts.push(octet(r));
  return { value: parts.join('.'), valid: false };
};

function hexGroup(r: SeededRandom): string {
  return r.int(3) === 0 ? '0' : r.int(65536).toString(16);
}

function ipv6Text(r: SeededRandom): string {
  const groups = Array.from({ length: 8 }, () => hexGroup(r));
  const kind = r.int(4);
  if (kind === 0) return groups.join(':');
  if (kind === 1) return `::ffff:${[octet(r), octet(r), octet(r), octet(r)].join('.')}`;
  // Compress a run of groups into '::'.
  const from = r.int(7);
  const to = from + 1 + r.int(7 - from);
  return `${groups.slice(0, from).join(':')}::${groups.slice(to).join(':')}`;
}

const ipv6: Generator = (r) => {
  let value = ipv6Text(r);
  if (value === '::') value = '::1';
  return { value, valid: true, ...(r.int(2) === 0 ? { keyword: 'IPv6 address' } : {}) };
};

const ipv6NearMiss: Generator = (r) => {
  const groups = Array.from({ length: 8 }, () => hexGroup(r));
  const kind = r.int(4);
  let value: string;
  if (kind === 0)
    value = `${groups.slice(0, 2).join(':')}::${groups[2] ?? '1'}::${groups[3] ?? '1'}`;
  else if (kind === 1) value = [...groups, hexGroup(r)].join(':');
  else if (kind === 2) value = `${groups.slice(0, 3).join(':')}::1${digits(r, 4)}`;
  else value = `::ffff:${String(256 + r.int(700))}.1.2.3`;
  return { value, valid: false };
};

const LOCALS = ['john', 'jane.doe', 'a.b-c', 'sales+eu', 'x_y', 'first.last'];
const DOMAINS = ['example.com', 'mail.example.co.uk', 'corp-net.io', 'xn--bcher-kva.de'];

const email: Generator = (r) => ({
  value: `${pick(r, LOCALS)}${String(r.int(100))}@${pick(r, DOMAINS)}`,
  valid: true,
  ...(r.int(2) === 0 ? { keyword: 'email' } : {}),
});

const emailNearMiss: Generator = (r) => {
  const kind = r.int(3);
  const local = pick(r, LOCALS);
  let value: string;
  if (kind === 0) value = `${local}..x@${pick(r, DOMAINS)}`;
  else if (kind === 1) value = `${local}@localhost`;
  else value = `${local}@-bad.example.c`;
  return { value, valid: false };
};

const GENERATORS: readonly { label: string; valid: Generator; miss: Generator }[] = [
  { label: BUILTIN_LABELS.card, valid: card, miss: cardNearMiss },
  { label: BUILTIN_LABELS.iban, valid: iban, miss: ibanNearMiss },
  { label: BUILTIN_LABELS.ssn, valid: ssn, miss: ssnNearMiss },
  { label: BUILTIN_LABELS.phone, valid: phone, miss: phoneNearMiss },
  { label: BUILTIN_LABELS.ipv4, valid: ipv4, miss: ipv4NearMiss },
  { label: BUILTIN_LABELS.ipv6, valid: ipv6, miss: ipv6NearMiss },
  { label: BUILTIN_LABELS.email, valid: email, miss: emailNearMiss },
];

function filler(r: SeededRandom): string {
  return Array.from({ length: 2 + r.int(8) }, () => pick(r, FILLER)).join(' ');
}

/** One document: filler, then `items` values (about half near misses), each followed by filler. */
export function generateDocument(r: SeededRandom, items: number): CorpusDocument {
  let text = filler(r);
  const truth: TruthSpan[] = [];
  const nearMisses: Record<string, number> = {};
  for (let i = 0; i < items; i++) {
    const generator = pick(r, GENERATORS);
    const valid = r.int(2) === 0;
    const item = valid ? generator.valid(r) : generator.miss(r);
    text += pick(r, [' ', ', ', '. ', '; ', ' (']);
    if (item.keyword !== undefined) text += `${item.keyword} `;
    const start = text.length;
    text += item.value;
    if (item.valid) truth.push({ label: generator.label, start, end: text.length });
    else nearMisses[generator.label] = (nearMisses[generator.label] ?? 0) + 1;
    text += `${pick(r, [' ', ', ', '. ', ') '])}${filler(r)}`;
  }
  return { text, truth, nearMisses };
}

/** A corpus of `documents` documents from one seed. */
export function generateCorpus(
  seed: number,
  documents: number,
  itemsPerDocument: number,
): CorpusDocument[] {
  const r = createSeededRandom(seed);
  return Array.from({ length: documents }, () => generateDocument(r, itemsPerDocument));
}

export interface Score {
  tp: number;
  fp: number;
  fn: number;
  nearMisses: number;
}

/** Per-label true/false positives and false negatives of the built-in detectors on one seeded corpus. */
export function measure(seed: number, documents: number, items: number): Map<string, Score> {
  const scores = new Map<string, Score>(
    Object.values(BUILTIN_LABELS).map((label) => [label, { tp: 0, fp: 0, fn: 0, nearMisses: 0 }]),
  );
  for (const doc of generateCorpus(seed, documents, items)) {
    const found = classify(doc.text, { includeSpans: true });
    const truth = new Set(doc.truth.map((t) => `${t.label}@${t.start}-${t.end}`));
    const matched = new Set<string>();
    for (const label of found.labels) {
      const score = scores.get(label.label)!;
      for (const span of label.spans ?? []) {
        const key = `${label.label}@${span.start}-${span.end}`;
        if (truth.has(key)) {
          score.tp++;
          matched.add(key);
        } else {
          score.fp++;
        }
      }
    }
    for (const t of doc.truth) {
      if (!matched.has(`${t.label}@${t.start}-${t.end}`)) scores.get(t.label)!.fn++;
    }
    for (const [label, count] of Object.entries(doc.nearMisses))
      scores.get(label)!.nearMisses += count;
  }
  return scores;
}

export const precision = (s: Score): number => (s.tp + s.fp === 0 ? 1 : s.tp / (s.tp + s.fp));
export const recall = (s: Score): number => (s.tp + s.fn === 0 ? 1 : s.tp / (s.tp + s.fn));
