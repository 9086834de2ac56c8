import { describe, expect, it } from 'vitest';
import { rabinFingerprint64, toSignedFingerprint } from '../../../src/serde/index.js';

/**
 * Reference values from Apache Avro's share/test/data/schema-tests.txt (the fingerprints Java's
 * SchemaNormalization.parsingFingerprint64 prints, signed), keyed by canonical form.
 */
const AVRO_REFERENCE: [canonical: string, javaFingerprint: bigint][] = [
  ['"null"', 7195948357588979594n],
  ['"boolean"', -6970731678124411036n],
  ['"int"', 8247732601305521295n],
  ['"long"', -3434872931120570953n],
  ['"float"', 5583340709985441680n],
  ['"double"', -8181574048448539266n],
  ['"bytes"', 5746618253357095269n],
  ['"string"', -8142146995180207161n],
  ['[]', -1241056759729112623n],
  ['["int"]', -5232228896498058493n],
  ['["int","boolean"]', 5392556393470105090n],
  ['{"name":"foo","type":"record","fields":[]}', -4824392279771201922n],
  ['{"name":"x.y.foo","type":"record","fields":[]}', 5916914534497305771n],
  ['{"name":"a.b.foo","type":"record","fields":[]}', -4616218487480524110n],
  ['{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}', 7843277075252814651n],
  ['{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}', -4860222112080293046n],
  ['{"name":"foo","type":"enum","symbols":["A1"]}', -6342190197741309591n],
  ['{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}', -4448647247586288245n],
  ['{"name":"foo","type":"fixed","size":15}', 1756455273707447556n],
  ['{"name":"x.y.z.foo","type":"fixed","size":32}', -3064184465700546786n],
  ['{"type":"array","items":"null"}', -589620603366471059n],
  ['{"type":"map","values":"string"}', -8732877298790414990n],
  ['{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}', -1759257747318642341n],
];

describe('rabinFingerprint64 (CRC-64-AVRO)', () => {
  it('gives the Avro specification value for "null": 0x63dd24e7cc258f8a', () => {
    expect(rabinFingerprint64(Buffer.from('"null"'))).toBe(0x63dd24e7cc258f8an);
  });

  it.each(AVRO_REFERENCE)('matches the Apache Avro reference for %s', (canonical, javaFingerprint) => {
    const fingerprint = rabinFingerprint64(Buffer.from(canonical, 'utf8'));
    expect(toSignedFingerprint(fingerprint)).toBe(javaFingerprint);
    expect(fingerprint).toBeGreaterThanOrEqual(0n);
    expect(fingerprint).toBeLessThan(1n << 64n);
  });

  it('is the empty-input constant for no bytes', () => {
    expect(rabinFingerprint64(new Uint8Array())).toBe(0xc15d213aa4d7a795n);
  });
});
