/**
 * Bytes allocated per event, by step: runs bench/step-times (embedded log, recommender topology)
 * under V8's sampling heap profiler with collected objects kept in the samples, so the figures
 * are allocation volume (what the garbage collector has to deal with), not what stays live.
 * Allocation volume is far steadier between runs than throughput on a shared machine, so it is
 * the figure to compare when removing allocations. The simulator's own allocations (generating
 * the input before the run) are listed too, to be set aside.
 *
 *   npm run build && node dist/bench/allocations.js [--events 60000] [--brokers 127.0.0.1:9092] [--survivors]
 *
 * `--survivors` leaves out what died young (collected by a scavenge): what is left is what the
 * young generation had to copy or promote — the garbage collector's real work — plus whatever was
 * still young when the run ended.
 *
 * `--brokers` measures the Kafka path instead of the embedded log (what the Kafka client's
 * consume and produce calls allocate shows under their callers in the transport).
 */
import inspector from 'node:inspector';
import { parseArgs } from 'node:util';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children?: ProfileNode[];
}

const { values } = parseArgs({
  options: { events: { type: 'string', default: '60000' }, brokers: { type: 'string' }, survivors: { type: 'boolean', default: false } },
});
const events = Number(values.events);
/** Inclusive allocation is reported for agentrec's own frames (steps, state, serde, runtime, simulator). */
const REPORTED = /\/src\/(operators|state|serde|simulation|topology\/runtime|topology\/transport)\/[^/]+\.[jt]s$/;

const session = new inspector.Session();
session.connect();
const post = <T>(method: string, params?: object) =>
  new Promise<T>((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result as T))));

await post('HeapProfiler.enable');
await post('HeapProfiler.startSampling', {
  samplingInterval: 32_768,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: !values.survivors,
});
// step-times ends with process.exit: report from there, once its run is over.
const exit = process.exit.bind(process);
process.exit = ((code?: number) => {
  void post<{ profile: { head: ProfileNode } }>('HeapProfiler.stopSampling').then(({ profile }) => {
    report(profile.head);
    exit(code);
  });
}) as typeof process.exit;
process.argv.splice(
  2,
  process.argv.length,
  '--events',
  String(events),
  ...(values.brokers === undefined ? [] : ['--brokers', values.brokers]),
);
await import('./step-times.js');

function report(head: ProfileNode): void {
  const inclusive = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode, above: ReadonlySet<string>) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const frames = new Set(above);
    if (REPORTED.test(url)) frames.add(`${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`);
    total += node.selfSize;
    if (node.selfSize) for (const frame of frames) inclusive.set(frame, (inclusive.get(frame) ?? 0) + node.selfSize);
    for (const child of node.children ?? []) walk(child, frames);
  };
  walk(head, new Set());
  console.log(
    `allocated ${(total / 2 ** 20).toFixed(0)} MiB in all, ${Math.round(total / events).toLocaleString('en')} bytes per event (sampled every 32 KiB)`,
  );
  for (const [frame, bytes] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    console.log(
      `${Math.round(bytes / events)
        .toLocaleString('en')
        .padStart(7)} B/event  ${frame}`,
    );
  }
}
