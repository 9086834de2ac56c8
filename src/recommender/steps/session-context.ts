import { ConfigError } from '../../errors.js';
import type { TrajectoryEvent } from '../records.js';
import { batchStep } from '../../topology/step.js';
import type { Batch, StepDefinition } from '../../topology/types.js';
import type { KeyValueStore } from '../../state/store.js';
import type { SparseFeature } from '../features/text-encoder.js';
import {
  applyAgentResponse,
  applyToolCall,
  applyToolResult,
  beginRequestTurn,
  decodeSessionState,
  encodeSessionState,
  freshSession,
  OUTCOME_ERROR,
  OUTCOME_PENDING,
  OUTCOME_OK,
  pushAction,
  sessionLastTime,
  turnBucket,
  type SessionState,
} from '../features/session-state.js';
import { IdleSweep } from '../features/idle-sweep.js';
import { SessionFeatureKeys } from '../features/session-feature-keys.js';
import type { EncodedEvent } from '../types.js';

/**
 * The sessions store's write-back cache: only sessions in progress are read again (~200 bytes
 * each, so ~10,000 of them per partition), and ended ones would otherwise fill the cache.
 */
const SESSION_CACHE_BYTES = 2 * 1024 * 1024;

export const SESSION_FEATURES = ['previousAction', 'previousTwo', 'lastOutcome', 'previousOutcome', 'turn'] as const;
export type SessionFeature = (typeof SESSION_FEATURES)[number];

/**
 * `previousTwo` is left out: its action pairs (n² of them) gave no hit@1 a sweep could tell from
 * noise on the simulator, the transcripts or the tool loops, and cost ~40 % of the recommender's
 * throughput on Kafka and ~300 MiB (bench/README.md, "Previous two actions, off by default").
 */
export const DEFAULT_SESSION_FEATURES: Readonly<Record<SessionFeature, boolean>> = Object.freeze({
  previousAction: true,
  previousTwo: false,
  lastOutcome: true,
  previousOutcome: true,
  turn: true,
});

export interface SessionContextOptions {
  /** false: the step passes events through untouched and keeps no store. Default true. */
  enabled?: boolean;
  /** Actions kept per session, 1–16 (2 for previousTwo). Default 2. */
  k?: number;
  /** A session idle this long (event time, ms) starts over, and its entry is deleted. Default 24 h. */
  ttlMs?: number;
  /**
   * Features added to each REQUEST: `prev_action=<a>`, `prev2=<a>|<b>` (older first),
   * `last_outcome=ok|error:<type>` (once the latest action has a result) and `turn=<bucket>`
   * (0, 1, 2, 3-4, 5-8, 9+). A list enables those named; an object switches each. Default all
   * but previousTwo (DEFAULT_SESSION_FEATURES).
   */
  features?: readonly SessionFeature[] | Partial<Record<SessionFeature, boolean>>;
  /**
   * Whether CHOSEN feedback counts as the action taken. 'auto' (default): until the session makes
   * a TOOL_CALL, so streams of requests and feedback only (the simulator) still have actions,
   * and a TOOL_CALL right after CHOSEN replaces it rather than counting the step twice.
   */
  chosenIsAction?: boolean | 'auto';
  /** The store's name (state directory, changelog topic). Default 'sessions'. */
  store?: string;
}

/**
 * Session context as keyed state: per (user, session), the last K actions with their outcomes,
 * the last error type and the turn index, updated by TOOL_CALL, TOOL_RESULT, AGENT_RESPONSE,
 * REQUEST (and CHOSEN feedback) events and turned into features of the session's next REQUEST,
 * so the model can learn what tends to follow what. Events apply in offset order, each seeing
 * the earlier ones of its batch; entries live in the partition's store (changelogged, written
 * each batch) and depend on event times only, so a replay after a crash writes the same bytes.
 *
 * @example
 * .step(encode('encode'))
 * .step(sessionContext('session', { k: 2, features: ['previousAction', 'lastOutcome'] }))
 * .step(model.lookup('lookup'))
 */
export function sessionContext(name: string, options: SessionContextOptions = {}): StepDefinition<EncodedEvent, EncodedEvent> {
  const p = `/steps/${name}`;
  const enabled = options.enabled ?? true;
  if (typeof enabled !== 'boolean') throw new ConfigError(`${p}/enabled`, `must be true or false, got ${String(enabled)}`);
  const k = options.k ?? 2;
  if (!Number.isInteger(k) || k < 1 || k > 16) throw new ConfigError(`${p}/k`, `must be an integer from 1 to 16, got ${String(k)}`);
  const ttlMs = options.ttlMs ?? 24 * 3600_000;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new ConfigError(`${p}/ttlMs`, `must be a finite number of ms > 0, got ${String(ttlMs)}`);
  const features = resolveFeatures(`${p}/features`, options.features);
  if (features.previousTwo && k < 2) throw new ConfigError(`${p}/k`, `must be at least 2 for the previousTwo feature, got ${k}`);
  const chosenIsAction = options.chosenIsAction ?? 'auto';
  if (chosenIsAction !== 'auto' && typeof chosenIsAction !== 'boolean') {
    throw new ConfigError(`${p}/chosenIsAction`, `must be true, false or 'auto', got ${String(chosenIsAction)}`);
  }
  const storeName = options.store ?? 'sessions';
  const describeOptions = { enabled, k, ttlMs, features: SESSION_FEATURES.filter((f) => features[f]), chosenIsAction, store: storeName };
  if (!enabled) {
    return batchStep<EncodedEvent, EncodedEvent>(name, 'sessionContext', () => (batch) => batch, { options: describeOptions });
  }

  return batchStep<EncodedEvent, EncodedEvent>(
    name,
    'sessionContext',
    (ctx) => {
      const store = ctx.store(storeName);
      const keys = new SessionFeatureKeys();
      const sweep = new IdleSweep(ttlMs, (value) => sessionLastTime(value, storeName));
      return async (batch: Batch<EncodedEvent>) => {
        const sessions = await readSessions(store, batch);
        let latest = -Infinity;
        for (const record of batch.records) {
          const { event } = record.value;
          if (!touchesSession(event)) continue;
          const entry = sessions.get(event.userId)!.get(event.sessionId)!;
          const time = event.eventTime;
          if (time > latest) latest = time;
          let state = entry.state && time - entry.state.lastTime > ttlMs ? undefined : entry.state;
          // Once the session makes tool calls, they are its actions and CHOSEN feedback is not.
          if (event.kind === 'FEEDBACK' && chosenIsAction === 'auto' && state?.sawToolCall) continue;
          if (!state) state = entry.state = freshSession(time);
          else if (time > state.lastTime) state.lastTime = time;
          entry.changed = true;
          switch (event.kind) {
            case 'REQUEST':
              beginRequestTurn(state);
              addFeatures(record.value.features, state);
              break;
            case 'TOOL_CALL':
              applyToolCall(state, event.tool!, k, chosenIsAction === 'auto');
              break;
            case 'TOOL_RESULT':
              applyToolResult(state, event.tool, event.errorType);
              break;
            case 'AGENT_RESPONSE':
              applyAgentResponse(state);
              break;
            case 'FEEDBACK':
              pushAction(state, event.feedback!.actionId!, k, chosenIsAction === 'auto');
              break;
          }
        }
        for (const bySession of sessions.values()) {
          for (const entry of bySession.values()) if (entry.changed) await store.put(entry.key, encodeSessionState(entry.state!));
        }
        const expired = await sweep.afterBatch(store, latest);
        if (expired) ctx.metrics.count('sessions_expired', expired);
        return batch;
      };

      /** Puts the session's features first: a long text's n-grams cut at the model's maxFeatures never drop them. */
      function addFeatures(out: SparseFeature[], state: SessionState): void {
        const n = state.actions.length;
        if (features.turn) out.unshift(keys.turn[turnBucket(state.turn)]);
        if (features.lastOutcome && n > 0) {
          const outcome = state.outcomes[n - 1];
          if (outcome === OUTCOME_OK) out.unshift(keys.ok);
          else if (outcome === OUTCOME_ERROR) out.unshift(keys.error(state.lastError ?? 'unknown'));
        }
        // The previous action crossed with how it went: what follows a failed call (a retry, a
        // fallback) differs from what follows the same call when it worked.
        if (features.previousOutcome && n > 0 && state.outcomes[n - 1] !== OUTCOME_PENDING)
          out.unshift(keys.previousOutcome(state.actions[n - 1], state.outcomes[n - 1] === OUTCOME_OK));
        if (features.previousTwo && n > 1) out.unshift(keys.previousTwo(state.actions[n - 2], state.actions[n - 1]));
        if (features.previousAction && n > 0) out.unshift(keys.previousAction(state.actions[n - 1]));
      }
    },
    { options: describeOptions, stores: [{ name: storeName, maxCacheBytes: SESSION_CACHE_BYTES }] },
  );

  /** Whether an event reads or changes its session's entry. */
  function touchesSession(event: TrajectoryEvent): boolean {
    switch (event.kind) {
      case 'REQUEST':
      case 'AGENT_RESPONSE':
      case 'TOOL_RESULT':
        return true;
      case 'TOOL_CALL':
        return !!event.tool;
      case 'FEEDBACK':
        return chosenIsAction !== false && event.feedback?.signal === 'CHOSEN' && !!event.feedback.actionId;
    }
  }

  /** The entries of the sessions this batch touches (absent ones with no state), read in one getMany. */
  async function readSessions(store: KeyValueStore, batch: Batch<EncodedEvent>): Promise<Map<string, Map<string, SessionEntry>>> {
    const sessions = new Map<string, Map<string, SessionEntry>>();
    const listed: SessionEntry[] = [];
    for (const record of batch.records) {
      const event = record.value.event;
      if (!touchesSession(event)) continue;
      let bySession = sessions.get(event.userId);
      if (!bySession) sessions.set(event.userId, (bySession = new Map<string, SessionEntry>()));
      if (bySession.has(event.sessionId)) continue;
      const entry: SessionEntry = { key: sessionKey(event.userId, event.sessionId), state: undefined, changed: false };
      bySession.set(event.sessionId, entry);
      listed.push(entry);
    }
    if (listed.length === 0) return sessions;
    const values = await store.getMany(listed.map((e) => e.key));
    for (let i = 0; i < listed.length; i++) {
      const bytes = values[i];
      if (bytes) listed[i].state = decodeSessionState(bytes, storeName);
    }
    return sessions;
  }
}

interface SessionEntry {
  key: Buffer;
  state: SessionState | undefined;
  changed: boolean;
}

/** u16 byte length of the user id, the user id, the session id (UTF-8): session ids need only be unique per user. */
export function sessionKey(userId: string, sessionId: string): Buffer {
  const userBytes = Buffer.byteLength(userId);
  const key = Buffer.allocUnsafe(2 + userBytes + Buffer.byteLength(sessionId));
  key.writeUInt16BE(userBytes, 0);
  key.write(userId, 2, 'utf8');
  key.write(sessionId, 2 + userBytes, 'utf8');
  return key;
}

function resolveFeatures(path: string, value: SessionContextOptions['features']): Record<SessionFeature, boolean> {
  if (value === undefined) return { ...DEFAULT_SESSION_FEATURES };
  const out: Record<SessionFeature, boolean> = {
    previousAction: false,
    previousTwo: false,
    lastOutcome: false,
    previousOutcome: false,
    turn: false,
  };
  const known = (f: unknown): f is SessionFeature => SESSION_FEATURES.includes(f as SessionFeature);
  if (Array.isArray(value)) {
    for (const [i, f] of (value as unknown[]).entries()) {
      if (!known(f)) throw new ConfigError(`${path}/${i}`, `unknown feature '${String(f)}'; known: ${SESSION_FEATURES.join(', ')}`);
      out[f] = true;
    }
    return out;
  }
  if (typeof value !== 'object' || value === null)
    throw new ConfigError(path, `must be a list of ${SESSION_FEATURES.join('|')} or an object of booleans`);
  for (const [f, on] of Object.entries(value)) {
    if (!known(f)) throw new ConfigError(`${path}/${f}`, `unknown feature; known: ${SESSION_FEATURES.join(', ')}`);
    if (typeof on !== 'boolean') throw new ConfigError(`${path}/${f}`, `must be true or false, got ${String(on)}`);
    out[f] = on;
  }
  for (const f of SESSION_FEATURES) if (!(f in value)) out[f] = true;
  return out;
}
