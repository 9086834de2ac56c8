/**
 * How far a bare softmax matrix factorisation (user row · action row, AdaGrad) gets on the
 * default simulator, and what context rows that carry no signal (repo, error type, request
 * words) cost it: the ceiling behind bench/README.md, "Action history". In memory, CHOSEN
 * feedback only; progressive hit@1 after the first two tenths.
 *
 *   npx tsx bench/experiments/mf-ceiling.ts [dim] [learningRate] [initialAccumulator] [initScale] [d|x|n…]
 *   (d: a domain row, x: a user×domain row, n: repo, error type, agent and word rows)
 */
import { SimulatedUsers } from '../../src/recommender/simulation/simulated-users.js';
import type { TrajectoryEvent } from '../../src/recommender/records.js';
import { SIMULATED_SCENARIO } from '../../topologies/agent-recommender.js';

const dim = Number(process.argv[2] ?? 32);
const lr = Number(process.argv[3] ?? 0.05);
const acc0 = Number(process.argv[4] ?? 0.001);
const initScale = Number(process.argv[5] ?? 0.01);
const extra = process.argv[6] ?? '';
interface Row {
  v: Float32Array;
  g: Float32Array;
}
const sim = new SimulatedUsers({ ...SIMULATED_SCENARIO, seed: 101 });
const rows = new Map<string, Row>();
let s = 1;
const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 2;
const row = (k: string): Row => {
  let r = rows.get(k);
  if (!r) {
    r = { v: Float32Array.from({ length: dim + 1 }, (_, i) => (i < dim ? rnd() * initScale : 0)), g: new Float32Array(dim + 1).fill(acc0) };
    rows.set(k, r);
  }
  return r;
};
const step = (r: Row, k: number, g: number) => {
  r.g[k] += g * g;
  r.v[k] -= (lr * g) / Math.sqrt(r.g[k]);
};
const requests = new Map<string, TrajectoryEvent>();
const outcomes: number[] = [];
for (let i = 0; i < 20_000; i++) {
  const e = sim.next();
  if (e.kind === 'REQUEST') {
    requests.set(e.requestId!, e);
    continue;
  }
  const r = requests.get(e.requestId ?? '');
  if (e.feedback?.signal !== 'CHOSEN' || !r) continue;
  const context = [row(r.userId)];
  if (extra.includes('d')) context.push(row(`domain=${r.domain}`));
  if (extra.includes('x')) context.push(row(`${r.userId}x${r.domain}`));
  if (extra.includes('n')) {
    for (const f of [`repo=${r.repo}`, `error=${r.errorType}`, `agent=${r.agent}`]) context.push(row(f));
    for (const w of (r.text ?? '').split(' ')) context.push(row(`w=${w}`));
  }
  const u = new Float32Array(dim);
  for (const c of context) for (let k = 0; k < dim; k++) u[k] += c.v[k];
  const candidates = r.candidates.map((c) => row(c.actionId));
  const scores = candidates.map((c) => c.v[dim] + u.reduce((sum, x, k) => sum + x * c.v[k], 0));
  const target = r.candidates.findIndex((c) => c.actionId === e.feedback!.actionId);
  outcomes.push(scores.indexOf(Math.max(...scores)) === target ? 1 : 0);
  const max = Math.max(...scores);
  const exp = scores.map((x) => Math.exp(x - max));
  const z = exp.reduce((a, b) => a + b, 0);
  const d = exp.map((x, c) => x / z - (c === target ? 1 : 0));
  const gu = new Float32Array(dim);
  candidates.forEach((c, j) => {
    for (let k = 0; k < dim; k++) gu[k] += d[j] * c.v[k];
  });
  candidates.forEach((c, j) => {
    for (let k = 0; k <= dim; k++) step(c, k, k < dim ? d[j] * u[k] : d[j]);
  });
  for (const c of context) for (let k = 0; k < dim; k++) step(c, k, gu[k]);
}
const after = outcomes.slice(Math.floor(outcomes.length / 5));
const rate = after.reduce((a, b) => a + b, 0) / after.length;
console.log(
  `dim ${dim} lr ${lr} acc0 ${acc0} init ${initScale} ${extra}: hit@1 after warm-up ${rate.toFixed(3)} (${outcomes.length} choices)`,
);
