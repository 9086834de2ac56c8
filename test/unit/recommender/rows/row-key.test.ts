import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.js';
import { parseRowKey, rowKey } from '../../../../src/recommender/rows/row-key.js';

describe('rowKey', () => {
  it('gives distinct keys to pairs that naive concatenation would merge', () => {
    const pairs: [string, string][] = [
      ['user', 'ab'],
      ['usera', 'b'],
      ['user', '\u0000ab'],
      ['feature', 'tool=git×domain=web'],
      ['feature', 'tool=git'],
      ['action', 'tool=git'],
      ['user', ''],
    ];
    const encoded = pairs.map(([namespace, id]) => rowKey(namespace, id).toString('hex'));
    expect(new Set(encoded).size).toBe(pairs.length);
  });

  it('round-trips through parseRowKey, NUL and non-ASCII ids included', () => {
    for (const [namespace, id] of [
      ['feature', 'tool=git×domain=web'],
      ['user', 'a\u0000b'],
      ['action', '🙂'],
    ]) {
      expect(parseRowKey(rowKey(namespace, id))).toEqual({ namespace, id });
    }
  });

  it('rejects namespaces that would make the encoding ambiguous', () => {
    expect(() => rowKey('', 'x')).toThrow(ConfigError);
    expect(() => rowKey('us\u0000er', 'x')).toThrow(ConfigError);
  });
});
