// Property tests of the check-digit algorithms and address parsers the detectors rely on.
import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ibanCheckDigits,
  ibanMod97,
  ibanValid,
  IBAN_LENGTHS,
  luhnValid,
} from '../../../src/core/governance/classification/checksums.js';
import { cardNumberValid } from '../../../src/core/governance/classification/financial-detectors.js';
import {
  parseIpv4,
  parseIpv6,
} from '../../../src/core/governance/classification/network-detectors.js';
import { ssnValid } from '../../../src/core/governance/classification/personal-detectors.js';

const digitString = (min: number, max: number) =>
  fc
    .array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max })
    .map((d) => d.join(''));

/** Appends the digit that makes `body` pass Luhn. */
function luhnComplete(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(body + String(d))) return body + String(d);
  throw new Error('no Luhn check digit');
}

describe('Luhn', () => {
  it('has exactly one check digit for every body', () => {
    fc.assert(
      fc.property(digitString(1, 30), (body) => {
        const valid = '0123456789'.split('').filter((d) => luhnValid(body + d));
        expect(valid).toHaveLength(1);
      }),
    );
  });

  it('detects every single-digit error', () => {
    fc.assert(
      fc.property(
        digitString(11, 18),
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        (body, at, delta) => {
          const number = luhnComplete(body);
          const i = at % number.length;
          const changed =
            number.slice(0, i) + String((Number(number[i]) + delta) % 10) + number.slice(i + 1);
          expect(luhnValid(changed)).toBe(false);
        },
      ),
    );
  });

  it('detects every adjacent transposition except 09 <-> 90', () => {
    fc.assert(
      fc.property(digitString(11, 18), fc.nat(), (body, at) => {
        const number = luhnComplete(body);
        const i = at % (number.length - 1);
        const a = number[i]!;
        const b = number[i + 1]!;
        fc.pre(a !== b && !((a === '0' && b === '9') || (a === '9' && b === '0')));
        const swapped = number.slice(0, i) + b + a + number.slice(i + 2);
        expect(luhnValid(swapped)).toBe(false);
      }),
    );
  });

  it('rejects anything but digits', () => {
    expect(luhnValid('')).toBe(false);
    expect(luhnValid('4111 1111 1111 1111')).toBe(false);
    expect(luhnValid('4111111111111111')).toBe(true);
  });

  it('accepts known test card numbers and rejects bad IIN/length combinations', () => {
    for (const n of [
      '4111111111111111',
      '5555555555554444',
      '378282246310005',
      '6011111111111117',
      '3530111333300000',
      '4222222222222',
    ]) {
      expect(cardNumberValid(n), n).toBe(true);
    }
    // Luhn-valid but wrong length for Visa / unknown IIN / all one digit.
    for (const n of [
      luhnComplete('41111111111111'),
      luhnComplete('91111111111111'),
      '0000000000000000',
    ]) {
      expect(cardNumberValid(n), n).toBe(false);
    }
  });
});

const COUNTRIES = Object.keys(IBAN_LENGTHS);
const ibanArbitrary = fc
  .tuple(
    fc.constantFrom(...COUNTRIES),
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 30, maxLength: 30 }),
  )
  .map(([country, digits]) => {
    const bban = digits.slice(0, (IBAN_LENGTHS[country] ?? 22) - 4).join('');
    return country + ibanCheckDigits(country, bban) + bban;
  });

describe('IBAN MOD 97-10', () => {
  it('accepts every IBAN built with the computed check digits', () => {
    fc.assert(
      fc.property(ibanArbitrary, (iban) => {
        expect(ibanValid(iban)).toBe(true);
      }),
    );
  });

  it('detects every single-character substitution', () => {
    fc.assert(
      fc.property(ibanArbitrary, fc.nat(), fc.integer({ min: 1, max: 9 }), (iban, at, delta) => {
        const i = 2 + (at % (iban.length - 2)); // check digits and BBAN are digits here
        const changed =
          iban.slice(0, i) + String((Number(iban[i]) + delta) % 10) + iban.slice(i + 1);
        expect(ibanMod97(changed)).not.toBe(1);
      }),
    );
  });

  it('detects every adjacent transposition of distinct digits', () => {
    fc.assert(
      fc.property(ibanArbitrary, fc.nat(), (iban, at) => {
        const i = 4 + (at % (iban.length - 5));
        fc.pre(iban[i] !== iban[i + 1]);
        const swapped = iban.slice(0, i) + iban[i + 1]! + iban[i]! + iban.slice(i + 2);
        expect(ibanValid(swapped)).toBe(false);
      }),
    );
  });

  it('rejects a checksum-valid IBAN of the wrong length for its country', () => {
    fc.assert(
      fc.property(fc.constantFrom(...COUNTRIES), fc.constantFrom(-1, 1), (country, delta) => {
        const bban = '1'.repeat((IBAN_LENGTHS[country] ?? 22) - 4 + delta);
        const iban = country + ibanCheckDigits(country, bban) + bban;
        expect(ibanMod97(iban)).toBe(1);
        expect(ibanValid(iban)).toBe(false);
      }),
    );
  });

  it('accepts published examples', () => {
    for (const iban of [
      'DE89370400440532013000',
      'GB82WEST12345698765432',
      'FR1420041010050500013M02606',
      'NO9386011117947',
    ]) {
      expect(ibanValid(iban), iban).toBe(true);
    }
    expect(ibanValid('XX89370400440532013000')).toBe(false);
  });
});

describe('SSN rules', () => {
  it('rejects area 000, 666 and 900-999, group 00 and serial 0000', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 0, max: 9999 }),
        (a, g, s) => {
          const area = String(a).padStart(3, '0');
          const expected = a !== 0 && a !== 666 && a < 900 && g !== 0 && s !== 0;
          const voided = `${area}${g}${s}` === '078051120';
          expect(ssnValid(area, String(g).padStart(2, '0'), String(s).padStart(4, '0'))).toBe(
            expected && !voided,
          );
        },
      ),
    );
  });
});

describe('IP address parsers agree with node:net', () => {
  it('IPv4 on dotted strings of small numbers', () => {
    const part = fc.oneof(
      fc.integer({ min: 0, max: 300 }).map(String),
      fc.constantFrom('00', '01', '010', '', '1a'),
    );
    fc.assert(
      fc.property(fc.array(part, { minLength: 3, maxLength: 5 }), (parts) => {
        const text = parts.join('.');
        expect(parseIpv4(text), text).toBe(isIPv4(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('IPv6 on strings over its alphabet', () => {
    const token = fc.constantFrom(
      '0',
      '1',
      'ab',
      'ffff',
      '12345',
      ':',
      ':',
      '::',
      '.',
      '1.2.3.4',
      '256.1.1.1',
      'db8',
      'g',
    );
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 14 }), (tokens) => {
        const text = tokens.join('');
        expect(parseIpv6(text), text).toBe(isIPv6(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('IPv6 on every compressed form of random addresses', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 8 }),
        (groups, a, b) => {
          const hex = groups.map((g) => g.toString(16));
          const [from, to] = a <= b ? [a, b] : [b, a];
          const text =
            from === to
              ? hex.join(':')
              : `${hex.slice(0, from).join(':')}::${hex.slice(to).join(':')}`;
          expect(parseIpv6(text), text).toBe(true);
          expect(isIPv6(text), text).toBe(true);
        },
      ),
    );
  });
});
