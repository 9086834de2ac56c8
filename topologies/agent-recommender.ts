/**
 * The agent recommender: trajectories in, a score for every candidate action out, learning
 * online from feedback. Copy this file to start your own.
 *
 *   agent.trajectories ─ decode ─ encode ─ session ─ lookup ─ score ─ learn ─ emit ─ agent.scores
 *                                             │         │       │       │
 *                                         sessions   rows + scored requests (RocksDB per partition, changelogged)
 *
 *   npm start                                      embedded log + simulated users, progress every 2 s
 *   agentrec run topologies/agent-recommender.ts --brokers 127.0.0.1:9092
 *   --set interaction=dcn   --set dim=16   --set partitions=8   --set modelDir=.models/tiny-bert   --set encoderDevice=webgpu
 *   --set dcnFields=prev_action,prev2,last_outcome,tool,domain (fields with a DCN input slot of their own)
 *   --set backend=typescript (FM math in TypeScript instead of WebAssembly SIMD; kernel= is its older name)
 *   --set maxStoredRequests=500000 (scored requests kept per partition for their feedback)
 *   --set syncEveryEvents=0 (model sync off; on Kafka it runs once a second per task by default)
 *   --set sessionContext=false   --set sessionFeatures=previousAction,previousTwo,lastOutcome,turn   --set sessionK=3
 *   --set timeFeatures=true (hour-of-day and day-of-week features)   --set ratingLinearLearningRate=0.4
 *   --set ratingWeight=0.1 (a rating's loss weight beside choices)   --set userWeight=1 (the user row's weight)
 *   --set ratingCalibration=false (read ratings as centre + score / scale, not through the fitted readout)
 *   --set actionHistory=false (no per-user count of earlier takes per candidate)   --set historyLearningRate=0.3
 *   --set candidateTools=true (a candidate is its action row plus a row for its tool; TypeScript backend)
 *   --set candidateCrosses=none|prev_action,prev_outcome,taken (offsets per context feature × candidate)
 *   --set crossLearningRate=0.2   --set crossBuckets=32768
 *   --set maxCandidates=256 (candidates scored per request; the rest are counted as request_candidates_dropped)
 */
import { avroSerde, decode, topology, type SimulationContext, type TopologyEnv } from 'agentrec';
import {
  actionHistory,
  emit,
  encode,
  LiveBaselines,
  modelOptionsFromSettings,
  timeFeaturesFromSettings,
  modelTopicName,
  recommenderModel,
  scoreRecordSerde,
  sessionContext,
  SimulatedUsers,
  validateTrajectoryEvent,
  type SessionFeature,
  type TrajectoryEvent,
} from 'agentrec/recommender';

/**
 * Shared rows learn from the whole stream by default: on the embedded log a sync at every batch
 * end (an in-memory read; chosen by bench/sweep-defaults.ts), on Kafka at most one a second
 * (--set syncIntervalMs=N), which costs ~35 % of end-to-end throughput and little latency;
 * --set syncEveryEvents=0 turns it off, and then a task's state is a function of its input
 * alone: bench/README.md, "Model sync on Kafka by default".
 */
export const DEFAULT_SYNC_EVERY_EVENTS = { embedded: 1, kafka: 1 } as const;
export const DEFAULT_SYNC_INTERVAL_MS = { embedded: 0, kafka: 1000 } as const;
export const DEFAULT_SYNC_WEIGHTING = 'sum';
export const DEFAULT_SYNC_OPTIMIZER_STATE = 'shared';

export default function agentRecommender(env: TopologyEnv = { transport: 'embedded', settings: {} }) {
  const s = env.settings;
  // learningRate, denseLearningRate, initialAccumulator, l2, initScale, dim, ratingCenter (a number or auto),
  // ratingScale, ratingLinearLearningRate, ratingWeight, userWeight, learnUnseenActions, candidateTools,
  // candidateCrosses, crossLearningRate, crossBuckets: checked with errors naming /settings/<key>; unset,
  // the model's swept defaults.
  const learning = modelOptionsFromSettings(s);
  const model = recommenderModel({
    ...learning,
    name: 'rec',
    interaction: s.interaction === 'dcn' ? 'dcn' : 'fm',
    // DCN's own x0 slots: --set dcnFields=prev_action,tool (unset or empty: every feature in one pooled mean).
    dcn: s.dcnFields === undefined ? undefined : { fields: s.dcnFields.split(',').filter(Boolean) },
    denseInputDim: s.modelDir ? Number(s.denseInputDim ?? 32) : 0,
    sampleWeights: { real: 1, simulated: 0.5 },
    requestTtlMs: 6 * 3600_000,
    // Scored requests a partition keeps for late feedback (memory: ~40 bytes each); default 2M.
    maxStoredRequests: s.maxStoredRequests ? Number(s.maxStoredRequests) : undefined,
    // 'auto' (unset): wasm-simd for FM with AdaGrad rows and no text model, else typescript.
    // recommenderModel validates both names: a typo is a ConfigError naming /model/backend or /model/kernel.
    backend: s.backend as 'auto' | undefined,
    kernel: s.kernel as 'auto' | undefined,
  });
  const partitions = Number(s.partitions ?? 4);
  const sync = {
    topic: modelTopicName(env.groupId ?? 'agent-recommender', 'rec'),
    // One partition is one task: it has no peer to sync with, so sync stays off unless asked for.
    everyEvents:
      s.syncEveryEvents !== undefined ? Number(s.syncEveryEvents) : partitions === 1 ? 0 : DEFAULT_SYNC_EVERY_EVENTS[env.transport],
    minIntervalMs: s.syncIntervalMs === undefined ? DEFAULT_SYNC_INTERVAL_MS[env.transport] : Number(s.syncIntervalMs),
    weighting: (s.syncWeighting ?? DEFAULT_SYNC_WEIGHTING) as 'average' | 'sum',
    optimizerState: (s.syncOptimizerState ?? DEFAULT_SYNC_OPTIMIZER_STATE) as 'local' | 'shared',
  };
  return (
    topology('agent-recommender')
      .from('trajectories', { topic: s.inputTopic ?? 'agent.trajectories', partitions })
      // Candidates are known by action id (and by tool with candidateTools on): their text, and
      // otherwise their tool, are skipped while decoding, not read into strings nothing looks at.
      .step(
        decode('decode', {
          serde: avroSerde<TrajectoryEvent>('trajectory-event', {
            skipOnRead: model.candidateTools ? ['candidates.text'] : ['candidates.tool', 'candidates.text'],
          }),
          validate: validateTrajectoryEvent,
        }),
      )
      // Word uni- and bigrams only: character trigrams tripled the rows per request (42 vs 13 for a
      // typical one) and halved end-to-end throughput for no gain on this traffic.
      .step(
        encode('encode', {
          // Hour of day and day of week: off unless --set timeFeatures=true (bench/README.md, "Ratings").
          time: timeFeaturesFromSettings(s),
          crosses: [
            ['tool', 'domain'],
            ['domain', 'repo'],
          ],
          // --set encoderDevice=webgpu runs the pretrained encoder through ONNX Runtime's WebGPU provider.
          text: s.modelDir
            ? { fields: ['text'], modelDir: s.modelDir, device: s.encoderDevice as 'cpu' | 'webgpu' | undefined }
            : { fields: ['text'], ngrams: { charTrigrams: s.charTrigrams === 'true' } },
        }),
      )
      // What the session did last (previous actions, their outcome, the turn) as features of its next
      // request: --set sessionContext=false turns it off, --set sessionFeatures=previousAction,turn picks.
      .step(
        sessionContext('session', {
          enabled: s.sessionContext !== 'false',
          k: s.sessionK ? Number(s.sessionK) : undefined,
          features: s.sessionFeatures === undefined ? undefined : (s.sessionFeatures.split(',').filter(Boolean) as SessionFeature[]),
        }),
      )
      // How often the user took each candidate before, as a learned score offset per count bucket:
      // --set actionHistory=false turns it off (bench/README.md, "Action history").
      .step(
        actionHistory('history', {
          enabled: s.actionHistory !== 'false',
          maxCandidates: model.maxCandidates,
          takenFeatures: s.takenFeatures === undefined ? undefined : Number(s.takenFeatures),
        }),
      )
      .step(model.lookup('lookup'))
      .step(model.score('score'))
      // Shared rows and dense weights reconcile across partitions and instances through a model
      // topic (--set syncEveryEvents=0 turns it off: then crash replay is byte-exact per task).
      .step(model.learn('learn', { sync }))
      .step(emit('emit'))
      .to('scores', { topic: s.outputTopic ?? 'agent.scores', serde: scoreRecordSerde() })
  );
}

/**
 * The npm start world: users with hidden tastes, sessions of 5 requests, and a next action that
 * tends to follow the previous one (sequence): choices depend on the user and on the session.
 */
export const SIMULATED_SCENARIO = { users: 500, actions: 200, candidates: 20, sequence: 2, seed: 7 } as const;

/**
 * Zero-setup traffic: simulated users with hidden tastes and delayed feedback. The same events
 * feed the replay's baselines, and the best one's hit@1 is reported beside the learn step's
 * `hit_at_1` gauge (the learn step's smoothing, 0.01 per partition, spread over the whole stream),
 * the best rating baseline's error beside `rating_mae`.
 */
export async function simulate(sim: SimulationContext): Promise<void> {
  const users = new SimulatedUsers(SIMULATED_SCENARIO);
  const serde = avroSerde<TrajectoryEvent>('trajectory-event');
  const topic = sim.topology.source.topic;
  const baselines = sim.reference ? new LiveBaselines(0.01 / sim.topology.source.partitions) : undefined;
  const chunk = 500;
  const started = performance.now();
  for (let sent = 0; (sim.events === 0 || sent < sim.events) && !sim.signal.aborted;) {
    const n = sim.events === 0 ? chunk : Math.min(chunk, sim.events - sent);
    const records = Array.from({ length: n }, () => {
      const event = users.next();
      baselines?.observe(event);
      return { topic, key: Buffer.from(event.userId), value: serde.serialize(event) };
    });
    const best = baselines?.best();
    if (best) sim.reference!('hit_at_1', `best baseline (${best.name})`, best.hitAt1);
    const bestRating = baselines?.bestRating();
    if (bestRating) sim.reference!('rating_mae', `best baseline (${bestRating.name})`, bestRating.mae, 'lower');
    await sim.produce(records);
    sent += n;
    if (sim.rate > 0) {
      const ahead = (sent / sim.rate) * 1000 - (performance.now() - started);
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    } else {
      // Let the pipeline breathe: the embedded log lives in this process.
      await new Promise((r) => setImmediate(r));
    }
  }
}
