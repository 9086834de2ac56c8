/**
 * Soak: the agent-recommender as a child `agentrec run` process on a real broker, fed at a fixed
 * rate for minutes, sampled every few seconds for its resident size, V8 heap, consumer lag and
 * event → score latency. Its question is whether memory levels off once the write-back caches
 * are full (README, "Memory"), or keeps climbing.
 *
 *   npm run build && node dist/bench/soak.js [--minutes 10] [--rate 2000] [--partitions 4] [--users 5000]
 *       [--sample-seconds 5] [--cache-bytes N] [--set key=value]… [--flat-percent 5] [--peak-seconds 60]
 *       [--out bench/results/soak]
 *
 * Under tsx (`npx tsx bench/soak.ts`) the child runs src/cli.ts through tsx; compiled, it runs
 * dist/src/cli.js; either way through scripts/node.sh, as `npm start` and deployments do, and
 * the RSS read from /proc is the child's (the recommender's), never this process's.
 *
 * Writes <out>.json (every sample, the settings, the verdict) and <out>.svg (RSS, heap, lag and
 * p99 against minutes). The verdict judges RSS by its peak in each --peak-seconds window (counted
 * back from the end): garbage between two major collections makes a sawtooth whose dips say
 * nothing about growth, while a leak lifts every peak. The fill point is where the longest
 * flat stretch of those peaks (max within --flat-percent of min) that reaches the end of the run
 * begins; RSS "stays flat after the caches fill" when that stretch covers at least the last 40 %
 * of the run. A run whose RSS still climbs at the end therefore fails, whatever caused it. The
 * raw samples' spread over the same stretch is printed beside it (--peak-seconds equal to
 * --sample-seconds judges the raw samples).
 *
 * Broker: KAFKA_BROKERS or 127.0.0.1:9092 (npm run kafka:start). Topics are named after the run
 * and deleted at the end.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import agentRecommender from '../topologies/agent-recommender.js';
import { settingsFrom } from '../src/cli/run-options.js';
import { ConfigError } from '../src/errors.js';
import { svgLineChart, type Series } from '../src/evaluation/svg-line-chart.js';
import type { TrajectoryEvent } from '../src/recommender/records.js';
import { STORE_MEMORY_PARTS, type StoreMemoryPart } from '../src/state/store.js';
import { scoreRecordSerde } from '../src/recommender/score-record-body.js';
import { SimulatedUsers } from '../src/recommender/simulation/simulated-users.js';
import { avroSerde } from '../src/serde/avro-serde.js';
import { TopologyRunner } from '../src/topology/runtime/topology-runner.js';
import { createKafkaTransport } from '../src/topology/transport/kafka-transport.js';
import { GroupProgress } from '../test/support/group-progress.js';
import { deleteRunTopics } from './run-topics.js';

/** The soak's settings, checked before anything starts. */
interface SoakConfig {
  minutes: number;
  rate: number;
  partitions: number;
  users: number;
  sampleSeconds: number;
  cacheBytes: number | undefined;
  flatPercent: number;
  peakSeconds: number;
  out: string;
  settings: Record<string, string>;
  brokers: string;
}

/** One sample of the child, `t` seconds after production started. */
interface Sample {
  t: number;
  produced: number;
  processed: number;
  /** Records produced but not yet through the first step. */
  lag: number;
  /** End offsets minus the group's committed offsets, summed over partitions (undefined when the admin did not answer). */
  committedLag: number | undefined;
  rssMiB: number;
  heapUsedMiB: number | undefined;
  /** V8's heap as reserved (young and old generations), and memory outside it that JS objects hold (ArrayBuffers: the caches' slabs, record buffers). */
  heapTotalMiB: number | undefined;
  externalMiB: number | undefined;
  /** V8's reserved size per heap space that matters here (new, old, large objects; V8's own names), MiB. */
  heapSpacesMiB: Partial<Record<HeapSpace, number>>;
  /** State stores' memory summed over stores and partitions, by part (agentrec_state_memory_bytes), MiB. */
  stateMiB: Partial<Record<StoreMemoryPart, number>>;
  /** Event → score latency of the requests scored since the previous sample (ms). */
  p50: number | undefined;
  p99: number | undefined;
  scored: number;
}

/** Metrics summed per value of one label (the rest are summed over all their series). */
const LABEL_KEPT: Readonly<Record<string, string>> = {
  agentrec_records_in_total: 'step',
  agentrec_state_memory_bytes: 'part',
  agentrec_process_nodejs_heap_space_size_total_bytes: 'space',
};

/** V8's heap spaces the soak samples: which one's reserve grows says whether garbage, live data or big arrays are the cause. */
const HEAP_SPACES = ['new', 'old', 'large_object'] as const;
type HeapSpace = (typeof HEAP_SPACES)[number];

const STATE_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];

/** `cache 62 · memtables 40 · …` in MiB, the parts a sample has. */
function formatStateMemory(state: Sample['stateMiB']): string {
  const short: Record<StoreMemoryPart, string> = {
    write_back_cache: 'cache',
    rocksdb_memtables: 'memtables',
    rocksdb_table_readers: 'tables',
    rocksdb_block_cache: 'blocks',
    unflushed_writes: 'unflushed',
  };
  const parts = STORE_MEMORY_PARTS.filter((part) => state[part] !== undefined);
  return parts.length ? parts.map((part) => `${short[part]} ${state[part]!.toFixed(0)}`).join(' · ') + ' MiB' : '?';
}

/** Fraction of the run the flat stretch must cover for the verdict to pass. */
const MIN_FLAT_FRACTION = 0.4;
/** How often events are produced; each tick sends what the rate says is due by then. */
const TICK_MS = 50;

const REPO_ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '..' : '../..', import.meta.url));

function soakConfig(): SoakConfig {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      rate: { type: 'string', default: '2000' },
      partitions: { type: 'string', default: '4' },
      users: { type: 'string', default: '5000' },
      'sample-seconds': { type: 'string', default: '5' },
      'cache-bytes': { type: 'string' },
      'flat-percent': { type: 'string', default: '5' },
      'peak-seconds': { type: 'string', default: '60' },
      out: { type: 'string', default: 'bench/results/soak' },
      set: { type: 'string', multiple: true, default: [] },
    },
  });
  const positive = (flag: string, text: string, integer: boolean): number => {
    const value = Number(text);
    if (!(value > 0 && Number.isFinite(value)) || (integer && !Number.isInteger(value)))
      throw new ConfigError(`--${flag}`, `must be a positive ${integer ? 'whole ' : ''}number, got '${text}'`);
    return value;
  };
  return {
    minutes: positive('minutes', values.minutes, false),
    rate: positive('rate', values.rate, true),
    partitions: positive('partitions', values.partitions, true),
    users: positive('users', values.users, true),
    sampleSeconds: positive('sample-seconds', values['sample-seconds'], false),
    cacheBytes: values['cache-bytes'] === undefined ? undefined : positive('cache-bytes', values['cache-bytes'], true),
    flatPercent: positive('flat-percent', values['flat-percent'], false),
    peakSeconds: positive('peak-seconds', values['peak-seconds'], false),
    out: values.out,
    settings: settingsFrom(values.set),
    brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
  };
}

/** `agentrec run` of the agent-recommender, started through scripts/node.sh (which execs node: the PID is the recommender's). */
class RecommenderChild {
  readonly exited: Promise<number | null>;
  readonly pid: number;
  private log = '';
  private readonly child;

  constructor(args: string[], logFile: string) {
    const compiled = !import.meta.url.endsWith('.ts');
    const cli = compiled ? ['dist/src/cli.js'] : ['--import', 'tsx', 'src/cli.ts'];
    const topologyFile = compiled ? 'dist/topologies/agent-recommender.js' : 'topologies/agent-recommender.ts';
    this.child = spawn('sh', ['scripts/node.sh', ...cli, 'run', topologyFile, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = this.child.pid!;
    writeFileSync(logFile, '');
    const keep = (chunk: Buffer) => {
      this.log += chunk.toString();
      appendFileSync(logFile, chunk);
    };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get output(): string {
    return this.log;
  }

  get metricsUrl(): string | undefined {
    return /metrics on (http:\/\/[^/\s]+\/metrics)/.exec(this.log)?.[1];
  }

  /** Resident set size from /proc, in MiB (Linux), else undefined. */
  rssMiB(): number | undefined {
    try {
      const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1];
      return kib === undefined ? undefined : Number(kib) / 1024;
    } catch {
      return undefined;
    }
  }

  /** Sums of the metric series whose name (and label text, when given) match. */
  async metrics(): Promise<Map<string, number>> {
    const sums = new Map<string, number>();
    if (!this.metricsUrl) return sums;
    const text = await (await fetch(this.metricsUrl, { signal: AbortSignal.timeout(5000) })).text();
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || line.length === 0) continue;
      const name = line.slice(0, line.search(/[{ ]/));
      const labels = /\{(.*)\}/.exec(line)?.[1] ?? '';
      const label = LABEL_KEPT[name];
      const key = label ? `${name}|${new RegExp(`${label}="([^"]*)"`).exec(labels)?.[1]}` : name;
      sums.set(key, (sums.get(key) ?? 0) + Number(line.split(' ').at(-1)));
    }
    return sums;
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal);
  }
}

function quantile(sorted: number[], q: number): number | undefined {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : undefined;
}

/** The highest RSS in each window of `seconds`, windows counted back from the last sample, in time order. */
function windowPeaks(samples: Sample[], seconds: number): { start: number; rssMiB: number }[] {
  const end = samples.at(-1)?.t ?? 0;
  const peaks = new Map<number, number>();
  for (const s of samples) {
    const back = Math.floor((end - s.t) / seconds);
    peaks.set(back, Math.max(peaks.get(back) ?? 0, s.rssMiB));
  }
  return [...peaks].sort((a, b) => b[0] - a[0]).map(([back, rssMiB]) => ({ start: Math.max(0, end - (back + 1) * seconds), rssMiB }));
}

/** Where the longest stretch of values within `percent` % that reaches the end begins (an index). */
function flatStretchStart(rss: number[], percent: number): number {
  let min = Infinity;
  let max = -Infinity;
  let start = rss.length;
  for (let i = rss.length - 1; i >= 0; i--) {
    const nextMin = Math.min(min, rss[i]);
    const nextMax = Math.max(max, rss[i]);
    if ((nextMax - nextMin) / nextMin > percent / 100) break;
    min = nextMin;
    max = nextMax;
    start = i;
  }
  return start;
}

const formatTime = (seconds: number) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;

/** Four charts (RSS, heap, lag, p99 against minutes) in one SVG, two by two. */
function soakSvg(samples: Sample[], config: SoakConfig, fill: Sample | undefined, peaks: { start: number; rssMiB: number }[]): string {
  const minutes = (s: Sample) => s.t / 60;
  const line = (name: string, pick: (s: Sample) => number | undefined, color?: string): Series => ({
    name,
    color,
    points: samples.flatMap((s) => {
      const v = pick(s);
      return v === undefined ? [] : [[minutes(s), v] as [number, number]];
    }),
  });
  const rss = line('RSS', (s) => s.rssMiB);
  const rssSeries: Series[] = [
    rss,
    {
      name: `peak per ${config.peakSeconds} s`,
      color: '#d62728',
      points: peaks.flatMap((p) => [
        [p.start / 60, p.rssMiB] as [number, number],
        [Math.min(p.start + config.peakSeconds, samples.at(-1)!.t) / 60, p.rssMiB] as [number, number],
      ]),
    },
  ];
  if (fill) {
    const top = Math.max(...rss.points.map((p) => p[1]));
    rssSeries.push({
      name: 'fill point',
      dashed: true,
      color: '#7f7f7f',
      points: [
        [minutes(fill), 0],
        [minutes(fill), top],
      ],
    });
  }
  const cache = config.cacheBytes === undefined ? 'default cache' : `--cache-bytes ${config.cacheBytes}`;
  const panels = [
    svgLineChart({
      title: `RSS (MiB), ${cache}`,
      xLabel: 'minutes',
      yLabel: 'MiB',
      series: rssSeries,
      width: 560,
      height: 300,
      yDecimals: 0,
    }),
    svgLineChart({
      title: 'V8 heap and external memory (MiB)',
      xLabel: 'minutes',
      yLabel: 'MiB',
      series: [
        line('heap used', (s) => s.heapUsedMiB, '#2ca02c'),
        line('heap total', (s) => s.heapTotalMiB, '#1f77b4'),
        line('external', (s) => s.externalMiB, '#9467bd'),
        ...HEAP_SPACES.map((space, i) => line(`${space.replace('_', ' ')} space`, (s) => s.heapSpacesMiB[space], STATE_COLOURS[i + 1])),
      ],
      width: 560,
      height: 300,
      yDecimals: 0,
    }),
    svgLineChart({
      title: 'state stores, all partitions (MiB)',
      xLabel: 'minutes',
      yLabel: 'MiB',
      series: STORE_MEMORY_PARTS.map((part, i) => line(part.replace(/_/g, ' '), (s) => s.stateMiB[part], STATE_COLOURS[i])),
      width: 560,
      height: 300,
      yDecimals: 0,
    }),
    svgLineChart({
      title: 'consumer lag (records)',
      xLabel: 'minutes',
      yLabel: 'records',
      series: [line('not processed', (s) => s.lag, '#ff7f0e'), line('not committed', (s) => s.committedLag, '#9467bd')],
      width: 560,
      height: 300,
      yDecimals: 0,
    }),
    svgLineChart({
      title: 'event → score latency (ms)',
      xLabel: 'minutes',
      yLabel: 'ms',
      series: [line('p99', (s) => s.p99, '#d62728'), line('p50', (s) => s.p50, '#1f77b4')],
      width: 560,
      height: 300,
      yDecimals: 0,
    }),
  ];
  const placed = panels.map((svg, i) => svg.replace('<svg ', `<svg x="${(i % 2) * 560}" y="${30 + Math.floor(i / 2) * 300}" `));
  const title = `agentrec soak: ${config.rate.toLocaleString('en')} events/s for ${config.minutes} min, ${config.partitions} partitions, ${config.users.toLocaleString('en')} users`;
  const height = 30 + Math.ceil(panels.length / 2) * 300;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="1120" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="1120" height="${height}" fill="white"/>`,
    `<text x="560" y="20" text-anchor="middle" font-size="15">${title}</text>`,
    ...placed,
    '</svg>',
  ].join('\n');
}

async function main(): Promise<void> {
  const config = soakConfig();
  const run = `soak-${Date.now().toString(36)}`;
  const input = `${run}.in`;
  const output = `${run}.scores`;
  const group = `${run}-group`;
  const settings = { ...config.settings, inputTopic: input, outputTopic: output, partitions: String(config.partitions) };
  const transport = createKafkaTransport({ brokers: config.brokers });
  await transport.ensureTopics([{ topic: input, partitions: config.partitions }]);

  const stateDir = mkdtempSync(join(tmpdir(), 'agentrec-soak-'));
  const args = ['--brokers', config.brokers, '--group', group, '--state-dir', stateDir, '--metrics-port', '0'];
  if (config.cacheBytes !== undefined) args.push('--cache-bytes', String(config.cacheBytes));
  for (const [key, value] of Object.entries(settings)) args.push('--set', `${key}=${value}`);
  mkdirSync(dirname(config.out), { recursive: true });
  const child = new RecommenderChild(args, `${config.out}.log`);
  const startLoad = loadavg();
  console.log(
    `agentrec soak: ${config.rate} events/s for ${config.minutes} min, ${config.partitions} partitions, ${config.users} users, ` +
      `${config.cacheBytes === undefined ? 'default cache' : `cache ${config.cacheBytes} bytes`} per store and partition; ` +
      `child pid ${child.pid}; ${cpus().length} CPUs, load ${startLoad.map((l) => l.toFixed(2)).join(' ')}`,
  );

  let childExit: number | null | undefined;
  void child.exited.then((code) => (childExit = code));
  const waitFor = async (what: string, condition: () => Promise<boolean>, timeoutMs: number) => {
    for (const deadline = Date.now() + timeoutMs; !(await condition().catch(() => false));) {
      if (childExit !== undefined) throw new Error(`the recommender exited (${childExit}) while waiting for ${what}:\n${child.output}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${child.output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  await waitFor(
    'the recommender to be ready',
    async () => child.metricsUrl !== undefined && (await fetch(child.metricsUrl.replace(/metrics$/, 'readyz'))).status === 200,
    120_000,
  );
  const rssAtReady = child.rssMiB();

  // Score records: each request's latency from the moment it was handed to the producer.
  const sentAt = new Map<string, number>();
  let latencies: number[] = [];
  let scored = 0;
  const scoreSerde = scoreRecordSerde();
  const reader = transport.createConsumer({ groupId: `${run}-scores-reader`, topics: [output] });
  await reader.start({
    onAssigned: async () => undefined,
    onRevoked: async () => undefined,
    onBatch: async (_tp, records) => {
      const now = performance.now();
      for (const record of records) {
        const id = scoreSerde.deserialize(record.value!).requestId;
        const sent = sentAt.get(id);
        if (sent === undefined) continue;
        sentAt.delete(id);
        latencies.push(now - sent);
        scored++;
      }
    },
  });

  const eventSerde = avroSerde<TrajectoryEvent>('trajectory-event');
  const users = new SimulatedUsers({ users: config.users, actions: 300, candidates: 20, seed: 11 });
  const producer = transport.createProducer({ clientId: `${run}-producer` });
  const progress = new GroupProgress(config.brokers, group, input);
  const durationMs = config.minutes * 60_000;
  const total = Math.round((durationMs / 1000) * config.rate);
  let produced = 0;
  let sendFailure: unknown;
  const started = performance.now();
  const ticker = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * config.rate));
    if (due <= produced) return;
    const now = performance.now();
    const records = [];
    for (; produced < due; produced++) {
      const event = users.next();
      if (event.kind === 'REQUEST') sentAt.set(event.requestId!, now);
      records.push({ topic: input, key: Buffer.from(event.userId), value: eventSerde.serialize(event) });
    }
    producer.send(records).catch((error: unknown) => (sendFailure ??= error));
  }, TICK_MS);

  const firstStep = 'decode';
  const samples: Sample[] = [];
  const sample = async (): Promise<Sample> => {
    const metrics = await child.metrics().catch(() => new Map<string, number>());
    const processed = metrics.get(`agentrec_records_in_total|${firstStep}`) ?? 0;
    const offsets = await progress.offsets().catch(() => undefined);
    const committedLag = offsets?.end.reduce((sum, end, p) => sum + end - Math.max(0, offsets.committed[p]), 0);
    const window = latencies.sort((a, b) => a - b);
    latencies = [];
    const mib = (name: string) => {
      const bytes = metrics.get(`agentrec_process_${name}`);
      return bytes === undefined ? undefined : bytes / 2 ** 20;
    };
    return {
      t: (performance.now() - started) / 1000,
      produced,
      processed,
      lag: Math.max(0, produced - processed),
      committedLag,
      rssMiB: child.rssMiB() ?? (metrics.get('agentrec_process_process_resident_memory_bytes') ?? 0) / 2 ** 20,
      heapUsedMiB: mib('nodejs_heap_size_used_bytes'),
      heapTotalMiB: mib('nodejs_heap_size_total_bytes'),
      externalMiB: mib('nodejs_external_memory_bytes'),
      heapSpacesMiB: Object.fromEntries(
        HEAP_SPACES.flatMap((space) => {
          const bytes = metrics.get(`agentrec_process_nodejs_heap_space_size_total_bytes|${space}`);
          return bytes === undefined ? [] : [[space, bytes / 2 ** 20]];
        }),
      ),
      stateMiB: Object.fromEntries(
        STORE_MEMORY_PARTS.flatMap((part) => {
          const bytes = metrics.get(`agentrec_state_memory_bytes|${part}`);
          return bytes === undefined ? [] : [[part, bytes / 2 ** 20]];
        }),
      ),
      p50: quantile(window, 0.5),
      p99: quantile(window, 0.99),
      scored: window.length,
    };
  };
  try {
    while (performance.now() - started < durationMs) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(config.sampleSeconds * 1000, started + durationMs - performance.now())));
      if (childExit !== undefined) throw new Error(`the recommender exited (${childExit}) during the soak:\n${child.output}`);
      if (sendFailure) throw sendFailure;
      const s = await sample();
      samples.push(s);
      process.stderr.write(
        `  ${formatTime(s.t)} / ${formatTime(durationMs / 1000)}  produced ${s.produced.toLocaleString('en')}  ` +
          `RSS ${s.rssMiB.toFixed(0)} MiB  heap ${s.heapUsedMiB?.toFixed(0) ?? '?'}/${s.heapTotalMiB?.toFixed(0) ?? '?'} MiB  external ${s.externalMiB?.toFixed(0) ?? '?'} MiB  ` +
          `(new · old · large ${HEAP_SPACES.map((space) => s.heapSpacesMiB[space]?.toFixed(0) ?? '?').join(' · ')})  ` +
          `state ${formatStateMemory(s.stateMiB)}  lag ${s.lag.toLocaleString('en')} ` +
          `(uncommitted ${s.committedLag?.toLocaleString('en') ?? '?'})  p99 ${s.p99?.toFixed(0) ?? '–'} ms  load ${loadavg()[0].toFixed(2)}\n`,
      );
    }
  } finally {
    clearInterval(ticker);
  }

  const rss = samples.map((s) => s.rssMiB);
  const peaks = windowPeaks(samples, config.peakSeconds);
  const peakIndex = flatStretchStart(
    peaks.map((p) => p.rssMiB),
    config.flatPercent,
  );
  const fillIndex = peakIndex < peaks.length ? samples.findIndex((s) => s.t >= peaks[peakIndex].start) : -1;
  const fill = fillIndex >= 0 ? samples[fillIndex] : undefined;
  const flat = peaks.slice(peakIndex).map((p) => p.rssMiB);
  const raw = fill ? rss.slice(fillIndex) : [];
  const flatSeconds = fill ? samples.at(-1)!.t - fill.t : 0;
  const passed = fill !== undefined && flatSeconds >= MIN_FLAT_FRACTION * (durationMs / 1000);
  const all = samples.flatMap((s) => (s.p99 === undefined ? [] : [s.p99]));
  const verdict = {
    passed,
    fillPointSeconds: fill?.t,
    flatMinMiB: flat.length ? Math.min(...flat) : undefined,
    flatMaxMiB: flat.length ? Math.max(...flat) : undefined,
    flatSpreadPercent: flat.length ? ((Math.max(...flat) - Math.min(...flat)) / Math.min(...flat)) * 100 : undefined,
    rawMinMiB: raw.length ? Math.min(...raw) : undefined,
    rawMaxMiB: raw.length ? Math.max(...raw) : undefined,
    rssAtReadyMiB: rssAtReady,
    rssFinalMiB: rss.at(-1),
    heapFinalMiB: samples.at(-1)?.heapUsedMiB,
    maxLag: Math.max(...samples.map((s) => s.lag)),
    worstWindowP99Ms: all.length ? Math.max(...all) : undefined,
    scored,
    loadAverage: { start: startLoad, end: loadavg() },
  };
  console.log(
    passed
      ? `RSS flat within ${config.flatPercent} % after the caches filled: from ${formatTime(fill.t)} to the end ` +
          `(${formatTime(flatSeconds)}), peaks per ${config.peakSeconds} s ${verdict.flatMinMiB!.toFixed(0)}–${verdict.flatMaxMiB!.toFixed(0)} MiB ` +
          `(${verdict.flatSpreadPercent!.toFixed(1)} %) — PASS`
      : `RSS not flat: peaks per ${config.peakSeconds} s within ${config.flatPercent} % only over the last ${formatTime(flatSeconds)} ` +
          `(needs ${Math.round(MIN_FLAT_FRACTION * 100)} % of the run, ${formatTime(MIN_FLAT_FRACTION * (durationMs / 1000))}) — FAIL`,
  );
  if (raw.length)
    console.log(
      `every sample over that stretch: ${verdict.rawMinMiB!.toFixed(0)}–${verdict.rawMaxMiB!.toFixed(0)} MiB ` +
        `(${(((verdict.rawMaxMiB! - verdict.rawMinMiB!) / verdict.rawMinMiB!) * 100).toFixed(1)} %: the sawtooth between major collections)`,
    );
  console.log(
    `RSS ${rssAtReady?.toFixed(0)} MiB when ready → ${verdict.rssFinalMiB?.toFixed(0)} MiB at the end; heap used ${verdict.heapFinalMiB?.toFixed(0)} MiB; ` +
      `max lag ${verdict.maxLag.toLocaleString('en')} records; worst ${config.sampleSeconds} s window p99 ${verdict.worstWindowP99Ms?.toFixed(0)} ms; ` +
      `${scored.toLocaleString('en')} requests scored; load ${verdict.loadAverage.end.map((l) => l.toFixed(2)).join(' ')}`,
  );
  writeFileSync(
    `${config.out}.json`,
    JSON.stringify({ command: process.argv.slice(1).join(' '), config: { ...config, brokers: undefined }, verdict, samples }, null, 1) +
      '\n',
  );
  writeFileSync(`${config.out}.svg`, soakSvg(samples, config, fill, peaks) + '\n');
  console.log(`wrote ${config.out}.json, ${config.out}.svg (the recommender's log: ${config.out}.log)`);

  await producer.close();
  await reader.stop();
  await progress.close();
  child.stop('SIGTERM');
  const timer = setTimeout(() => child.stop('SIGKILL'), 60_000);
  await child.exited;
  clearTimeout(timer);
  const topology = agentRecommender({ transport: 'kafka', groupId: group, settings });
  await deleteRunTopics(transport, new TopologyRunner(topology, { transport, groupId: group, stateDir, log: () => undefined }), run);
  await transport.close();
  rmSync(stateDir, { recursive: true, force: true });
  process.exitCode = passed ? 0 : 1;
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
