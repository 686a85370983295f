/**
 * The e-mail address, US Social Security number and phone number detectors.
 *
 * @packageDocumentation
 */

import { gluedNumberAt, keywordNear, wordCharAt } from './evidence.js';
import { BUILTIN_LABELS, type ClassificationDetector, type DetectorHit } from './types.js';

const EMAIL_KEYWORDS = Object.freeze(['email', 'e-mail', 'mail', 'mailto', 'contact']);
const SSN_KEYWORDS = Object.freeze(['ssn', 'social security', 'social-security', 'ssa', 'tin']);
const PHONE_KEYWORDS = Object.freeze([
  'phone', 'telephone', 'tel', 'mobile', 'cell', 'call', 'fax', 'whatsapp', 'sms',
]); // prettier-ignore

/** RFC 5322 `atext` plus the dot: the characters of an unquoted local part. */
const LOCAL_CHAR = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]/;
const DOMAIN_CHAR = /[A-Za-z0-9.-]/;
const DOMAIN_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const TOP_LEVEL = /^(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$/;

/**
 * Finds e-mail addresses of the common form `local@domain.tld`: an unquoted RFC 5322
 * local part of at most 64 characters (no leading, trailing or doubled dot) and a
 * domain of at most 253 characters with at least two labels, each 1–63 letters,
 * digits or inner hyphens, the last alphabetic (or an `xn--` A-label). Quoted local
 * parts and IP-literal domains are not recognised; a symbol before the first letter or
 * digit of the local part is taken as punctuation. It works outward from each `@`, so
 * it runs in linear time whatever the text. Confidence: 0.9, 0.98 near "email",
 * "mail", "contact".
 *
 * @since 2.0.0
 */
export function createEmailDetector(): ClassificationDetector {
  return Object.freeze({
    name: 'builtin.email',
    label: BUILTIN_LABELS.email,
    exclusive: true,
    scan(text: string, maxHits: number): readonly DetectorHit[] {
      const hits: DetectorHit[] = [];
      let at = text.indexOf('@');
      let floor = 0;
      while (at !== -1 && hits.length < maxHits) {
        const hit = emailAt(text, at, floor);
        if (hit !== undefined) {
          hits.push(hit);
          floor = hit.end;
        }
        at = text.indexOf('@', Math.max(at + 1, floor));
      }
      return hits;
    },
  });
}

function emailAt(text: string, at: number, floor: number): DetectorHit | undefined {
  let start = at;
  while (start > floor && LOCAL_CHAR.test(text[start - 1] ?? '')) {
    start--;
    if (at - start > 64) return undefined;
  }
  // In running text a symbol before the address is punctuation (a quote, a slash),
  // so the local part is taken to start at its first letter or digit.
  while (start < at && !/[A-Za-z0-9]/.test(text[start] ?? '')) start++;
  let end = at + 1;
  while (end < text.length && DOMAIN_CHAR.test(text[end] ?? '')) {
    end++;
    if (end - at - 1 > 253) return undefined;
  }
  // A sentence may end right after the address.
  while (end > at + 1 && (text[end - 1] === '.' || text[end - 1] === '-')) end--;
  const local = text.slice(start, at);
  const domain = text.slice(at + 1, end);
  if (local.length === 0 || local.endsWith('.') || local.includes('..')) return undefined;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => DOMAIN_LABEL.test(label))) return undefined;
  if (!TOP_LEVEL.test(labels[labels.length - 1] ?? '')) return undefined;
  const confidence = keywordNear(text, start, end, EMAIL_KEYWORDS) ? 0.98 : 0.9;
  return Object.freeze({ start, end, confidence });
}

/**
 * Whether nine digits are a US Social Security number the SSA could have issued:
 * area not 000, 666 or 900–999, group not 00, serial not 0000, and not one of the
 * numbers the SSA voided after they were published (078-05-1120, 219-09-9999).
 *
 * @param area - The first three digits.
 * @param group - The middle two digits.
 * @param serial - The last four digits.
 * @since 2.0.0
 */
export function ssnValid(area: string, group: string, serial: string): boolean {
  if (!/^\d{3}$/.test(area) || !/^\d{2}$/.test(group) || !/^\d{4}$/.test(serial)) return false;
  const a = Number(area);
  if (a === 0 || a === 666 || a >= 900) return false;
  if (group === '00' || serial === '0000') return false;
  const all = `${area}${group}${serial}`;
  return all !== '078051120' && all !== '219099999';
}

const SSN_FORMATTED = /(\d{3})([- ])(\d{2})\2(\d{4})/g;
const NINE_DIGITS = /\d{9}/g;

/**
 * Finds US Social Security numbers: `AAA-GG-SSSS` or `AAA GG SSSS` anywhere, and nine
 * bare digits only within `KEYWORD_WINDOW` (48) characters of "SSN" or "social
 * security" (nine digits alone are too common to call). The number must not be glued
 * to a letter, digit or hyphen, and must pass {@link ssnValid}. Confidence: 0.7
 * hyphenated, 0.5 space-separated, 0.95 for either near a keyword, 0.85 for nine bare
 * digits near a keyword.
 *
 * @since 2.0.0
 */
export function createSsnDetector(): ClassificationDetector {
  return Object.freeze({
    name: 'builtin.ssn',
    label: BUILTIN_LABELS.ssn,
    exclusive: true,
    scan(text: string, maxHits: number): readonly DetectorHit[] {
      const hits: DetectorHit[] = [];
      for (const m of text.matchAll(SSN_FORMATTED)) {
        if (hits.length >= maxHits) break;
        const start = m.index;
        const end = start + m[0].length;
        if (glued(text, start, end) || !ssnValid(m[1] ?? '', m[3] ?? '', m[4] ?? '')) continue;
        const near = keywordNear(text, start, end, SSN_KEYWORDS);
        const confidence = near ? 0.95 : m[2] === '-' ? 0.7 : 0.5;
        hits.push(Object.freeze({ start, end, confidence }));
      }
      for (const m of text.matchAll(NINE_DIGITS)) {
        if (hits.length >= maxHits) break;
        const start = m.index;
        const end = start + 9;
        const digits = m[0];
        if (glued(text, start, end)) continue;
        if (!ssnValid(digits.slice(0, 3), digits.slice(3, 5), digits.slice(5))) continue;
        if (!keywordNear(text, start, end, SSN_KEYWORDS)) continue;
        hits.push(Object.freeze({ start, end, confidence: 0.85 }));
      }
      return hits.sort((a, b) => a.start - b.start);
    },
  });
}

function glued(text: string, start: number, end: number): boolean {
  return (
    wordCharAt(text, start - 1) ||
    text[start - 1] === '-' ||
    wordCharAt(text, end) ||
    text[end] === '-'
  );
}

/**
 * North American Numbering Plan numbers: `(NXX) NXX-XXXX`, `NXX-NXX-XXXX`,
 * `NXX.NXX.XXXX` or `NXX NXX XXXX`, optionally after `1` and a separator.
 */
const NANP =
  /(?:1[ .-]?)?(?:\(([2-9]\d\d)\) ?([2-9]\d\d)[ .-]|([2-9]\d\d)([ .-])([2-9]\d\d)\4)\d{4}/g;

interface PhoneGroup {
  readonly end: number;
  readonly digits: number;
  /** The separator before the group; `)` for a space after a parenthesised group. */
  readonly separator: string;
}

/**
 * Reads the digit groups of an international number starting at the `+` at `plus`: the
 * country-code group, then groups after single separators (space, dot, hyphen), at most
 * one of them in parentheses.
 */
function internationalGroups(text: string, plus: number): PhoneGroup[] {
  const groups: PhoneGroup[] = [];
  let i = plus + 1;
  let digits = 0;
  while (/\d/.test(text[i] ?? '')) {
    i++;
    digits++;
  }
  if (digits === 0 || text[plus + 1] === '0') return groups;
  groups.push({ end: i, digits, separator: '' });
  let parenthesised = false;
  while (groups.length < 8) {
    let j = i;
    let separator = text[j] ?? '';
    if (separator === ' ' || separator === '-' || separator === '.') j++;
    else if (separator === '(') separator = '';
    else break;
    if (text[i - 1] === ')' && separator === ' ') separator = ')';
    let open = false;
    if (text[j] === '(' && !parenthesised) {
      open = true;
      j++;
    }
    const from = j;
    while (/\d/.test(text[j] ?? '') && j - from < 15) j++;
    if (j === from) break;
    if (open) {
      if (text[j] !== ')' || j - from > 4) break;
      j++;
      parenthesised = true;
    }
    groups.push({ end: j, digits: j - from - 0, separator });
    i = j;
  }
  return groups;
}

/**
 * The end of the longest well-formed international number made of the first groups:
 * 8–15 digits in all (E.164 allows at most 15), exactly 11 for country code 1, one
 * kind of separator, and a last group of at least two digits (a single trailing digit
 * in running text is a count, not part of the number) not glued to more digits
 * ({@link gluedNumberAt}). -1 when there is none.
 */
function internationalEnd(text: string, plus: number): number {
  const groups = internationalGroups(text, plus);
  for (let n = groups.length; n >= 1; n--) {
    const chosen = groups.slice(0, n);
    const digits = chosen.reduce((sum, group) => sum + group.digits, 0);
    const last = chosen[n - 1];
    if (last === undefined) continue;
    if (digits < 8 || digits > 15 || last.digits < 2 || gluedNumberAt(text, last.end)) continue;
    if (text[plus + 1] === '1' && digits !== 11) continue;
    const separators = new Set(
      chosen
        .slice(1)
        .map((group) => group.separator)
        .filter((s) => s !== ')' && s !== ''),
    );
    if (separators.size > 1) continue;
    return last.end;
  }
  return -1;
}

/**
 * Finds phone numbers in two families, and documents exactly which:
 *
 * - international: `+` and 8–15 digits, grouped with single spaces, dots or hyphens,
 *   with at most one parenthesised group (`+44 20 7946 0958`, `+1-415-555-2671`,
 *   `+49 (30) 901820`, `+14155552671`);
 * - North American national: `(415) 555-2671`, `415-555-2671`, `415.555.2671`,
 *   `415 555 2671`, optionally after `1` (`1-415-555-2671`), with area code and
 *   exchange starting 2–9 and the same separator twice.
 *
 * Other national formats (a trunk `0` without a country code) are not recognised:
 * without the `+` they are indistinguishable from other digit groups. The number must
 * not be glued to a letter, digit, `+` or dot-digit. Confidence: 0.75 international,
 * 0.7 parenthesised NANP, 0.6 other NANP, 0.9 for any near "phone", "tel", "mobile",
 * "call", "fax", ….
 *
 * @since 2.0.0
 */
export function createPhoneDetector(): ClassificationDetector {
  return Object.freeze({
    name: 'builtin.phone',
    label: BUILTIN_LABELS.phone,
    exclusive: true,
    scan(text: string, maxHits: number): readonly DetectorHit[] {
      const hits: DetectorHit[] = [];
      for (
        let plus = text.indexOf('+');
        plus !== -1 && hits.length < maxHits;
        plus = text.indexOf('+', plus + 1)
      ) {
        if (wordCharAt(text, plus - 1) || text[plus - 1] === '+') continue;
        const end = internationalEnd(text, plus);
        if (end === -1 || wordCharAt(text, end)) continue;
        hits.push(
          Object.freeze({ start: plus, end, confidence: phoneConfidence(text, plus, end, 0.75) }),
        );
        plus = end - 1;
      }
      const nanp = new RegExp(NANP.source, 'g');
      let m: RegExpExecArray | null;
      while (hits.length < maxHits && (m = nanp.exec(text)) !== null) {
        const start = m.index;
        const end = start + m[0].length;
        // A rejected candidate may hide a number starting inside it (`5521 (497) 790-2111`).
        nanp.lastIndex = start + 1;
        const before = text[start - 1];
        if (wordCharAt(text, start - 1) || before === '+' || before === '-' || before === '.') {
          continue;
        }
        if (wordCharAt(text, end) || gluedNumberAt(text, end)) continue;
        if (hits.some((hit) => hit.start < end && start < hit.end)) continue;
        const base = m[1] === undefined ? 0.6 : 0.7;
        hits.push(
          Object.freeze({ start, end, confidence: phoneConfidence(text, start, end, base) }),
        );
        nanp.lastIndex = end;
      }
      return hits.sort((a, b) => a.start - b.start);
    },
  });
}

function phoneConfidence(text: string, start: number, end: number, base: number): number {
  return keywordNear(text, start, end, PHONE_KEYWORDS) ? 0.9 : base;
}
