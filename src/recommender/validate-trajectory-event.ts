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

/** Up to this many candidates, duplicates are found by comparing pairs instead of building a map. */
const PAIRWISE_LIMIT = 32;
/** Per-candidate fingerprints of the request being checked (validation is synchronous). */
const fingerprints = new Int32Array(PAIRWISE_LIMIT);

function validateCandidates(event: TrajectoryEventV1): void {
  const candidates = event.candidates;
  if (candidates.length === 0) fail('candidates', 'a REQUEST needs at least one candidate to score');
  for (let i = 0; i < candidates.length; i++) if (!candidates[i].actionId) fail(`candidates[${i}].actionId`, 'must be a non-empty string');
  if (candidates.length <= PAIRWISE_LIMIT) {
    // Every request is checked. A map per request was ~1 KB of garbage per event; comparing the
    // ~190 pairs as strings cost more (ids share prefixes: 'action-194', 'action-106'). Equal ids
    // have equal fingerprints (length and last three chars), so only pairs whose fingerprints
    // match are compared as strings.
    for (let i = 0; i < candidates.length; i++) fingerprints[i] = fingerprint(candidates[i].actionId);
    for (let i = 1; i < candidates.length; i++) {
      const print = fingerprints[i];
      for (let earlier = 0; earlier < i; earlier++) {
        if (fingerprints[earlier] === print && candidates[earlier].actionId === candidates[i].actionId)
          duplicate(candidates[i].actionId, i, earlier);
      }
    }
    return;
  }
  const firstIndex = new Map<string, number>();
  for (let i = 0; i < candidates.length; i++) {
    const id = candidates[i].actionId;
    const earlier = firstIndex.get(id);
    if (earlier !== undefined) duplicate(id, i, earlier);
    firstIndex.set(id, i);
  }
}

/** Length and last three UTF-16 units of a non-empty id, folded into 32 bits. */
function fingerprint(id: string): number {
  const n = id.length;
  return (n << 24) ^ (id.charCodeAt(n - 1) << 16) ^ ((n > 1 ? id.charCodeAt(n - 2) : 0) << 8) ^ (n > 2 ? id.charCodeAt(n - 3) : 0);
}

function duplicate(actionId: string, index: number, earlier: number): never {
  return fail(`candidates[${index}].actionId`, `duplicate actionId '${actionId}' (also candidates[${earlier}])`);
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
