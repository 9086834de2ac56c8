import { ConfigError } from '../../errors.js';
import { splitmix32, type Random } from '../model/kernels/prng.js';
import type { FeedbackSignal, TrajectoryEvent } from '../records.js';

export interface SimulatedUsersOptions {
  users?: number;
  actions?: number;
  /** Candidates per request. */
  candidates?: number;
  /** Latent taste dimension of the simulated world (not the model's). */
  latentDim?: number;
  /** Events between a request and its feedback (delayed feedback), at most. */
  maxFeedbackDelay?: number;
  seed?: number;
  /** First event time, ms since the epoch. */
  startTime?: number;
  /** Event-time step between events, ms. */
  stepMs?: number;
}

const TOOLS = ['git', 'bash', 'python', 'search', 'editor', 'browser', 'sql', 'docker', 'tests', 'docs'];
const DOMAINS = ['web', 'data', 'infra', 'mobile', 'ml'];
const REPOS = ['api-server', 'dashboard', 'etl', 'k8s-config', 'ios-app', 'trainer', 'docs-site'];
const VERBS = ['fix', 'refactor', 'explain', 'test', 'deploy', 'profile', 'review'];
const OBJECTS = ['the failing build', 'this function', 'the flaky test', 'the migration', 'the login flow', 'the query', 'the pipeline'];
const ERRORS = [null, null, null, 'TypeError', 'Timeout', 'PermissionDenied', 'OOM'];

/**
 * A deterministic world of users with hidden tastes, to train and evaluate against when no real
 * traffic is at hand (and to mix with real feedback at a lower sample weight). Each user has a
 * latent taste vector and a favourite tool per domain; each action has a latent vector and a
 * tool. A request offers `candidates` random actions; the user's feedback follows from their
 * taste (with noise) a few events later: mostly CHOSEN, some ACCEPT/REJECT, some 1–5 star RATING.
 * Same seed, same events.
 */
export class SimulatedUsers {
  readonly users: number;
  readonly actions: number;
  readonly candidates: number;
  private readonly latentDim: number;
  private readonly maxDelay: number;
  private readonly random: Random;
  private readonly userTaste: Float32Array;
  private readonly favouriteTool: Uint8Array;
  private readonly userDomain: Uint8Array;
  private readonly actionTaste: Float32Array;
  private readonly actionTool: Uint8Array;
  private readonly pending: { due: number; event: TrajectoryEvent }[] = [];
  private time: number;
  private readonly stepMs: number;
  private produced = 0;
  private requestCounter = 0;

  constructor(options: SimulatedUsersOptions = {}) {
    const int = (path: string, value: number | undefined, fallback: number, min: number) => {
      const v = value ?? fallback;
      if (!Number.isInteger(v) || v < min) throw new ConfigError(`/simulation/${path}`, `must be an integer >= ${min}, got ${v}`);
      return v;
    };
    this.users = int('users', options.users, 500, 1);
    this.actions = int('actions', options.actions, 200, 2);
    this.candidates = Math.min(int('candidates', options.candidates, 20, 1), this.actions);
    this.latentDim = int('latentDim', options.latentDim, 8, 1);
    this.maxDelay = int('maxFeedbackDelay', options.maxFeedbackDelay, 20, 0);
    this.random = splitmix32(options.seed ?? 42);
    this.time = options.startTime ?? Date.UTC(2026, 10, 1);
    this.stepMs = options.stepMs ?? 250;
    const gauss = () => this.random.nextGaussian();
    this.userTaste = Float32Array.from({ length: this.users * this.latentDim }, gauss);
    this.actionTaste = Float32Array.from({ length: this.actions * this.latentDim }, gauss);
    this.favouriteTool = Uint8Array.from({ length: this.users * DOMAINS.length }, () => this.pick(TOOLS.length));
    this.userDomain = Uint8Array.from({ length: this.users }, () => this.pick(DOMAINS.length));
    this.actionTool = Uint8Array.from({ length: this.actions }, () => this.pick(TOOLS.length));
  }

  /** How much user u likes action a in domain d (the hidden truth). */
  preference(user: number, action: number, domain: number): number {
    let s = 0;
    for (let k = 0; k < this.latentDim; k++) s += this.userTaste[user * this.latentDim + k] * this.actionTaste[action * this.latentDim + k];
    if (this.actionTool[action] === this.favouriteTool[user * DOMAINS.length + domain]) s += 2;
    return s;
  }

  /** The next event: a due feedback, or a new request. */
  next(): TrajectoryEvent {
    this.time += this.stepMs;
    this.produced++;
    const due = this.pending.findIndex((p) => p.due <= this.produced);
    if (due >= 0) return { ...this.pending.splice(due, 1)[0].event, eventTime: this.time };
    return this.request();
  }

  private request(): TrajectoryEvent {
    const user = this.pick(this.users);
    const domain = this.random.nextFloat() < 0.7 ? this.userDomain[user] : this.pick(DOMAINS.length);
    const requestId = `req-${++this.requestCounter}`;
    const chosen = new Set<number>();
    while (chosen.size < this.candidates) chosen.add(this.pick(this.actions));
    const candidates = [...chosen];
    const userId = `user-${user}`;
    const repo = REPOS[(user + domain) % REPOS.length];
    const base = {
      userId,
      sessionId: `session-${user}-${Math.floor(this.requestCounter / 10)}`,
      requestId,
      tool: null,
      domain: DOMAINS[domain],
      repo,
      agent: 'coder',
      code: null,
      source: 'SIMULATED' as const,
      attributes: {},
    };
    const event: TrajectoryEvent = {
      ...base,
      eventId: `${requestId}/request`,
      kind: 'REQUEST',
      eventTime: this.time,
      errorType: ERRORS[this.pick(ERRORS.length)],
      text: `${VERBS[this.pick(VERBS.length)]} ${OBJECTS[this.pick(OBJECTS.length)]} in ${repo}`,
      candidates: candidates.map((a) => ({ actionId: `action-${a}`, tool: TOOLS[this.actionTool[a]], text: `use ${TOOLS[this.actionTool[a]]} (${a})` })),
      feedback: null,
    };
    const noisy = candidates.map((a) => this.preference(user, a, domain) + 0.5 * this.gumbel());
    const best = noisy.indexOf(Math.max(...noisy));
    const roll = this.random.nextFloat();
    let signal: FeedbackSignal;
    let actionId: string;
    let value: number;
    if (roll < 0.7) {
      signal = 'CHOSEN';
      actionId = `action-${candidates[best]}`;
      value = 1;
    } else {
      const i = this.pick(candidates.length);
      actionId = `action-${candidates[i]}`;
      const p = this.preference(user, candidates[i], domain);
      if (roll < 0.9) {
        signal = p > 1.5 ? 'ACCEPT' : 'REJECT';
        value = p > 1.5 ? 1 : 0;
      } else {
        signal = 'RATING';
        value = Math.max(1, Math.min(5, Math.round(3 + p / 1.5)));
      }
    }
    this.pending.push({
      due: this.produced + 1 + this.pick(this.maxDelay + 1),
      event: {
        ...base,
        eventId: `${requestId}/feedback`,
        kind: 'FEEDBACK',
        eventTime: 0,
        errorType: null,
        text: null,
        candidates: [],
        feedback: { signal, value, actionId },
      },
    });
    return event;
  }

  private pick(n: number): number {
    return Math.floor(this.random.nextFloat() * n) % n;
  }

  private gumbel(): number {
    return -Math.log(-Math.log(this.random.nextFloat() + 1e-12) + 1e-12);
  }
}
