import { describe, expect, it } from 'vitest';
import {
  applyAgentResponse,
  applyToolCall,
  applyToolResult,
  beginRequestTurn,
  decodeSessionState,
  encodeSessionState,
  freshSession,
  OUTCOME_ERROR,
  OUTCOME_OK,
  OUTCOME_PENDING,
  pushAction,
  sessionLastTime,
  turnBucket,
  TURN_BUCKETS,
} from '../../../../src/recommender/features/session-state.js';

describe('session state transitions', () => {
  it('keeps the last k actions, oldest first, each with its outcome', () => {
    const s = freshSession(0);
    for (const tool of ['git', 'bash', 'python']) applyToolCall(s, tool, 2, true);
    expect(s.actions).toEqual(['bash', 'python']);
    expect(s.outcomes).toEqual([OUTCOME_PENDING, OUTCOME_PENDING]);
    applyToolResult(s, 'python', null);
    expect(s.outcomes).toEqual([OUTCOME_PENDING, OUTCOME_OK]);
    // A result naming an earlier pending call settles that call, not the latest.
    applyToolResult(s, 'bash', 'Timeout');
    expect(s.outcomes).toEqual([OUTCOME_ERROR, OUTCOME_OK]);
    expect(s.lastError).toBe('Timeout');
    // A result naming no tool (or one not kept) settles the latest action.
    applyToolResult(s, null, 'OOM');
    expect(s.outcomes).toEqual([OUTCOME_ERROR, OUTCOME_ERROR]);
    expect(s.lastError).toBe('OOM');
  });

  it('a TOOL_CALL replaces the action CHOSEN feedback just put there (auto), and pushes otherwise', () => {
    const auto = freshSession(0);
    pushAction(auto, 'action-7', 2, true);
    applyToolCall(auto, 'git', 2, true);
    expect(auto.actions).toEqual(['git']);
    expect(auto.sawToolCall).toBe(true);
    applyToolCall(auto, 'bash', 2, true);
    expect(auto.actions).toEqual(['git', 'bash']);

    const counted = freshSession(0);
    pushAction(counted, 'action-7', 2, false);
    applyToolCall(counted, 'git', 2, false);
    expect(counted.actions).toEqual(['action-7', 'git']);
  });

  it('counts turns: a request ends the open turn, a response ends it too, never twice', () => {
    const s = freshSession(0);
    beginRequestTurn(s);
    expect(s.turn).toBe(0);
    applyAgentResponse(s);
    applyAgentResponse(s);
    expect(s.turn).toBe(1);
    beginRequestTurn(s);
    expect(s.turn).toBe(1);
    // Requests without responses (the simulator): each one is a turn.
    beginRequestTurn(s);
    beginRequestTurn(s);
    expect(s.turn).toBe(3);
  });

  it('buckets turns 0, 1, 2, 3-4, 5-8, 9+', () => {
    expect([0, 1, 2, 3, 4, 5, 8, 9, 1000].map((t) => TURN_BUCKETS[turnBucket(t)])).toEqual([
      '0',
      '1',
      '2',
      '3-4',
      '3-4',
      '5-8',
      '5-8',
      '9+',
      '9+',
    ]);
  });
});

describe('session state codec', () => {
  it('round-trips every field, in a version-1 entry of a few dozen bytes', () => {
    const s = freshSession(Date.UTC(2026, 3, 1, 12));
    applyToolCall(s, 'git', 2, true);
    applyToolCall(s, 'bäsh', 2, true);
    applyToolResult(s, null, 'PermissionDenied');
    beginRequestTurn(s);
    beginRequestTurn(s);
    const bytes = encodeSessionState(s);
    expect(bytes[0]).toBe(1);
    expect(bytes.length).toBe(15 + 2 + 'PermissionDenied'.length + 3 + 3 + 3 + 5);
    expect(decodeSessionState(bytes, 'sessions')).toEqual(s);
    expect(sessionLastTime(bytes, 'sessions')).toBe(s.lastTime);
    expect(encodeSessionState(freshSession(0)).length).toBe(15);
    expect(decodeSessionState(encodeSessionState(freshSession(5)), 'sessions')).toEqual(freshSession(5));
  });

  it('cuts very long tool names instead of writing a length that does not fit', () => {
    const s = freshSession(0);
    applyToolCall(s, 'x'.repeat(100_000), 2, true);
    expect(decodeSessionState(encodeSessionState(s), 'sessions').actions[0]).toHaveLength(1024);
  });

  it('refuses an unknown version or a truncated entry with STATE_CORRUPT naming the store', () => {
    const bytes = encodeSessionState(Object.assign(freshSession(0), { actions: ['git'], outcomes: [OUTCOME_OK] }));
    expect(() => decodeSessionState(Buffer.concat([Buffer.from([9]), bytes.subarray(1)]), 'sessions')).toThrow(
      /STATE_CORRUPT.*'sessions'.*version 9/,
    );
    expect(() => decodeSessionState(bytes.subarray(0, bytes.length - 1), 'sessions')).toThrow(/STATE_CORRUPT.*truncated/);
    expect(() => sessionLastTime(Buffer.from([2]), 'sessions')).toThrow(/STATE_CORRUPT/);
  });
});
