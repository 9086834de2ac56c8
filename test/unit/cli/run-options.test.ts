import { describe, expect, it } from 'vitest';
import { settingsFrom } from '../../../src/cli/run-options.js';
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
