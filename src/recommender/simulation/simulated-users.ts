import { ConfigError } from '../../errors.js';
import { deriveSeed, splitmix32, type Random } from '../model/kernels/prng.js';
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
  /** Requests of one user per session: the user's next request after that starts a new session. Default 5. */
  sessionRequests?: number;
  /**
   * Sequential structure, as in agent trajectories where one step suggests the next: each action
   * has `successors` follow-up actions; a request after a chosen action in the same session offers
   * them among its candidates, and each gets this much extra preference (the first one most). 0
   * (default): choices depend on taste alone.
   */
  sequence?: number;
  /** Follow-up actions per action when `sequence` > 0. Default 3. */
  successors?: number;
}

/** SimulatedUsers.hiddenWorld(): what generates the events, by user and action index. */
export interface HiddenWorld {
  readonly latentDim: number;
  readonly domains: readonly string[];
  /** users × latentDim, then actions × latentDim. */
  readonly userTaste: Float32Array;
  readonly actionTaste: Float32Array;
  /** Each action's tool index, and each user's favourite tool index per domain (users × domains). */
  readonly actionTool: Uint8Array;
  readonly favouriteTool: Uint8Array;
  /** The action the user's next request follows (-1: it starts a session, nothing chosen yet, or no sequence). */
  previousChoice(user: number): number;
  sequenceBonus(previous: number, action: number): number;
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
  private readonly sessionRequests: number;
  private readonly sequence: number;
  /** Per user: requests so far (its session is requests / sessionRequests) and the session's last chosen action (-1: none). */
  private readonly userRequests: Uint32Array;
  private readonly lastChosen: Int32Array;
  private readonly successorCount: number;
  private readonly successorOf: Uint16Array;

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
    this.sessionRequests = int('sessionRequests', options.sessionRequests, 5, 1);
    const sequence = options.sequence ?? 0;
    if (!(sequence >= 0) || !Number.isFinite(sequence))
      throw new ConfigError('/simulation/sequence', `must be a finite number >= 0, got ${sequence}`);
    this.sequence = sequence;
    this.successorCount = Math.min(int('successors', options.successors, 3, 1), this.candidates, this.actions - 1);
    this.userRequests = new Uint32Array(this.users);
    this.lastChosen = new Int32Array(this.users).fill(-1);
    // Drawn from their own stream, so a world without sequence gets the same events as before.
    const successorRandom = splitmix32(deriveSeed(options.seed ?? 42, 'successors'));
    this.successorOf = new Uint16Array(this.actions * this.successorCount);
    for (let a = 0; a < this.actions; a++) {
      for (let k = 0; k < this.successorCount; k++) {
        let next: number;
        do next = Math.floor(successorRandom.nextFloat() * this.actions) % this.actions;
        while (next === a || this.successorOf.subarray(a * this.successorCount, a * this.successorCount + k).includes(next));
        this.successorOf[a * this.successorCount + k] = next;
      }
    }
  }

  /** Extra preference of `action` right after `previous` in a session (0 without sequence). */
  private sequenceBonus(previous: number, action: number): number {
    if (this.sequence === 0 || previous < 0) return 0;
    for (let k = 0; k < this.successorCount; k++)
      if (this.successorOf[previous * this.successorCount + k] === action) return this.sequence / (1 + 0.5 * k);
    return 0;
  }

  /**
   * The world's hidden truth, read-only, for studies of what a learner could reach on it
   * (bench/simulator-ceiling.ts): tastes, favourite tools, each user's previous choice in the
   * session (what the next request's sequence bonus follows) and the bonus itself.
   */
  hiddenWorld(): HiddenWorld {
    return {
      latentDim: this.latentDim,
      domains: DOMAINS,
      userTaste: this.userTaste,
      actionTaste: this.actionTaste,
      actionTool: this.actionTool,
      favouriteTool: this.favouriteTool,
      // A user's next request that starts a session follows nothing, whatever the last one chose.
      previousChoice: (user) => (this.sequence > 0 && this.userRequests[user] % this.sessionRequests !== 0 ? this.lastChosen[user] : -1),
      sequenceBonus: (previous, action) => this.sequenceBonus(previous, action),
    };
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
    // A user's session is their own run of `sessionRequests` requests, whoever else is active meanwhile.
    const ordinal = this.userRequests[user]++;
    if (ordinal % this.sessionRequests === 0) this.lastChosen[user] = -1;
    const previous = this.sequence > 0 ? this.lastChosen[user] : -1;
    const chosen = new Set<number>();
    if (previous >= 0) for (let k = 0; k < this.successorCount; k++) chosen.add(this.successorOf[previous * this.successorCount + k]);
    while (chosen.size < this.candidates) chosen.add(this.pick(this.actions));
    // Shuffled, so where a follow-up sits in the list says nothing.
    const candidates = [...chosen];
    if (previous >= 0) {
      for (let i = candidates.length - 1; i > 0; i--) {
        const j = this.pick(i + 1);
        [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
      }
    }
    const userId = `user-${user}`;
    const repo = REPOS[(user + domain) % REPOS.length];
    const base = {
      userId,
      sessionId: `session-${user}-${Math.floor(ordinal / this.sessionRequests)}`,
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
      candidates: candidates.map((a) => ({
        actionId: `action-${a}`,
        tool: TOOLS[this.actionTool[a]],
        text: `use ${TOOLS[this.actionTool[a]]} (${a})`,
      })),
      feedback: null,
    };
    const noisy = candidates.map((a) => this.preference(user, a, domain) + this.sequenceBonus(previous, a) + 0.5 * this.gumbel());
    const best = noisy.indexOf(Math.max(...noisy));
    const roll = this.random.nextFloat();
    let signal: FeedbackSignal;
    let actionId: string;
    let value: number;
    if (roll < 0.7) {
      signal = 'CHOSEN';
      actionId = `action-${candidates[best]}`;
      value = 1;
      if (this.sequence > 0) this.lastChosen[user] = candidates[best];
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
