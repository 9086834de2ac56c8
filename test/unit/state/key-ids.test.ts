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

  it('peek gives the same ids as of, and remembers nothing', () => {
    const ids = new KeyIds();
    const seen = Buffer.from('user\u0000u1', 'latin1');
    const fresh = Buffer.from([0x00, 0xff, 0x41]);
    const id = ids.of(seen);
    expect(ids.peek(seen)).toBe(id);
    expect(ids.peek(fresh)).toBe(fresh.toString('latin1'));
    // peek did not remember `fresh`: changing its bytes changes what peek (and of) answer.
    fresh[2] = 0x42;
    expect(ids.peek(fresh)).toBe(fresh.toString('latin1'));
    expect(ids.of(fresh)).toBe(fresh.toString('latin1'));
  });
});
