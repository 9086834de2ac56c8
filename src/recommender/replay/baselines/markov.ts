import type { TrajectoryEvent } from '../../records.js';
import { ALL_NEEDS, Counts, PairCounts, isPositive, type Baseline, type CandidatePredictions, type PredictionNeeds } from './baseline.js';

/**
 * First-order Markov chain over actions: candidates ranked by how often the session's previous
 * action (the last one chosen, accepted or liked in it) was followed by each, over all sessions
 * so far; ties (and a session's first request) fall back to global popularity.
 */
export class MarkovChain implements Baseline {
  readonly name = 'markov';
  private readonly transitions = new PairCounts();
  private readonly popularity = new Counts();
  private readonly previous = new Map<string, string>();

  predict(request: TrajectoryEvent, needs: PredictionNeeds = ALL_NEEDS): CandidatePredictions {
    if (!needs.ranking) return {};
    const before = this.previous.get(request.sessionId);
    const next = before === undefined ? undefined : this.transitions.row(before);
    const tieBreak = 1 / (this.popularity.total + 1);
    return { scores: request.candidates.map((c) => (next?.get(c.actionId) ?? 0) + tieBreak * this.popularity.get(c.actionId)) };
  }

  learn(feedback: TrajectoryEvent, request: TrajectoryEvent): void {
    const f = feedback.feedback!;
    if (!isPositive(f.signal)) return;
    const action = f.actionId ?? request.candidates[0]?.actionId;
    if (!action) return;
    const before = this.previous.get(feedback.sessionId);
    if (before !== undefined) this.transitions.add(before, action);
    this.popularity.add(action);
    this.previous.set(feedback.sessionId, action);
  }
}
