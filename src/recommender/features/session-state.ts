import { StateError } from '../../errors.js';

/** Outcome of one action of a session: no TOOL_RESULT yet, a result without error, or an error. */
export const OUTCOME_PENDING = 0;
export const OUTCOME_OK = 1;
export const OUTCOME_ERROR = 2;
export type ActionOutcome = typeof OUTCOME_PENDING | typeof OUTCOME_OK | typeof OUTCOME_ERROR;

/**
 * What a session remembers between its events: the last K actions with their outcomes (oldest
 * first), the last error type, and the turn index. Mutated in place by the transitions below.
 */
export interface SessionState {
  /** Latest event time applied (ms): entries idle past the TTL are treated as absent, then swept. */
  lastTime: number;
  /** Turns completed so far; a turn ends at an AGENT_RESPONSE or at the next REQUEST. */
  turn: number;
  /** A REQUEST began a turn that no AGENT_RESPONSE or later REQUEST has ended yet. */
  openTurn: boolean;
  /** The session has produced a TOOL_CALL: from then on CHOSEN feedback is not an action ('auto'). */
  sawToolCall: boolean;
  /** The latest action came from CHOSEN feedback and a TOOL_CALL naming the real call may replace it. */
  provisional: boolean;
  lastError: string | null;
  actions: string[];
  outcomes: ActionOutcome[];
}

export function freshSession(time: number): SessionState {
  return { lastTime: time, turn: 0, openTurn: false, sawToolCall: false, provisional: false, lastError: null, actions: [], outcomes: [] };
}

/** Appends the latest action (outcome pending), keeping the `k` most recent. */
export function pushAction(state: SessionState, action: string, k: number, provisional: boolean): void {
  state.actions.push(action);
  state.outcomes.push(OUTCOME_PENDING);
  if (state.actions.length > k) {
    state.actions.shift();
    state.outcomes.shift();
  }
  state.provisional = provisional;
}

/**
 * A TOOL_CALL: the session's latest action. In 'auto' mode it replaces an action that CHOSEN
 * feedback put there (a transcript may say CHOSEN and then make the call), so that one step never
 * counts twice.
 */
export function applyToolCall(state: SessionState, tool: string, k: number, replaceProvisional: boolean): void {
  const n = state.actions.length;
  if (replaceProvisional && state.provisional && n > 0) {
    state.actions[n - 1] = tool;
    state.outcomes[n - 1] = OUTCOME_PENDING;
    state.provisional = false;
  } else {
    pushAction(state, tool, k, false);
  }
  state.sawToolCall = true;
}

/**
 * A TOOL_RESULT: the outcome of the most recent pending action of that tool (of the latest action
 * when the result names no tool, or no kept action matches). An error also becomes the last error.
 */
export function applyToolResult(state: SessionState, tool: string | null, errorType: string | null): void {
  const outcome = errorType ? OUTCOME_ERROR : OUTCOME_OK;
  if (errorType) state.lastError = errorType;
  let i = state.actions.length - 1;
  if (tool !== null) {
    let j = i;
    while (j >= 0 && !(state.actions[j] === tool && state.outcomes[j] === OUTCOME_PENDING)) j--;
    if (j >= 0) i = j;
  }
  if (i >= 0) state.outcomes[i] = outcome;
}

/**
 * A REQUEST ends the turn still open (one that got no response: streams of requests and feedback
 * only) and opens its own; `turn` read after this is the request's turn index, 0 for the first.
 */
export function beginRequestTurn(state: SessionState): void {
  if (state.openTurn) state.turn = Math.min(state.turn + 1, MAX_TURN);
  state.openTurn = true;
}

/** An AGENT_RESPONSE ends the open turn; a second response without a request between ends nothing. */
export function applyAgentResponse(state: SessionState): void {
  if (state.openTurn) state.turn = Math.min(state.turn + 1, MAX_TURN);
  state.openTurn = false;
}

/** `turn=` buckets: exact for the first turns, then doubling, so rows stay few and well trained. */
export const TURN_BUCKETS = ['0', '1', '2', '3-4', '5-8', '9+'] as const;

export function turnBucket(turn: number): number {
  if (turn <= 2) return turn;
  if (turn <= 4) return 3;
  if (turn <= 8) return 4;
  return 5;
}

const VERSION = 1;
const MAX_TURN = 0xffff_ffff;
const HEADER_BYTES = 15;
const FLAG_OPEN_TURN = 1;
const FLAG_SAW_TOOL_CALL = 2;
const FLAG_PROVISIONAL = 4;
const FLAG_LAST_ERROR = 8;
/** Longer tool names or error types are cut (in UTF-16 units): ids, not text, and the length is a u16. */
const MAX_STRING = 1024;

/**
 * Version byte, flags, lastTime (f64 LE), turn (u32 LE), action count, [last error: u16 length +
 * UTF-8], then per action oldest first: outcome byte, u16 length + UTF-8. Every field is a
 * function of the events applied, so a replay writes the same bytes.
 */
export function encodeSessionState(state: SessionState): Buffer {
  const lastError = state.lastError === null ? null : clip(state.lastError);
  let size = HEADER_BYTES + (lastError === null ? 0 : 2 + Buffer.byteLength(lastError));
  const actions = state.actions.map(clip);
  for (const action of actions) size += 3 + Buffer.byteLength(action);
  const out = Buffer.allocUnsafe(size);
  out[0] = VERSION;
  out[1] =
    (state.openTurn ? FLAG_OPEN_TURN : 0) |
    (state.sawToolCall ? FLAG_SAW_TOOL_CALL : 0) |
    (state.provisional ? FLAG_PROVISIONAL : 0) |
    (lastError !== null ? FLAG_LAST_ERROR : 0);
  out.writeDoubleLE(state.lastTime, 2);
  out.writeUInt32LE(state.turn, 10);
  out[14] = actions.length;
  let at = HEADER_BYTES;
  if (lastError !== null) at = writeString(out, at, lastError);
  for (let i = 0; i < actions.length; i++) {
    out[at++] = state.outcomes[i];
    at = writeString(out, at, actions[i]);
  }
  return out;
}

export function decodeSessionState(bytes: Buffer, store: string): SessionState {
  if (bytes.length < HEADER_BYTES || bytes[0] !== VERSION) {
    throw new StateError(
      'STATE_CORRUPT',
      `store '${store}' holds a session entry of version ${bytes[0]} (${bytes.length} bytes); this build reads version ${VERSION}`,
    );
  }
  const flags = bytes[1];
  const state = freshSession(bytes.readDoubleLE(2));
  state.turn = bytes.readUInt32LE(10);
  state.openTurn = (flags & FLAG_OPEN_TURN) !== 0;
  state.sawToolCall = (flags & FLAG_SAW_TOOL_CALL) !== 0;
  state.provisional = (flags & FLAG_PROVISIONAL) !== 0;
  const count = bytes[14];
  let at = HEADER_BYTES;
  try {
    if (flags & FLAG_LAST_ERROR) {
      const length = bytes.readUInt16LE(at);
      state.lastError = bytes.toString('utf8', at + 2, at + 2 + length);
      at += 2 + length;
    }
    for (let i = 0; i < count; i++) {
      const outcome = bytes[at];
      const length = bytes.readUInt16LE(at + 1);
      if (outcome > OUTCOME_ERROR || at + 3 + length > bytes.length) throw new RangeError('action out of bounds');
      state.outcomes.push(outcome as ActionOutcome);
      state.actions.push(bytes.toString('utf8', at + 3, at + 3 + length));
      at += 3 + length;
    }
  } catch (cause) {
    throw new StateError('STATE_CORRUPT', `store '${store}' holds a truncated session entry (${bytes.length} bytes)`, { cause });
  }
  return state;
}

/** lastTime of an encoded entry without decoding the rest (the TTL sweep reads only this). */
export function sessionLastTime(bytes: Buffer, store: string): number {
  if (bytes.length < HEADER_BYTES || bytes[0] !== VERSION) decodeSessionState(bytes, store); // throws, naming the version
  return bytes.readDoubleLE(2);
}

function clip(s: string): string {
  return s.length > MAX_STRING ? s.slice(0, MAX_STRING) : s;
}

function writeString(out: Buffer, at: number, s: string): number {
  const length = out.write(s, at + 2, 'utf8');
  out.writeUInt16LE(length, at);
  return at + 2 + length;
}
