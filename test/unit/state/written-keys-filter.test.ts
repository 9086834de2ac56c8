import { describe, expect, it } from 'vitest';
import { WrittenKeysFilter } from '../../../src/state/written-keys-filter.js';

const key = (text: string): Buffer => Buffer.from(text);

describe('WrittenKeysFilter', () => {
  it('holds every key added (no false negatives) and few it was not given, at capacity', () => {
    const capacity = 20_000;
    const filter = new WrittenKeysFilter(capacity);
    for (let i = 0; i < capacity; i++) filter.add(key(`user\u0000u${i}`));
    for (let i = 0; i < capacity; i++) expect(filter.mayContain(key(`user\u0000u${i}`))).toBe(true);
    let falsePositives = 0;
    for (let i = 0; i < capacity; i++) if (filter.mayContain(key(`user\u0000v${i}`))) falsePositives++;
    // 10 bits and 7 probes per key: ~0.8 % expected.
    expect(falsePositives / capacity).toBeLessThan(0.02);
    expect(filter.full).toBe(false);
  });

  it('says it is full once more keys were added than it was sized for', () => {
    const filter = new WrittenKeysFilter(2);
    filter.add(key('a'));
    filter.add(key('b'));
    expect(filter.full).toBe(false);
    filter.add(key('c'));
    expect(filter.full).toBe(true);
  });

  it('tells apart keys that differ in one byte, and the empty key', () => {
    const filter = new WrittenKeysFilter(1000);
    filter.add(key('feature\u0000tool=git'));
    filter.add(Buffer.alloc(0));
    expect(filter.mayContain(key('feature\u0000tool=git'))).toBe(true);
    expect(filter.mayContain(Buffer.alloc(0))).toBe(true);
    expect(filter.mayContain(key('feature\u0000tool=gif'))).toBe(false);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new WrittenKeysFilter(0)).toThrow(RangeError);
  });
});
