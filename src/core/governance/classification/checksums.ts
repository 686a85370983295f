/**
 * The check-digit algorithms the financial detectors rely on: Luhn (ISO/IEC 7812-1)
 * for payment cards and ISO 7064 MOD 97-10 (ISO 13616) for IBANs.
 *
 * @packageDocumentation
 */

/**
 * Whether a string of decimal digits passes the Luhn check: doubling every second
 * digit from the right (subtracting 9 when that passes 9), the digit sum is a
 * multiple of 10. Luhn catches every single-digit error and most adjacent
 * transpositions.
 *
 * @param digits - Only the characters `0`-`9`; anything else (or an empty string) is not valid.
 * @since 2.0.0
 */
export function luhnValid(digits: string): boolean {
  if (digits.length === 0) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    const d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) sum += d * 2 > 9 ? d * 2 - 9 : d * 2;
    else sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * The IBAN length of every country in the SWIFT IBAN registry (ISO 13616), by
 * ISO 3166-1 alpha-2 code. An IBAN whose country is missing here, or whose length
 * differs, is not valid.
 *
 * @since 2.0.0
 */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = Object.freeze({
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27,
  BR: 29, BY: 28, CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28,
  EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23,
  GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26,
  IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21,
  LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28,
  NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22,
  RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25,
  SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
}); // prettier-ignore

/**
 * The remainder modulo 97 of an IBAN after moving its first four characters to the
 * end and replacing each letter by its two-digit number (A = 10 … Z = 35), computed
 * piecewise so no big integers are needed. A valid IBAN gives 1.
 *
 * @param iban - Upper-case letters and digits only, no spaces.
 * @returns The remainder, or -1 when `iban` has another character or fewer than 5.
 * @since 2.0.0
 */
export function ibanMod97(iban: string): number {
  if (iban.length < 5) return -1;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    if (c >= 48 && c <= 57) remainder = (remainder * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) remainder = (remainder * 100 + (c - 55)) % 97;
    else return -1;
  }
  return remainder;
}

/**
 * Whether an IBAN in electronic form (no spaces, upper case) is valid: a known
 * country, that country's length, two check digits, an alphanumeric BBAN and a
 * MOD 97-10 remainder of 1. The BBAN's per-country structure is not checked.
 *
 * @param iban - The IBAN without spaces.
 * @since 2.0.0
 */
export function ibanValid(iban: string): boolean {
  const length = IBAN_LENGTHS[iban.slice(0, 2)];
  if (length === undefined || iban.length !== length) return false;
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  return ibanMod97(iban) === 1;
}

/**
 * The two check digits that make `country + checkDigits + bban` a valid IBAN
 * (98 minus the remainder of `country + "00" + bban`). For generating test data.
 *
 * @param country - The ISO 3166-1 alpha-2 code.
 * @param bban - The upper-case alphanumeric BBAN.
 * @since 2.0.0
 */
export function ibanCheckDigits(country: string, bban: string): string {
  const remainder = ibanMod97(`${country}00${bban}`);
  return String(98 - remainder).padStart(2, '0');
}
