import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DistributedError } from '../../../src/contracts/errors.js';
import {
  classify,
  Classifier,
  createDefaultDetectors,
  labelConfidences,
  labelsAtLeast,
} from '../../../src/core/governance/classification/classifier.js';
import {
  createPatternDetector,
  screenPattern,
} from '../../../src/core/governance/classification/pattern-detector.js';

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof DistributedError) return error.code;
    throw error;
  }
  return 'no error';
}

const spansOf = (text: string, label: string): string[] =>
  (classify(text, { includeSpans: true }).labels.find((l) => l.label === label)?.spans ?? []).map(
    (s) => text.slice(s.start, s.end),
  );

describe('built-in detectors', () => {
  it('find each kind of value and report stable labels', () => {
    const text =
      'Contact jane.doe@example.com, card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, ' +
      'SSN 123-45-6789, phone +1 415 555 2671, host 192.168.1.20 and 2001:db8::8a2e:370:7334.';
    expect(classify(text).labels.map((l) => [l.label, l.matchCount])).toEqual([
      ['network.ipv4', 1],
      ['network.ipv6', 1],
      ['pci.card', 1],
      ['pii.email', 1],
      ['pii.iban', 1],
      ['pii.phone', 1],
      ['pii.ssn', 1],
    ]);
  });

  it('raise a checksum-valid card near a keyword above a bare digit run', () => {
    const bare = classify('ref 4111111111111111 shipped').labels[0]!;
    const grouped = classify('ref 4111 1111 1111 1111 shipped').labels[0]!;
    const keyword = classify('visa 4111 1111 1111 1111 shipped').labels[0]!;
    expect(bare.confidence).toBeLessThan(grouped.confidence);
    expect(grouped.confidence).toBeLessThan(keyword.confidence);
    expect(keyword.confidence).toBeLessThanOrEqual(1);
  });

  it('reject near misses', () => {
    expect(spansOf('card 4111 1111 1111 1112', 'pci.card')).toEqual([]);
    expect(spansOf('IBAN DE88 3704 0044 0532 0130 00', 'pii.iban')).toEqual([]);
    expect(spansOf('IBAN DE89 3704 0044 0532 0130 0', 'pii.iban')).toEqual([]);
    for (const ssn of ['000-12-3456', '666-12-3456', '901-12-3456', '123-00-4567', '123-45-0000']) {
      expect(spansOf(`SSN ${ssn}`, 'pii.ssn'), ssn).toEqual([]);
    }
    for (const ip of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4']) {
      expect(spansOf(`ip ${ip} here`, 'network.ipv4'), ip).toEqual([]);
    }
    for (const ip of ['1::2::3', '12345::1', '1:2:3:4:5:6:7:8:9', '::ffff:256.1.1.1', '12:30:45']) {
      expect(spansOf(`ip ${ip} here`, 'network.ipv6'), ip).toEqual([]);
    }
    for (const phone of ['(123) 555-0199', '+44 20 79', '+12345678901234567']) {
      expect(spansOf(`phone ${phone} here`, 'pii.phone'), phone).toEqual([]);
    }
    for (const email of ['a..b@example.com', 'john@localhost', 'john@example.c']) {
      expect(spansOf(`mail ${email} here`, 'pii.email'), email).toEqual([]);
    }
  });

  it('take nine bare digits as an SSN only near a keyword', () => {
    expect(spansOf('order 123456789 shipped', 'pii.ssn')).toEqual([]);
    expect(spansOf('SSN: 123456789', 'pii.ssn')).toEqual(['123456789']);
  });

  it('parse IPv6 with compression, embedded IPv4, ports and zones around it', () => {
    expect(
      spansOf(
        'a ::ffff:192.0.2.1 b fe80::1%eth0 c [2001:db8::1]:443 d IP:2001:db8::2.',
        'network.ipv6',
      ),
    ).toEqual(['::ffff:192.0.2.1', 'fe80::1', '2001:db8::1', '2001:db8::2']);
    expect(spansOf('ip 10.0.0.1:8080, 10.0.0.2/24 and 10.0.0.3.', 'network.ipv4')).toEqual([
      '10.0.0.1',
      '10.0.0.2',
      '10.0.0.3',
    ]);
  });

  it('accept the documented phone formats', () => {
    const text =
      'a +44 20 7946 0958 b +1-415-555-2671 c +49 (30) 901820 d +14155552671 e (415) 555-2671 f 415.555.2671 g 1-800-555-0199';
    expect(spansOf(text, 'pii.phone')).toEqual([
      '+44 20 7946 0958',
      '+1-415-555-2671',
      '+49 (30) 901820',
      '+14155552671',
      '(415) 555-2671',
      '415.555.2671',
      '1-800-555-0199',
    ]);
  });

  it('report an IBAN once, not also its digits as a card or phone', () => {
    const result = classify('IBAN GB82 WEST 1234 5698 7654 32 and GB82WEST12345698765432');
    expect(result.labels.map((l) => [l.label, l.matchCount])).toEqual([['pii.iban', 2]]);
  });
});

describe('Classifier', () => {
  it('scans at most maxScanBytes, for strings and bytes', () => {
    const text = `${'x'.repeat(100)} 4111 1111 1111 1111`;
    const classifier = new Classifier({ maxScanBytes: 110 });
    const cut = classifier.classify(text);
    expect(cut).toMatchObject({ truncated: true, scannedBytes: 110, labels: [] });
    const full = new Classifier().classify(new TextEncoder().encode(text));
    expect(full.truncated).toBe(false);
    expect(full.scannedBytes).toBe(text.length);
    expect(full.labels.map((l) => l.label)).toEqual(['pci.card']);
    // Multi-byte characters count as their UTF-8 length and are never split.
    expect(classifier.classify('é'.repeat(100), { maxScanBytes: 5 }).scannedBytes).toBe(4);
  });

  it('registers custom pattern detectors and reports their label', () => {
    const classifier = new Classifier();
    classifier.registerPattern({
      name: 'employee-id',
      label: 'pii.employee-id',
      pattern: 'EMP-\\d{6}',
      confidence: 0.6,
      keywords: ['employee'],
      keywordConfidence: 0.95,
    });
    const result = classifier.classify(`EMP-123456 ${'filler '.repeat(10)}employee EMP-654321`, {
      includeSpans: true,
    });
    expect(result.labels).toHaveLength(1);
    expect(result.labels[0]).toMatchObject({
      label: 'pii.employee-id',
      matchCount: 2,
      confidence: 0.95,
    });
    expect(result.labels[0]!.spans!.map((s) => s.confidence)).toEqual([0.6, 0.95]);
    expect(labelConfidences(result)).toEqual({ 'pii.employee-id': 0.95 });
    expect(labelsAtLeast(result, 0.9)).toEqual(['pii.employee-id']);
    expect(labelsAtLeast(result, 0.96)).toEqual([]);
    expect(classifier.unregister('employee-id')).toBe(true);
    expect(classifier.classify('EMP-123456').labels).toEqual([]);
  });

  it('refuses bad custom detectors with INVALID_ARGUMENT and registers nothing', () => {
    const classifier = new Classifier({ maxDetectors: 8, maxPatternLength: 32 });
    const base = { name: 'x', label: 'custom.x', pattern: 'abc', confidence: 0.5 };
    expect(codeOf(() => classifier.registerPattern({ ...base, pattern: '(unclosed' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => classifier.registerPattern({ ...base, pattern: 'a'.repeat(33) }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => classifier.registerPattern({ ...base, pattern: '(a+)+$' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => classifier.registerPattern({ ...base, pattern: '(\\w+\\s?)*' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => classifier.registerPattern({ ...base, pattern: '(a)\\1' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => classifier.registerPattern({ ...base, pattern: 'a*' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => classifier.registerPattern({ ...base, confidence: 1.5 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => classifier.registerPattern({ ...base, label: 'NoScheme' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => classifier.registerPattern({ ...base, name: 'Bad Name' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => classifier.registerPattern({ ...base, flags: 'gy' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(classifier.detectorNames).toHaveLength(7);
    classifier.registerPattern(base);
    expect(codeOf(() => classifier.registerPattern(base))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => classifier.registerPattern({ ...base, name: 'y' }))).toBe(
      'INVALID_ARGUMENT',
    ); // 9th
    expect(classifier.detectorNames).toHaveLength(8);
  });

  it('screens nested quantifiers but allows bounded repetition', () => {
    expect(screenPattern('(\\d{3}-)+\\d{4}')).toBeUndefined();
    expect(screenPattern('[a-z]+@[a-z]+\\.com')).toBeUndefined();
    expect(screenPattern('(?:[(+)])+')).toBeUndefined();
    expect(screenPattern('((ab)*c)+')).toBeDefined();
    expect(screenPattern('(x+){2,}')).toBeDefined();
  });

  it('bounds the text a custom pattern runs over', () => {
    const detector = createPatternDetector(
      { name: 'tail', label: 'custom.tail', pattern: 'needle', confidence: 1 },
      { maxPatternLength: 64, maxPatternScanChars: 100 },
    );
    expect(detector.scan(`${'x'.repeat(100)}needle`, 10)).toEqual([]);
    expect(detector.scan(`${'x'.repeat(90)}needle`, 10)).toHaveLength(1);
  });

  it('caps hits per detector and spans per label', () => {
    const text = Array.from({ length: 50 }, (_, i) => `u${i}@example.com`).join(' ');
    const result = new Classifier({ maxHitsPerDetector: 20, maxSpansPerLabel: 5 }).classify(text, {
      includeSpans: true,
    });
    expect(result.labels[0]).toMatchObject({ label: 'pii.email', matchCount: 20 });
    expect(result.labels[0]!.spans).toHaveLength(5);
  });

  it('rejects content that is neither text nor bytes', () => {
    expect(codeOf(() => classify(42 as unknown as string))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => classify('x', { minConfidence: 2 }))).toBe('INVALID_ARGUMENT');
  });

  it('never throws and reports sane spans for arbitrary text', () => {
    const alphabet = fc.constantFrom(
      ...'0123456789abcdefXYZ:.-+@() \n'.split(''),
      '4111 1111 1111 1111',
      'DE89',
      '::',
      'é',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 200 }),
          fc.array(alphabet, { maxLength: 80 }).map((a) => a.join('')),
        ),
        (text) => {
          const result = classify(text, { includeSpans: true });
          for (const label of result.labels) {
            expect(label.confidence).toBeGreaterThanOrEqual(0);
            expect(label.confidence).toBeLessThanOrEqual(1);
            for (const span of label.spans ?? []) {
              expect(span.start).toBeGreaterThanOrEqual(0);
              expect(span.end).toBeLessThanOrEqual(text.length);
              expect(span.start).toBeLessThan(span.end);
            }
          }
          // Built-in (exclusive) spans never overlap.
          const spans = result.labels
            .flatMap((l) => l.spans ?? [])
            .sort((a, b) => a.start - b.start);
          for (let i = 1; i < spans.length; i++)
            expect(spans[i]!.start).toBeGreaterThanOrEqual(spans[i - 1]!.end);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('runs in linear time on adversarial input (a long run the candidates feed on)', () => {
    // Not a timing assertion: the point is that these finish at all within the test timeout.
    for (const text of [
      '1'.repeat(200_000),
      '1 '.repeat(100_000),
      'a@'.repeat(100_000),
      ':'.repeat(200_000),
      'A1'.repeat(100_000),
    ]) {
      expect(classify(text).scannedBytes).toBe(text.length);
    }
  });

  it('createDefaultDetectors lists the built-ins most specific first', () => {
    expect(createDefaultDetectors().map((d) => d.name)).toEqual([
      'builtin.iban',
      'builtin.email',
      'builtin.card',
      'builtin.ipv6',
      'builtin.ssn',
      'builtin.phone',
      'builtin.ipv4',
    ]);
  });
});
