import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time per thread of this process, from /proc/self/task (Linux only; empty elsewhere),
 * grouped by thread name. The main thread is reported as "javascript"; librdkafka names its
 * threads "rdk:*" (brokers grouped as "rdk:broker") and RocksDB "rocksdb:*"; Node 20 names none
 * of its own, so V8's GC and compiler helpers and libuv's pool (RocksDB's calls, the Kafka
 * client's async calls) all add up under "node". Tells whether the JavaScript thread is the one
 * that limits the rate, which the process total cannot.
 */
export type ThreadCpu = Map<string, number>;

const CLOCK_TICKS_PER_SECOND = 100;

export function threadCpu(): ThreadCpu {
  const byName: ThreadCpu = new Map();
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return byName;
  }
  for (const tid of tasks) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    // "tid (name) state ..." — the name may hold spaces and parentheses: split at the last ')'.
    const close = stat.lastIndexOf(')');
    const name = tid === String(process.pid) ? 'javascript' : groupName(stat.slice(stat.indexOf('(') + 1, close));
    const fields = stat.slice(close + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime), counted from the state field at index 0 here.
    const seconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
    byName.set(name, (byName.get(name) ?? 0) + seconds);
  }
  return byName;
}

/** Thread names with a number in them (rdk:broker3, rdk:broker-1) grouped by what they do. */
function groupName(name: string): string {
  if (name.startsWith('rdk:broker')) return 'rdk:broker';
  return name;
}

/** CPU seconds per thread group between two readings, largest first. */
export function threadCpuSince(before: ThreadCpu): [string, number][] {
  const now = threadCpu();
  return [...now]
    .map(([name, seconds]): [string, number] => [name, seconds - (before.get(name) ?? 0)])
    .filter(([, seconds]) => seconds > 0)
    .sort((a, b) => b[1] - a[1]);
}
