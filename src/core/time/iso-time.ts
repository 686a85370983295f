/**
 * Epoch milliseconds as ISO 8601 UTC text, computed without `Date`: core
 * touches no clock and no host date library, so its output depends on its
 * arguments alone.
 *
 * @packageDocumentation
 */

const MS_PER_DAY = 86_400_000;

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/**
 * Formats an instant as `YYYY-MM-DDTHH:mm:ss.sssZ`, as `Date.prototype.toISOString`
 * does for years 1–9999 (civil-from-days, after Howard Hinnant's date algorithms).
 *
 * @param ms - Epoch milliseconds, an integer from -62,135,596,800,000 (year 1) to
 *   253,402,300,799,999 (year 9999).
 * @returns The ISO text; for an instant outside that range, its epoch milliseconds as text.
 * @since 2.0.0
 */
export function formatIsoTime(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < -62_135_596_800_000 || ms > 253_402_300_799_999) {
    return `${String(ms)} ms`;
  }
  const days = Math.floor(ms / MS_PER_DAY);
  const inDay = ms - days * MS_PER_DAY;
  const shifted = days + 719_468; // days since 0000-03-01
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153); // 0 = March
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(inDay / 3_600_000);
  const minutes = Math.floor((inDay % 3_600_000) / 60_000);
  const seconds = Math.floor((inDay % 60_000) / 1000);
  return (
    `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T` +
    `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}.${pad(inDay % 1000, 3)}Z`
  );
}
