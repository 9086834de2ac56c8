import { describe, expect, it } from 'vitest';
import { KeyIds } from '../../../src/state/key-ids.js';

describe('KeyIds', () => {
  it('gives equal keys equal ids whether or not they are the same Buffer object', () => {
    const ids = new KeyIds();
    const a = Buffer.from([0x75, 0x00, 0xff, 0x10]);
    const b = Buffer.from(a);
    expect(ids.of(a)).toBe(ids.of(b));
    expect(ids.of(a)).toBe(a.toString('latin1'));
    expect(ids.of(Buffer.from([0x75, 0x00, 0xfe]))).not.toBe(ids.of(a));
  });
});
