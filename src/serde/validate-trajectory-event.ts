import { BadRecordError } from '../errors.js';
import type { TrajectoryEventV1 } from './records.js';

/**
 * Semantic checks the schema cannot express, run after decoding so that a record the model
 * cannot learn from goes to the dead-letter topic with the field that is wrong, instead of
 * failing later inside an operator (or, worse, training on NaN). Returns the event unchanged.
 *
 * - every event: non-empty eventId and userId, eventTime a positive integer (ms);
 * - REQUEST: at least one candidate, every actionId non-empty and unique;
 * - FEEDBACK: feedback present with a finite value (NaN would poison every row it touches),
 *   a requestId to join it to what was scored, and the chosen actionId for CHOSEN.
 *
 * @example
 * const event = validateTrajectoryEvent(serde.deserialize(bytes));
 */
export function validateTrajectoryEvent<E extends TrajectoryEventV1>(event: E): E {
  if (!event.eventId) fail('eventId', 'must be a non-empty string');
  if (!event.userId || event.userId.trim() === '') fail('userId', 'must be a non-empty string');
  if (!Number.isSafeInteger(event.eventTime) || event.eventTime <= 0) {
    fail('eventTime', `must be a positive integer of milliseconds since the epoch, got ${event.eventTime}`);
  }
  switch (event.kind) {
    case 'REQUEST':
      validateCandidates(event);
      break;
    case 'FEEDBACK':
      validateFeedback(event);
      break;
  }
  return event;
}

function validateCandidates(event: TrajectoryEventV1): void {
  if (event.candidates.length === 0) fail('candidates', 'a REQUEST needs at least one candidate to score');
  const firstIndex = new Map<string, number>();
  event.candidates.forEach((candidate, i) => {
    if (!candidate.actionId) fail(`candidates[${i}].actionId`, 'must be a non-empty string');
    const earlier = firstIndex.get(candidate.actionId);
    if (earlier !== undefined) {
      fail(`candidates[${i}].actionId`, `duplicate actionId '${candidate.actionId}' (also candidates[${earlier}])`);
    }
    firstIndex.set(candidate.actionId, i);
  });
}

function validateFeedback(event: TrajectoryEventV1): void {
  const { feedback } = event;
  if (!feedback) return fail('feedback', 'a FEEDBACK event needs feedback');
  if (!Number.isFinite(feedback.value)) {
    fail('feedback.value', `must be a finite number for ${feedback.signal}, got ${feedback.value}`);
  }
  if (!event.requestId) fail('requestId', 'a FEEDBACK event must name the request it answers');
  if (feedback.signal === 'CHOSEN' && !feedback.actionId) {
    fail('feedback.actionId', 'CHOSEN feedback must name the chosen candidate');
  }
}

function fail(field: string, message: string): never {
  throw new BadRecordError('VALIDATION_FAILED', message, { field });
}
