import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, type InputLineError } from '../errors.js';
import type { EventSink } from '../recommender/import/event-sink.js';
import { eventFileFormat } from '../recommender/import/event-file-format.js';
import { fileSink } from '../recommender/import/file-sinks.js';
import { importChatTranscripts, importRatings, type ImportResult } from '../recommender/import/import-file.js';
import { transportSink } from '../recommender/import/transport-sink.js';
import { DEFAULT_MAX_CANDIDATES } from '../recommender/model/recommender-model.js';
import { createKafkaTransport } from '../topology/transport/kafka-transport.js';
import type { Transport } from '../topology/transport/types.js';

export const importUsage = `agentrec import <file> [options]    chat transcripts or a ratings file → trajectory events

  --kind chat|ratings          input kind; default from the extension (.json/.jsonl chat, .csv/.tsv ratings)
  --out <file>                 write events to a file: .jsonl (JSON per line) or .avro (Avro event stream)
  --out-format jsonl|avro      the output file's format when its extension does not say
  --topic <topic>              produce to a Kafka topic instead (Avro single-object, key = user id)
  --brokers <host:port,...>    Kafka bootstrap servers for --topic [AGENTREC_BROKERS]
  --partitions <n>             partitions when --topic creates the topic (default 4)
  --strict                     exit with status 1 when any line was bad (good lines are imported either way)
 chat transcripts (OpenAI-style messages, legacy function calls, tool_use/tool_result blocks or ShareGPT {from, value}; one session per JSON element):
  --user-path <path>           JSON path of the user id (default user_id), e.g. metadata.user_id
  --session-path <path>        session id (default id)         --reward-path <path>   reward (default reward)
  --time-path <path>           session start (default created_at)
  --message-time-path <path>   a message's time (default timestamp)   --tools-path <path>   declared tools (default tools)
  --messages-path <path>       the message list (default messages, else ShareGPT conversations)
  --reward-signal binary|rating  reward → ACCEPT/REJECT around --reward-threshold (default 0.5), or a RATING
  --context-chars <n>          conversation text carried by a tool-call REQUEST (default 400)
  --result-chars <n>           characters of tool arguments / results kept (default 500)
  --error-json-path <path>     JSON field of a tool result that marks an error (repeatable; default error)
  --error-pattern <regex>      regex over a tool result that marks an error, group 1 = type (repeatable;
                               default: text starting with "Error:")
 ratings (CSV/TSV: user, item, rating, timestamp):
  --user-col, --item-col, --rating-col, --time-col <name|index>   columns (default 0 1 2 3; --time-col none)
  --delimiter <text>           default tab for .tsv, else comma    --no-header   the first line is data
`;

const MAX_PRINTED_ERRORS = 20;

/** `agentrec import`: maps a file and writes the events to a file or a Kafka topic. */
export async function importCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kind: { type: 'string' },
      out: { type: 'string' },
      'out-format': { type: 'string' },
      topic: { type: 'string' },
      brokers: { type: 'string' },
      partitions: { type: 'string' },
      strict: { type: 'boolean' },
      'user-path': { type: 'string' },
      'session-path': { type: 'string' },
      'reward-path': { type: 'string' },
      'time-path': { type: 'string' },
      'message-time-path': { type: 'string' },
      'tools-path': { type: 'string' },
      'messages-path': { type: 'string' },
      'reward-signal': { type: 'string' },
      'reward-threshold': { type: 'string' },
      'context-chars': { type: 'string' },
      'result-chars': { type: 'string' },
      'error-json-path': { type: 'string', multiple: true },
      'error-pattern': { type: 'string', multiple: true },
      'user-col': { type: 'string' },
      'item-col': { type: 'string' },
      'rating-col': { type: 'string' },
      'time-col': { type: 'string' },
      delimiter: { type: 'string' },
      'no-header': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [file] = positionals;
  if (values.help || !file) {
    process.stdout.write(importUsage);
    return values.help ? 0 : 2;
  }
  const kind = inputKind(file, values.kind);
  const { sink, transport } = openSink(values);
  let printed = 0;
  const onBadLine = (error: InputLineError) => {
    if (printed++ < MAX_PRINTED_ERRORS) process.stderr.write(`agentrec import: ${error.message}\n`);
  };
  let lastReport = Date.now();
  const onProgress = (records: number, events: number) => {
    if (Date.now() - lastReport < 1000) return;
    lastReport = Date.now();
    process.stderr.write(`import: ${records.toLocaleString('en')} records read, ${events.toLocaleString('en')} events written\n`);
  };
  let result: ImportResult;
  let details = '';
  let mostCandidates = 0;
  try {
    if (kind === 'chat') {
      const chat = await importChatTranscripts(
        file,
        {
          userPath: values['user-path'],
          sessionPath: values['session-path'],
          rewardPath: values['reward-path'],
          timePath: values['time-path'],
          messageTimePath: values['message-time-path'],
          toolsPath: values['tools-path'],
          messagesPath: values['messages-path'],
          rewardSignal: values['reward-signal'] as 'binary' | 'rating' | undefined,
          rewardThreshold: optionalNumber('--reward-threshold', values['reward-threshold']),
          contextChars: optionalNumber('--context-chars', values['context-chars']),
          resultChars: optionalNumber('--result-chars', values['result-chars']),
          errors: { jsonPaths: values['error-json-path'], patterns: values['error-pattern'] },
        },
        sink,
        { onBadLine, onProgress },
      );
      result = chat;
      const s = chat.stats;
      mostCandidates = s.mostCandidates;
      details =
        `; ${s.toolCalls} tool calls, ${s.toolErrors} tool errors, ${s.rewards} rewards` +
        (s.rewardsWithoutToolCall ? ` (${s.rewardsWithoutToolCall} dropped: no tool call)` : '') +
        (s.resultsMatchedByOrder ? `, ${s.resultsMatchedByOrder} tool results without a tool_call_id matched by name and order` : '');
    } else {
      result = await importRatings(
        file,
        {
          delimiter: values.delimiter,
          header: !values['no-header'],
          userColumn: values['user-col'],
          itemColumn: values['item-col'],
          ratingColumn: values['rating-col'],
          timeColumn: values['time-col'],
        },
        sink,
        { onBadLine, onProgress },
      );
    }
  } finally {
    await sink.close();
    await transport?.close();
  }
  if (printed > MAX_PRINTED_ERRORS) process.stderr.write(`agentrec import: … and ${printed - MAX_PRINTED_ERRORS} more bad lines\n`);
  process.stderr.write(
    `agentrec import: ${result.records.toLocaleString('en')} ${kind === 'chat' ? 'sessions' : 'rows'} read (${result.badLines} bad), ` +
      `${result.events.toLocaleString('en')} events written to ${sink.description}${details}\n`,
  );
  if (mostCandidates > DEFAULT_MAX_CANDIDATES) {
    process.stderr.write(
      `agentrec import: requests offer up to ${mostCandidates} candidates; the agent-recommender scores the first ` +
        `${DEFAULT_MAX_CANDIDATES}: replay or run it with --set maxCandidates=${mostCandidates}\n`,
    );
  }
  return values.strict && result.badLines > 0 ? 1 : 0;
}

function inputKind(file: string, explicit: string | undefined): 'chat' | 'ratings' {
  if (explicit !== undefined) {
    if (explicit === 'chat' || explicit === 'ratings') return explicit;
    throw new ConfigError('--kind', `must be 'chat' or 'ratings', got '${explicit}'`);
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.json' || ext === '.jsonl' || ext === '.ndjson') return 'chat';
  if (ext === '.csv' || ext === '.tsv' || ext === '.dat') return 'ratings';
  throw new ConfigError('--kind', `cannot tell whether '${file}' holds chat transcripts or ratings; say --kind chat or --kind ratings`);
}

function openSink(values: { out?: string; 'out-format'?: string; topic?: string; brokers?: string; partitions?: string }): {
  sink: EventSink;
  transport?: Transport;
} {
  if ((values.out === undefined) === (values.topic === undefined))
    throw new ConfigError('--out', 'give exactly one of --out <file> and --topic <topic>');
  if (values.out !== undefined) return { sink: fileSink(values.out, eventFileFormat(values.out, values['out-format'], '--out-format')) };
  const brokers = values.brokers ?? process.env.AGENTREC_BROKERS;
  if (!brokers) {
    throw new ConfigError(
      '--brokers',
      'a --topic needs Kafka brokers (--brokers or AGENTREC_BROKERS); the embedded log lives inside one process, ' +
        'so write a file and `agentrec replay` it instead',
    );
  }
  const partitions = optionalNumber('--partitions', values.partitions) ?? 4;
  if (!Number.isInteger(partitions) || partitions < 1)
    throw new ConfigError('--partitions', `must be a positive integer, got ${partitions}`);
  const transport = createKafkaTransport({ brokers });
  return { sink: transportSink({ transport, topic: values.topic!, partitions }), transport };
}

function optionalNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new ConfigError(flag, `must be a number, got '${value}'`);
  return n;
}
