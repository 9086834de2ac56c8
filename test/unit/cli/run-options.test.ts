import { describe, expect, it } from 'vitest';
import { processingGuaranteeFlag, settingsFrom, transactionalIdFor } from '../../../src/cli/run-options.js';
import { ConfigError } from '../../../src/errors.js';

describe('settingsFrom (--set key=value)', () => {
  it('splits each pair at its first =, so a value may hold = itself; a later key wins', () => {
    expect(settingsFrom(['partitions=4', 'filter=a=b', 'partitions=8', 'empty='])).toEqual({ partitions: '8', filter: 'a=b', empty: '' });
  });

  it.each(['partitions', '=4'])('refuses %j, naming --set', (pair) => {
    expect(() => settingsFrom([pair])).toThrow(ConfigError);
    expect(() => settingsFrom([pair])).toThrow('--set');
  });
});

describe('processingGuaranteeFlag (--processing-guarantee)', () => {
  it('takes either guarantee on Kafka and leaves the default to the runner when not given', () => {
    expect(processingGuaranteeFlag(undefined, true)).toBeUndefined();
    expect(processingGuaranteeFlag('at-least-once', false)).toBe('at-least-once');
    expect(processingGuaranteeFlag('exactly-once', true)).toBe('exactly-once');
  });

  it.each(['exactly_once', 'EOS', ''])('refuses %j, naming --processing-guarantee', (value) => {
    expect(() => processingGuaranteeFlag(value, true)).toThrow(ConfigError);
    expect(() => processingGuaranteeFlag(value, true)).toThrow(
      `[CONFIG_INVALID] --processing-guarantee: must be 'at-least-once' or 'exactly-once', got '${value}'`,
    );
  });

  it('refuses exactly-once on the embedded log, naming the flag', () => {
    expect(() => processingGuaranteeFlag('exactly-once', false)).toThrow(
      '[CONFIG_INVALID] --processing-guarantee: exactly-once needs Kafka (--brokers): the embedded log has no transactions',
    );
  });

  it('derives a stable transactional id from the group and --instance-id, none without one', () => {
    expect(transactionalIdFor('recs', 'host-1')).toBe('recs-host-1');
    expect(transactionalIdFor('recs', undefined)).toBeUndefined();
  });
});
