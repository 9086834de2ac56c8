/**
 * What could any learner reach on npm start's simulated world? Learners that are told parts of
 * the world's hidden truth (SimulatedUsers.hiddenWorld()) and infer the rest from the events, in
 * one prequential pass like `agentrec replay`: each CHOSEN feedback is judged by the learner's
 * pick among the request's candidates before it learns from it. hit@1 is counted after the first
 * fifth of the events (replay's windows 3–10 of 10: the simulator's events are evenly spaced in
 * time), beside per-user popularity counted as replay's baseline counts it.
 *
 *   npx tsx bench/simulator-ceiling.ts [--events 20000] [--seed 7] [--ignore-sequence] [--replayed 16]
 *       [--out bench/results/simulator-ceiling]
 *
 * The learners, from most told to least:
 * - truth: the user's preference and the sequence bonus, without the choice noise;
 * - taste inferred: knows every action's vector, the favourite tools and the sequence bonus,
 *   and infers each user's taste from their own earlier choices — a MAP fit under the world's own
 *   prior N(0, I) and its noise (Gumbel × 0.5), refitted in full after every choice;
 * - taste and tools inferred: the same, with each user's favourite tool per domain inferred too;
 * - actions learned too: the same, with the action vectors learned online (AdaGrad on the
 *   softmax gradient, one pass), the only part of the world that users share and must be learned;
 * - same, all refitted: also fits every action vector and every taste jointly to all the choices
 *   so far every 500 choices (a batch learner that keeps everything and passes over it again);
 * - online, N earlier choices replayed: one pass like "actions learned too", but after each choice
 *   the action vectors also step on --replayed earlier choices of anyone (experience replay).
 * With --ignore-sequence the inferring learners are not told the sequence bonus (nor learn it).
 * Writes <out>.svg (hit@1 per window, each learner) and prints the table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { svgLineChart } from '../src/evaluation/svg-line-chart.js';
import { splitmix32 } from '../src/recommender/model/kernels/prng.js';
import { argmax } from '../src/recommender/model/kernels/vector.js';
import { SimulatedUsers, type HiddenWorld } from '../src/recommender/simulation/simulated-users.js';
import { SIMULATED_SCENARIO } from '../topologies/agent-recommender.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    seed: { type: 'string', default: String(SIMULATED_SCENARIO.seed) },
    out: { type: 'string', default: 'bench/results/simulator-ceiling' },
    'ignore-sequence': { type: 'boolean', default: false },
    replayed: { type: 'string', default: '16' },
  },
});
/** The inferring learners leave the sequence bonus out instead of being told it. */
const IGNORE_SEQUENCE = values['ignore-sequence'];
/** Earlier choices the online replay learner steps the action vectors on after each choice. */
const REPLAYED = Number(values.replayed);
const EVENTS = Number(values.events);
const SEED = Number(values.seed);
const WINDOWS = 10;
/** The world's choice noise is Gumbel × 0.5, so choices follow a softmax of preference × 2. */
const INVERSE_NOISE = 2;
/** Gradient-ascent steps and step size of a user's refit after each of their choices. */
const REFIT_STEPS = 60;
const REFIT_RATE = 0.05;
/** Prior variance of a favourite-tool weight (the world adds 2 for the favourite, 0 otherwise). */
const TOOL_PRIOR_VARIANCE = 4;
const ACTION_LEARNING_RATE = 0.3;
/** Joint gradient steps over all choices so far, every REFIT_ALL_EVERY choices (the batch learner). */
const REFIT_ALL_STEPS = 40;
const REFIT_ALL_EVERY = 500;

/** One choice the learners are judged on and learn from. */
interface Choice {
  user: number;
  domain: number;
  candidates: number[];
  previous: number;
  chosen: number;
}

interface Learner {
  name: string;
  pick(choice: Choice): number;
  learn(choice: Choice): void;
}

function truth(world: HiddenWorld, preference: (u: number, a: number, d: number) => number): Learner {
  return {
    name: 'truth (no noise)',
    pick: (c) => best(c.candidates, (a) => preference(c.user, a, c.domain) + world.sequenceBonus(c.previous, a)),
    learn: () => undefined,
  };
}

/** A per-user softmax model over known or learned action vectors, refitted from the user's own choices. */
function inferred(world: HiddenWorld, name: string, knowTools: boolean, learnActions: boolean, refitAllEvery = 0, replayed = 0): Learner {
  const d = world.latentDim;
  const tools = 1 + Math.max(...world.actionTool);
  const domains = world.domains.length;
  const actionCount = world.actionTaste.length / d;
  const init = splitmix32(12345);
  const small = () => (init.nextFloat() - 0.5) * 0.2;
  const actions = learnActions ? Float64Array.from({ length: actionCount * d }, small) : Float64Array.from(world.actionTaste);
  const accumulators = new Float64Array(actionCount * d).fill(0.1);
  const tastes = new Map<number, Float64Array>();
  const toolWeights = new Map<number, Float64Array>();
  const history = new Map<number, Choice[]>();
  let choices = 0;
  const past: Choice[] = [];
  const replayPicks = splitmix32(99);

  const score = (c: Choice, a: number): number => {
    let s = IGNORE_SEQUENCE ? 0 : world.sequenceBonus(c.previous, a);
    if (knowTools) s += world.actionTool[a] === world.favouriteTool[c.user * domains + c.domain] ? 2 : 0;
    else s += toolWeights.get(c.user)?.[c.domain * tools + world.actionTool[a]] ?? 0;
    const taste = tastes.get(c.user);
    if (taste) for (let k = 0; k < d; k++) s += taste[k] * actions[a * d + k];
    return s;
  };
  /** d log P(chosen) / d score for each candidate, at the world's noise scale. */
  const softmaxGradient = (c: Choice): number[] => {
    const logits = c.candidates.map((a) => INVERSE_NOISE * score(c, a));
    const top = Math.max(...logits);
    const weights = logits.map((l) => Math.exp(l - top));
    const total = weights.reduce((x, y) => x + y, 0);
    return c.candidates.map((a, i) => INVERSE_NOISE * ((a === c.chosen ? 1 : 0) - weights[i] / total));
  };

  /** One AdaGrad step of the candidates' vectors on a choice, its user's taste held fixed. */
  const stepActions = (c: Choice, taste: Float64Array) =>
    softmaxGradient(c).forEach((g, i) => {
      const at = c.candidates[i] * d;
      for (let k = 0; k < d; k++) {
        const step = g * taste[k] - 0.01 * actions[at + k];
        accumulators[at + k] += step * step;
        actions[at + k] += (ACTION_LEARNING_RATE / Math.sqrt(accumulators[at + k])) * step;
      }
    });

  /** Every action vector and every user's taste, fitted jointly to all choices so far (MAP, prior N(0, I) on both). */
  function refitAll(): void {
    // Each action's step scaled down by how often it was offered, or the popular ones overshoot.
    const offered = new Float64Array(actionCount);
    for (const own of history.values()) for (const earlier of own) for (const a of earlier.candidates) offered[a]++;
    for (let step = 0; step < REFIT_ALL_STEPS; step++) {
      const actionStep = actions.map((v) => -v);
      const tasteSteps = new Map([...tastes].map(([user, taste]) => [user, taste.map((t) => -t)]));
      for (const [user, own] of history) {
        const taste = tastes.get(user)!;
        const tasteStep = tasteSteps.get(user)!;
        for (const earlier of own) {
          softmaxGradient(earlier).forEach((g, i) => {
            const at = earlier.candidates[i] * d;
            for (let k = 0; k < d; k++) {
              tasteStep[k] += g * actions[at + k];
              actionStep[at + k] += g * taste[k];
            }
          });
        }
      }
      for (let j = 0; j < actions.length; j++) actions[j] += (REFIT_RATE * actionStep[j]) / Math.max(1, offered[Math.floor(j / d)] / 20);
      for (const [user, step] of tasteSteps) {
        const taste = tastes.get(user)!;
        for (let k = 0; k < d; k++) taste[k] += REFIT_RATE * step[k];
      }
    }
  }

  return {
    name,
    pick: (c) => best(c.candidates, (a) => score(c, a)),
    learn(c) {
      const taste = tastes.get(c.user) ?? new Float64Array(d);
      // One online step for the candidates' vectors, from this choice alone, then from `replayed`
      // earlier choices of anyone (their users' tastes as they are now, held fixed).
      if (learnActions && tastes.has(c.user)) stepActions(c, taste);
      for (let r = 0; r < replayed && past.length > 0; r++) {
        const e = past[Math.floor(replayPicks.nextFloat() * past.length)];
        stepActions(e, tastes.get(e.user)!);
      }
      if (replayed > 0) past.push(c);
      tastes.set(c.user, taste);
      const weights = toolWeights.get(c.user) ?? new Float64Array(domains * tools);
      toolWeights.set(c.user, weights);
      const own = history.get(c.user) ?? [];
      own.push(c);
      history.set(c.user, own);
      if (refitAllEvery > 0 && ++choices % refitAllEvery === 0) refitAll();
      // The user's MAP refit over everything they chose so far.
      for (let step = 0; step < REFIT_STEPS; step++) {
        const tasteStep = taste.map((t) => -t);
        const toolStep = weights.map((w) => -w / TOOL_PRIOR_VARIANCE);
        for (const earlier of own) {
          softmaxGradient(earlier).forEach((g, i) => {
            const a = earlier.candidates[i];
            for (let k = 0; k < d; k++) tasteStep[k] += g * actions[a * d + k];
            toolStep[earlier.domain * tools + world.actionTool[a]] += g;
          });
        }
        for (let k = 0; k < d; k++) taste[k] += REFIT_RATE * tasteStep[k];
        if (!knowTools) for (let j = 0; j < weights.length; j++) weights[j] += REFIT_RATE * toolStep[j];
      }
    },
  };
}

/** Replay's per-user popularity: the user's own positives, ties broken by global popularity. */
function userPopularity(): Learner & { accept(user: number, action: number): void } {
  const own = new Map<number, Map<number, number>>();
  const global = new Map<number, number>();
  const count = (user: number, action: number) => {
    const row = own.get(user) ?? new Map<number, number>();
    own.set(user, row);
    row.set(action, (row.get(action) ?? 0) + 1);
    global.set(action, (global.get(action) ?? 0) + 1);
  };
  return {
    name: 'per-user popularity',
    pick: (c) => best(c.candidates, (a) => (own.get(c.user)?.get(a) ?? 0) + (global.get(a) ?? 0) / 1e9),
    learn: (c) => count(c.user, c.chosen),
    accept: count,
  };
}

/** The candidate valued highest, the earliest on ties. */
function best(candidates: number[], value: (a: number) => number): number {
  return candidates[argmax(candidates.map(value))];
}

function main(): void {
  const users = new SimulatedUsers({ ...SIMULATED_SCENARIO, seed: SEED });
  const world = users.hiddenWorld();
  const popularity = userPopularity();
  const learners: Learner[] = [
    truth(world, (u, a, d) => users.preference(u, a, d)),
    inferred(world, 'taste inferred', true, false),
    inferred(world, 'taste and tools inferred', false, false),
    inferred(world, 'actions learned too', false, true),
    inferred(world, 'same, all refitted', false, true, REFIT_ALL_EVERY),
    inferred(world, `online, ${REPLAYED} earlier choices replayed`, false, true, 0, REPLAYED),
    popularity,
  ];
  const hits = learners.map(() => new Array<number>(WINDOWS).fill(0));
  const judged = new Array<number>(WINDOWS).fill(0);
  const requests = new Map<string, Omit<Choice, 'chosen'>>();
  const index = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1));
  const started = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    if (i % 2000 === 0) process.stderr.write(`\r${i.toLocaleString('en')} of ${EVENTS.toLocaleString('en')} events`);
    // The previous choice as the request about to be generated sees it.
    const previousBefore = Array.from({ length: users.users }, (_, u) => world.previousChoice(u));
    const event = users.next();
    const user = index(event.userId);
    if (event.kind === 'REQUEST') {
      const candidates = event.candidates.map((c) => index(c.actionId));
      requests.set(event.requestId!, { user, domain: world.domains.indexOf(event.domain!), candidates, previous: previousBefore[user] });
      continue;
    }
    const feedback = event.feedback!;
    const request = requests.get(event.requestId!)!;
    if (feedback.signal === 'ACCEPT' || feedback.signal === 'LIKE') popularity.accept(user, index(feedback.actionId!));
    if (feedback.signal !== 'CHOSEN') continue;
    const choice: Choice = { ...request, chosen: index(feedback.actionId!) };
    const window = Math.min(WINDOWS - 1, Math.floor((i / EVENTS) * WINDOWS));
    judged[window]++;
    learners.forEach((learner, l) => {
      if (learner.pick(choice) === choice.chosen) hits[l][window]++;
      learner.learn(choice);
    });
  }
  process.stderr.write(`\r${EVENTS.toLocaleString('en')} events in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);

  const afterWarmup = (l: number) => hits[l].slice(2).reduce((x, y) => x + y, 0) / judged.slice(2).reduce((x, y) => x + y, 0);
  const reference = afterWarmup(learners.length - 1);
  console.log(`simulator seed ${SEED}, ${EVENTS.toLocaleString('en')} events: hit@1 after warm-up (windows 3–10 of 10)`);
  learners.forEach((learner, l) =>
    console.log(
      `  ${learner.name.padEnd(36)} ${afterWarmup(l).toFixed(3)}  (${(afterWarmup(l) / reference).toFixed(2)}× per-user popularity)`,
    ),
  );
  mkdirSync(dirname(values.out), { recursive: true });
  const svg = svgLineChart({
    title: `What a learner could reach: simulator seed ${SEED}, ${EVENTS.toLocaleString('en')} events`,
    xLabel: 'event-time window',
    yLabel: 'hit@1',
    series: learners.map((learner, l) => ({
      name: learner.name,
      points: hits[l].map((h, w) => [w + 1, h / judged[w]] as [number, number]),
    })),
    width: 760,
    height: 380,
    yMin: 0,
  });
  writeFileSync(`${values.out}.svg`, svg + '\n');
  console.log(`wrote ${values.out}.svg`);
}

main();
