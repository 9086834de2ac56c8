import { integerIn, numberIn } from '../../config.js';
import { ConfigError } from '../../errors.js';
import type { FeedbackSignal, TrajectoryEvent } from '../records.js';
import { batchStep } from '../../topology/step.js';
import type { Batch, StepDefinition } from '../../topology/types.js';
import type { KeyValueStore } from '../../state/store.js';
import {
  addTakenFeatures,
  candidateBuckets,
  decodeHistory,
  encodeHistory,
  freshHistory,
  historyLastTime,
  recordTake,
  type ActionHistoryState,
} from '../features/action-history-state.js';
import { IdleSweep } from '../features/idle-sweep.js';
import type { EncodedEvent } from '../types.js';

export interface ActionHistoryOptions {
  /** false: the step passes events through untouched and keeps no store. Default true. */
  enabled?: boolean;
  /** Feedback signals that count as the user taking the action. Default CHOSEN and ACCEPT. */
  signals?: readonly FeedbackSignal[];
  /** Actions remembered per user, 1–4096; past it the least-taken goes. Default 256. */
  maxActions?: number;
  /** A user idle this long (event time, ms) starts over, and the entry is deleted. Default 90 days. */
  ttlMs?: number;
  /** Most candidates a request may carry: the model's maxCandidates. Default 256. */
  maxCandidates?: number;
  /** The store's name (state directory, changelog topic). Default 'history'. */
  store?: string;
  /**
   * How many of the user's most-taken actions become features of each request (`taken=<action>`,
   * weights 1/√n), so the model learns which actions go together across users: a user with three
   * takes is already placed by them, long before their own row has learned. The model's default
   * candidate crosses pair each with every candidate ("users who took A choose B"). Default 16
   * (bench/README.md, "Taken-action crosses"); 0 turns it off.
   */
  takenFeatures?: number;
}

const SIGNALS: readonly FeedbackSignal[] = ['CHOSEN', 'ACCEPT', 'REJECT', 'RATING'];

/**
 * Per user, how many times each action was chosen before, as keyed state: each REQUEST gets its
 * candidates' count buckets (`candidateHistory`), which the model turns into learned score
 * offsets, and each CHOSEN or ACCEPT feedback counts one more take. A request sees only the
 * feedback before it in offset order, so scoring stays prequential; entries live in the
 * partition's store (changelogged, written each batch) and depend on the events alone, so a
 * replay after a crash writes the same bytes.
 *
 * @example
 * .step(sessionContext('session'))
 * .step(actionHistory('history'))
 * .step(model.lookup('lookup'))
 */
export function actionHistory(name: string, options: ActionHistoryOptions = {}): StepDefinition<EncodedEvent, EncodedEvent> {
  const p = `/steps/${name}`;
  const enabled = options.enabled ?? true;
  if (typeof enabled !== 'boolean') throw new ConfigError(`${p}/enabled`, `must be true or false, got ${String(enabled)}`);
  const signals = options.signals ?? ['CHOSEN', 'ACCEPT'];
  for (const [i, s] of signals.entries())
    if (!SIGNALS.includes(s)) throw new ConfigError(`${p}/signals/${i}`, `unknown signal '${String(s)}'; known: ${SIGNALS.join(', ')}`);
  const maxActions = integerIn(options.maxActions, `${p}/maxActions`, { min: 1, max: 4096, fallback: 256 });
  const maxCandidates = integerIn(options.maxCandidates, `${p}/maxCandidates`, { min: 1, max: 65_536, fallback: 256 });
  const ttlMs = numberIn(options.ttlMs, `${p}/ttlMs`, { min: 1, max: 1e13, fallback: 90 * 24 * 3600_000 });
  const storeName = options.store ?? 'history';
  const takenFeatures = integerIn(options.takenFeatures, `${p}/takenFeatures`, { min: 0, max: 64, fallback: 16 });
  const describeOptions = { enabled, signals, maxActions, ttlMs, store: storeName, takenFeatures };
  if (!enabled) return batchStep<EncodedEvent, EncodedEvent>(name, 'actionHistory', () => (batch) => batch, { options: describeOptions });
  const counted = new Set(signals);

  return batchStep<EncodedEvent, EncodedEvent>(
    name,
    'actionHistory',
    (ctx) => {
      const store = ctx.store(storeName);
      const sweep = new IdleSweep(ttlMs, (value) => historyLastTime(value, storeName));
      return async (batch: Batch<EncodedEvent>) => {
        const users = await readUsers(store, batch);
        let latest = -Infinity;
        for (const record of batch.records) {
          const { event } = record.value;
          if (!touchesHistory(event)) continue;
          const entry = users.get(event.userId)!;
          const time = event.eventTime;
          if (time > latest) latest = time;
          const state = entry.state && time - entry.state.lastTime > ttlMs ? undefined : entry.state;
          if (event.kind === 'REQUEST') {
            record.value.candidateHistory = candidateBuckets(state, event.candidates, maxCandidates);
            if (takenFeatures > 0 && state) addTakenFeatures(record.value.features, state, takenFeatures);
            continue;
          }
          const current = state ?? (entry.state = freshHistory(time));
          if (time > current.lastTime) current.lastTime = time;
          recordTake(current, event.feedback!.actionId!, maxActions);
          entry.changed = true;
        }
        for (const entry of users.values()) if (entry.changed) await store.put(entry.key, encodeHistory(entry.state!));
        const expired = await sweep.afterBatch(store, latest);
        if (expired) ctx.metrics.count('histories_expired', expired);
        return batch;
      };
    },
    { options: describeOptions, stores: [{ name: storeName }] },
  );

  function touchesHistory(event: TrajectoryEvent): boolean {
    if (event.kind === 'REQUEST') return event.candidates.length > 0;
    return event.kind === 'FEEDBACK' && !!event.feedback?.actionId && counted.has(event.feedback.signal);
  }

  /** The entries of the users this batch touches (absent ones with no state), read in one getMany. */
  async function readUsers(store: KeyValueStore, batch: Batch<EncodedEvent>): Promise<Map<string, HistoryEntry>> {
    const users = new Map<string, HistoryEntry>();
    for (const record of batch.records) {
      const event = record.value.event;
      if (touchesHistory(event) && !users.has(event.userId))
        users.set(event.userId, { key: Buffer.from(event.userId, 'utf8'), state: undefined, changed: false });
    }
    if (users.size === 0) return users;
    const listed = [...users.values()];
    const values = await store.getMany(listed.map((e) => e.key));
    for (let i = 0; i < listed.length; i++) {
      const bytes = values[i];
      if (bytes) listed[i].state = decodeHistory(bytes, storeName);
    }
    return users;
  }
}

interface HistoryEntry {
  key: Buffer;
  state: ActionHistoryState | undefined;
  changed: boolean;
}
