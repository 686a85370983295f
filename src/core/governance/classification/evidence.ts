/**
 * Context evidence for detectors: whether a keyword such as "card" or "IBAN" appears
 * near a match, which raises its confidence.
 *
 * @packageDocumentation
 */

/**
 * How many code units before the start and after the end of a match are searched for
 * a keyword.
 *
 * @since 2.0.0
 */
export const KEYWORD_WINDOW = 48;

function isWordChar(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === 95
  );
}

/**
 * Whether one of `keywords` (lower case) occurs as a whole word within
 * {@link KEYWORD_WINDOW} code units before `start` or after `end` in `text`, case
 * insensitively. Runs in time linear in the window and the keyword count.
 *
 * @param text - The scanned text.
 * @param start - Start of the match.
 * @param end - End of the match (exclusive).
 * @param keywords - Lower-case keywords; may contain spaces or hyphens.
 * @since 2.0.0
 */
export function keywordNear(
  text: string,
  start: number,
  end: number,
  keywords: readonly string[],
): boolean {
  if (keywords.length === 0) return false;
  const before = text.slice(Math.max(0, start - KEYWORD_WINDOW), start).toLowerCase();
  const after = text.slice(end, end + KEYWORD_WINDOW).toLowerCase();
  return keywords.some((keyword) => containsWord(before, keyword) || containsWord(after, keyword));
}

function containsWord(haystack: string, word: string): boolean {
  let from = 0;
  for (;;) {
    const at = haystack.indexOf(word, from);
    if (at === -1) return false;
    const left = at === 0 ? -1 : haystack.charCodeAt(at - 1);
    const right = at + word.length >= haystack.length ? -1 : haystack.charCodeAt(at + word.length);
    if (!isWordChar(left) && !isWordChar(right)) return true;
    from = at + 1;
  }
}

/**
 * Whether the code unit at `index` of `text` is an ASCII letter, digit or underscore
 * (`false` outside the text): detectors use it to insist that a value is not part of
 * a longer word.
 *
 * @param text - The text.
 * @param index - A code-unit index, possibly out of range.
 * @since 2.0.0
 */
export function wordCharAt(text: string, index: number): boolean {
  if (index < 0 || index >= text.length) return false;
  return isWordChar(text.charCodeAt(index));
}

/**
 * Whether `text` continues at `index` with a punctuation mark and a digit (`.5`,
 * `:30`, `-05`, `,000`, `/26`): a number ending just before `index` is then glued to
 * more digits (a decimal, a time, a date) and is not a value of its own.
 *
 * @param text - The text.
 * @param index - Where the value ends.
 * @since 2.0.0
 */
export function gluedNumberAt(text: string, index: number): boolean {
  const c = text[index];
  if (c !== '.' && c !== ',' && c !== ':' && c !== '-' && c !== '/') return false;
  const next = text.charCodeAt(index + 1);
  return next >= 48 && next <= 57;
}
