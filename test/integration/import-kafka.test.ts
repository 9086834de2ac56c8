import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { importChatTranscripts } from '../../src/recommender/import/import-file.js';
import type { TrajectoryEvent } from '../../src/recommender/records.js';
import { avroSerde } from '../../src/serde/avro-serde.js';
import { createKafkaTransport } from '../../src/topology/transport/kafka-transport.js';
import { memorySink } from '../unit/recommender/import/memory-sink.js';
import { describeKafka, kafkaBrokers, uniqueName } from '../support/kafka.js';

const dir = mkdtempSync(join(tmpdir(), 'agentrec-import-kafka-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeKafka('agentrec import → Kafka', () => {
  it('produces every good line as Avro keyed by user, the same events a file import gives, and reports the bad line', async () => {
    const file = join(dir, 'chats.jsonl');
    const session = (id: string, user: string, tool: string) =>
      JSON.stringify({
        id,
        metadata: { user_id: user },
        reward: 1,
        messages: [
          { role: 'user', content: 'go' },
          { role: 'assistant', tool_calls: [{ id: 'c', function: { name: tool } }] },
          { role: 'tool', tool_call_id: 'c', content: 'Error: boom' },
        ],
      });
    writeFileSync(
      file,
      [session('s1', 'alice', 'search'), '{oops', session('s2', 'bob', 'run'), session('s3', 'alice', 'run')].join('\n') + '\n',
    );
    const topic = uniqueName('import');
    const cli = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli.ts',
        'import',
        file,
        '--user-path',
        'metadata.user_id',
        '--topic',
        topic,
        '--brokers',
        kafkaBrokers!,
        '--partitions',
        '2',
      ],
      {
        encoding: 'utf8',
        timeout: 90_000,
      },
    );
    expect(cli.stderr).toContain('chats.jsonl:2: not JSON');
    expect(cli.stderr).toMatch(
      /4 sessions read \(1 bad\), 18 events written to Kafka topic import-\w+; 3 tool calls, 3 tool errors, 3 rewards/,
    );
    expect(cli.status).toBe(0);

    const expected = memorySink();
    await importChatTranscripts(file, { userPath: 'metadata.user_id' }, expected);
    const kafka = createKafkaTransport({ brokers: kafkaBrokers! });
    try {
      const serde = avroSerde<TrajectoryEvent>('trajectory-event');
      const read: { key: string; partition: number; event: TrajectoryEvent }[] = [];
      for (const partition of [0, 1]) {
        for await (const chunk of kafka.readToEnd({ topic, partition })) {
          for (const r of chunk) read.push({ key: String(r.key), partition, event: serde.deserialize(r.value!) });
        }
      }
      expect(read.every((r) => r.key === r.event.userId)).toBe(true);
      // One user, one partition; within it, the import's order.
      expect(new Set(read.filter((r) => r.key === 'alice').map((r) => r.partition)).size).toBe(1);
      for (const user of ['alice', 'bob']) {
        expect(read.filter((r) => r.key === user).map((r) => r.event)).toEqual(expected.events.filter((e) => e.userId === user));
      }
      expect(read).toHaveLength(expected.events.length);
      expect(read.find((r) => r.event.kind === 'TOOL_RESULT')?.event.errorType).toBe('Error');
    } finally {
      await kafka.deleteTopics([topic]);
      await kafka.close();
    }
  });
});
