/**
 * The payment-card and IBAN detectors.
 *
 * @packageDocumentation
 */

import { ibanValid, IBAN_LENGTHS, luhnValid } from './checksums.js';
import { gluedNumberAt, keywordNear, wordCharAt } from './evidence.js';
import { BUILTIN_LABELS, type ClassificationDetector, type DetectorHit } from './types.js';

/** Words that make a card-like number more likely to be one. */
const CARD_KEYWORDS = Object.freeze([
  'card', 'cards', 'credit', 'debit', 'visa', 'mastercard', 'amex', 'american express',
  'discover', 'jcb', 'maestro', 'diners', 'unionpay', 'cc', 'ccn', 'pan', 'cvv', 'cvc',
  'expiry', 'exp', 'payment',
]); // prettier-ignore

/** Words that make an IBAN-like string more likely to be one. */
const IBAN_KEYWORDS = Object.freeze([
  'iban', 'bank', 'account', 'sepa', 'bic', 'swift', 'transfer', 'payee', 'beneficiary',
]); // prettier-ignore

function between(prefix: number, low: number, high: number): boolean {
  return prefix >= low && prefix <= high;
}

/**
 * Whether `digits` (already Luhn-checked or not) has the length one of the major card
 * schemes issues for its issuer identification number (IIN) prefix: Visa, Mastercard,
 * American Express, Discover, JCB, Diners Club, UnionPay, Maestro and Mir. Unknown
 * prefixes are not cards.
 *
 * @param digits - The card number's digits.
 * @since 2.0.0
 */
export function cardIinMatchesLength(digits: string): boolean {
  const n = digits.length;
  const p1 = Number(digits.slice(0, 1));
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  if (p1 === 4) return n === 13 || n === 16 || n === 19; // Visa
  if (between(p2, 51, 55) || between(p4, 2221, 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // American Express
  if (between(p4, 2200, 2204)) return n >= 16 && n <= 19; // Mir
  if (between(p4, 3528, 3589)) return n >= 16 && n <= 19; // JCB
  if (between(p3, 300, 305) || p2 === 36 || p2 === 38 || p2 === 39) return n >= 14 && n <= 19; // Diners
  if (p4 === 6011 || between(p3, 644, 649) || p2 === 65) return n >= 16 && n <= 19; // Discover
  if (p2 === 62) return n >= 16 && n <= 19; // UnionPay
  if (p2 === 50 || between(p2, 56, 69)) return n >= 12 && n <= 19; // Maestro
  return false;
}

/**
 * Whether `digits` is a plausible payment card number: 12 to 19 digits, not all the
 * same digit, a known IIN at a length its scheme issues, and a valid Luhn check digit.
 *
 * @param digits - The digits without separators.
 * @since 2.0.0
 */
export function cardNumberValid(digits: string): boolean {
  if (!/^\d{12,19}$/.test(digits)) return false;
  if (/^(\d)\1*$/.test(digits)) return false;
  return cardIinMatchesLength(digits) && luhnValid(digits);
}

/** Runs of digit groups separated by single spaces or hyphens; linear, no backtracking. */
const DIGIT_RUN = /\d+(?:[ -]\d+)*/g;

interface Group {
  readonly start: number;
  readonly end: number;
  /** The separator before this group ('' for the first of a run). */
  readonly separator: string;
}

/**
 * The ways card numbers are printed in groups: 4-4-4-4 (16 digits), 4-4-4-4-3 (19),
 * 4-4-4-1 (13-digit Visa), 4-4-4-3 and 4-6-5 (15, American Express), 4-6-4 (14,
 * Diners Club). Other groupings (4-4-4-4-2, …) are read as a number and something else.
 */
const PRINTED_GROUPINGS = new Set(['4-4-4-4', '4-4-4-4-3', '4-4-4-1', '4-4-4-3', '4-6-5', '4-6-4']);

function cardGrouping(lengths: readonly number[]): boolean {
  return lengths.length === 1 || PRINTED_GROUPINGS.has(lengths.join('-'));
}

/**
 * Uppercase grouped codes shaped like a printed IBAN (country, check digits, groups of
 * four): digits inside one belong to it, valid IBAN or not, never to a card number.
 */
const IBAN_SHAPED = /[A-Z]{2}\d{2}(?: [A-Z0-9]{4})+(?: [A-Z0-9]{1,4})?/g;

/**
 * Finds payment card numbers, printed without separators or grouped with spaces or
 * hyphens (one kind per number), and passing {@link cardNumberValid}.
 *
 * Where a number ends in running text is decided by its grouping: a run of digit groups
 * is read from its start; a number may be followed by a group of another length (`4111
 * 1111 1111 1111 12/26` gives the card), but a run of four-digit groups is one number
 * (`6011 0000 0000 0004 1234` is not a card, and nor is any part of it). A leading group
 * that is not four digits is skipped (`ref 12 4111 1111 1111 1111`). Digits glued to a
 * word, a `+`, a decimal point or other punctuation-and-digit (`2025.1`, `10:30`), or inside an IBAN-shaped code are not card digits.
 *
 * Confidence: 0.8 for an ungrouped number, 0.85 for a grouped one, 0.99 when a card
 * keyword ("card", "visa", "cvv", …) is within `KEYWORD_WINDOW` (48) characters.
 *
 * @since 2.0.0
 */
export function createCardDetector(): ClassificationDetector {
  return Object.freeze({
    name: 'builtin.card',
    label: BUILTIN_LABELS.card,
    exclusive: true,
    scan(text: string, maxHits: number): readonly DetectorHit[] {
      const hits: DetectorHit[] = [];
      const ibanShaped = [...text.matchAll(IBAN_SHAPED)]
        .filter((m) => IBAN_LENGTHS[m[0].slice(0, 2)] !== undefined)
        .map((m) => [m.index, m.index + m[0].length] as const);
      let shaped = 0;
      for (const run of text.matchAll(DIGIT_RUN)) {
        if (hits.length >= maxHits) break;
        const runStart = run.index;
        const runEnd = runStart + run[0].length;
        while (shaped < ibanShaped.length && (ibanShaped[shaped]?.[1] ?? 0) <= runStart) shaped++;
        if ((ibanShaped[shaped]?.[0] ?? Infinity) < runEnd) continue;
        const groups = splitGroups(run[0], runStart);
        // A group glued to a word or a decimal point is part of something else.
        const before = text[runStart - 1];
        if (wordCharAt(text, runStart - 1) || before === '.' || before === '+') groups.shift();
        if (wordCharAt(text, runEnd) || gluedNumberAt(text, runEnd)) groups.pop();
        scanGroups(text, groups, hits, maxHits);
      }
      return hits;
    },
  });
}

function splitGroups(run: string, offset: number): Group[] {
  const groups: Group[] = [];
  let start = 0;
  let separator = '';
  for (let i = 0; i <= run.length; i++) {
    const c = run[i];
    if (c === undefined || c === ' ' || c === '-') {
      groups.push({ start: offset + start, end: offset + i, separator });
      separator = c ?? '';
      start = i + 1;
    }
  }
  return groups;
}

const lengthOf = (group: Group | undefined): number =>
  group === undefined ? 0 : group.end - group.start;

const separatorOf = (groups: readonly Group[], k: number): string | undefined =>
  groups[k]?.separator;

/**
 * Whether a number ending at group `j` would cut a grouping of four-digit groups: the
 * next group has four digits too, after the same separator, and is not itself the
 * start of something grouped differently (a date such as `2024-05-17`).
 */
function cutsGrouping(groups: readonly Group[], j: number): boolean {
  if (lengthOf(groups[j]) !== 4 || lengthOf(groups[j + 1]) !== 4) return false;
  if (j > 0 && separatorOf(groups, j + 1) !== separatorOf(groups, j)) return false;
  return groups[j + 2] === undefined || separatorOf(groups, j + 2) === separatorOf(groups, j + 1);
}

/**
 * Whether group `i` lies in a run of four or more four-digit groups with one separator:
 * such a run reads as one number, so no number starts inside it.
 */
function insideFourDigitRun(groups: readonly Group[], i: number): boolean {
  if (lengthOf(groups[i]) !== 4) return false;
  const separator = separatorOf(groups, i + 1) ?? separatorOf(groups, i);
  let lo = i;
  let hi = i;
  while (lo > 0 && lengthOf(groups[lo - 1]) === 4 && separatorOf(groups, lo) === separator) lo--;
  while (lengthOf(groups[hi + 1]) === 4 && separatorOf(groups, hi + 1) === separator) hi++;
  return hi - lo + 1 >= 4;
}

function scanGroups(
  text: string,
  groups: readonly Group[],
  hits: DetectorHit[],
  maxHits: number,
): void {
  let i = 0;
  while (i < groups.length && hits.length < maxHits) {
    let taken = -1;
    // Longest window first, so a 19-digit number is not reported as its 16-digit prefix.
    for (let j = Math.min(groups.length - 1, i + 5); j >= i && taken === -1; j--) {
      if (!(j > i && cutsGrouping(groups, j)) && window(text, groups, i, j, hits)) taken = j;
    }
    if (taken !== -1) i = taken + 1;
    else if (insideFourDigitRun(groups, i)) break;
    else i++;
  }
}

function window(
  text: string,
  groups: readonly Group[],
  i: number,
  j: number,
  hits: DetectorHit[],
): boolean {
  // Lengths first: most windows fail on them, before any string is built.
  const lengths: number[] = [];
  let total = 0;
  for (let k = i; k <= j; k++) {
    const group = groups[k];
    if (group === undefined) return false;
    if (k > i && group.separator !== groups[i + 1]?.separator) return false;
    lengths.push(group.end - group.start);
    total += group.end - group.start;
  }
  if (total < 12 || total > 19 || !cardGrouping(lengths)) return false;
  let digits = '';
  for (let k = i; k <= j; k++) digits += text.slice(groups[k]?.start, groups[k]?.end);
  if (!cardNumberValid(digits)) return false;
  const start = groups[i]?.start ?? 0;
  const end = groups[j]?.end ?? 0;
  const confidence = keywordNear(text, start, end, CARD_KEYWORDS) ? 0.99 : i === j ? 0.8 : 0.85;
  hits.push(Object.freeze({ start, end, confidence }));
  return true;
}

/** Candidate IBANs: a country code, check digits and 11–30 more characters, single spaces allowed. */
const IBAN_CANDIDATE = /[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}/g;

/**
 * Finds IBANs in electronic form (`DE89370400440532013000`) or print form (groups of
 * four separated by single spaces, `DE89 3704 0044 0532 0130 00`), upper case. A
 * candidate must have a known country, exactly that country's length, and a MOD 97-10
 * remainder of 1; the IBAN must not be glued to a neighbouring letter or digit.
 * Confidence: 0.95 (a random string passes the check with probability 1/97 after
 * the country and length checks), 0.99 near an IBAN keyword ("iban", "bank",
 * "account", …).
 *
 * @since 2.0.0
 */
export function createIbanDetector(): ClassificationDetector {
  return Object.freeze({
    name: 'builtin.iban',
    label: BUILTIN_LABELS.iban,
    exclusive: true,
    scan(text: string, maxHits: number): readonly DetectorHit[] {
      const hits: DetectorHit[] = [];
      const pattern = new RegExp(IBAN_CANDIDATE.source, 'g');
      let match: RegExpExecArray | null;
      while (hits.length < maxHits && (match = pattern.exec(text)) !== null) {
        const hit = ibanAt(text, match.index, match[0]);
        if (hit === undefined) {
          // An invalid candidate may hide a valid IBAN starting inside it.
          pattern.lastIndex = match.index + 1;
          continue;
        }
        hits.push(hit);
        pattern.lastIndex = hit.end;
      }
      return hits;
    },
  });
}

function ibanAt(text: string, start: number, candidate: string): DetectorHit | undefined {
  if (wordCharAt(text, start - 1)) return undefined;
  const length = IBAN_LENGTHS[candidate.slice(0, 2)];
  if (length === undefined) return undefined;
  let compact = '';
  let end = start;
  const spaced = candidate[4] === ' ';
  for (let i = 0; i < candidate.length && compact.length < length; i++) {
    const c = candidate[i] ?? '';
    if (c === ' ') {
      // Print form puts a space after every fourth character, and only there.
      if (!spaced || compact.length % 4 !== 0) return undefined;
      continue;
    }
    if (spaced && compact.length > 0 && compact.length % 4 === 0 && candidate[i - 1] !== ' ') {
      return undefined;
    }
    compact += c;
    end = start + i + 1;
  }
  if (compact.length !== length || wordCharAt(text, end) || !ibanValid(compact)) return undefined;
  const confidence = keywordNear(text, start, end, IBAN_KEYWORDS) ? 0.99 : 0.95;
  return Object.freeze({ start, end, confidence });
}
