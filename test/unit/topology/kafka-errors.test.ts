import { expect, it } from 'vitest';
import { isFatalClientError, isUnreachable } from '../../../src/topology/transport/kafka-errors.js';

it('takes a flagged error and an unflagged ERR__FATAL (a fenced static member’s poll) as fatal, nothing else', () => {
  expect(isFatalClientError({ code: -185, isFatal: true, message: 'x' })).toBe(true);
  expect(isFatalClientError({ code: -150, message: 'Local: Fatal error' })).toBe(true);
  expect(isFatalClientError({ code: -185, isFatal: false, message: 'Local: Timed out' })).toBe(false);
  expect(isFatalClientError(new Error('plain'))).toBe(false);
  expect(isFatalClientError(null)).toBe(false);
  // Fatal is not the same as unreachable: a fatal error is not retried as an outage.
  expect(isUnreachable({ code: -150, message: 'Local: Fatal error' })).toBe(false);
});
