import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { InputLineError } from '../../../../src/errors.js';
import { ChatTranscriptMapper } from '../../../../src/recommender/import/chat-transcripts.js';
import { fileSink } from '../../../../src/recommender/import/file-sinks.js';
import { importChatTranscripts } from '../../../../src/recommender/import/import-file.js';
import { toolErrorDetector } from '../../../../src/recommender/import/tool-errors.js';
import type { TrajectoryEvent } from '../../../../src/recommender/records.js';
import { memorySink } from './memory-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'agentrec-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const T = Date.parse('2026-03-01T10:00:00Z');

/** Two sessions: one with declared tools, message times and a tool error; one with neither (synthetic times). */
const SESSIONS = [
  {
    id: 'a',
    metadata: { user_id: 'alice' },
    reward: 0.9,
    tools: [
      { type: 'function', function: { name: 'search', description: 'Search docs' } },
      { type: 'function', function: { name: 'run' } },
    ],
    messages: [
      { role: 'system', content: 'be brief', timestamp: '2026-03-01T10:00:00Z' },
      { role: 'user', content: 'find the api', timestamp: '2026-03-01T10:00:01Z' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'search', arguments: '{"q":"api"}' } }],
        timestamp: '2026-03-01T10:00:02Z',
      },
      { role: 'tool', tool_call_id: 'c1', content: '{"error": {"type": "RateLimit"}}', timestamp: '2026-03-01T10:00:03Z' },
      { role: 'user', content: 'try again', timestamp: '2026-03-01T10:00:04Z' },
    ],
  },
  {
    id: 'b',
    metadata: { user_id: 7 },
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'run it' }] },
      { role: 'assistant', content: 'ok', tool_calls: [{ id: 'x', function: { name: 'run', arguments: { n: 1 } } }] },
      { role: 'tool', tool_call_id: 'x', content: 'done' },
    ],
  },
];

function event(
  fields: Partial<TrajectoryEvent> & Pick<TrajectoryEvent, 'eventId' | 'kind' | 'userId' | 'sessionId' | 'eventTime'>,
): TrajectoryEvent {
  return {
    requestId: null,
    tool: null,
    domain: null,
    repo: null,
    errorType: null,
    agent: null,
    text: null,
    code: null,
    candidates: [],
    feedback: null,
    source: 'REAL',
    attributes: {},
    ...fields,
  };
}

describe('chat transcripts → trajectory events', () => {
  it('maps a two-session transcript to exactly these events', async () => {
    const file = write('two.json', JSON.stringify(SESSIONS, null, 2));
    const sink = memorySink();
    const result = await importChatTranscripts(file, { userPath: 'metadata.user_id' }, sink);
    expect(result).toMatchObject({
      records: 2,
      badLines: 0,
      stats: { sessions: 2, toolCalls: 2, toolErrors: 1, rewards: 1, rewardsWithoutToolCall: 0, mostCandidates: 2 },
    });
    const a = { userId: 'alice', sessionId: 'a' };
    const b = { userId: '7', sessionId: 'b' };
    // Session b has no times: the synthetic clock runs a minute past the latest time seen (a's last message).
    const synthetic = T + 4000 + 60_000;
    expect(sink.events).toEqual([
      event({
        ...a,
        eventId: 'a:0',
        kind: 'AGENT_RESPONSE',
        eventTime: T + 1000,
        text: 'find the api',
        attributes: { role: 'user', turn: 'first' },
      }),
      event({
        ...a,
        eventId: 'a:1',
        kind: 'REQUEST',
        eventTime: T + 2000,
        requestId: 'a:c1',
        text: 'find the api',
        candidates: [
          { actionId: 'search', tool: 'search', text: 'Search docs' },
          { actionId: 'run', tool: 'run', text: null },
        ],
      }),
      event({
        ...a,
        eventId: 'a:2',
        kind: 'FEEDBACK',
        eventTime: T + 2000,
        requestId: 'a:c1',
        feedback: { signal: 'CHOSEN', value: 1, actionId: 'search' },
      }),
      event({ ...a, eventId: 'a:3', kind: 'TOOL_CALL', eventTime: T + 2000, requestId: 'a:c1', tool: 'search', text: '{"q":"api"}' }),
      event({
        ...a,
        eventId: 'a:4',
        kind: 'TOOL_RESULT',
        eventTime: T + 3000,
        requestId: 'a:c1',
        tool: 'search',
        errorType: 'RateLimit',
        text: '{"error": {"type": "RateLimit"}}',
      }),
      event({
        ...a,
        eventId: 'a:5',
        kind: 'AGENT_RESPONSE',
        eventTime: T + 4000,
        text: 'try again',
        attributes: { role: 'user', turn: 'follow-up' },
      }),
      event({
        ...a,
        eventId: 'a:6',
        kind: 'FEEDBACK',
        eventTime: T + 4000,
        requestId: 'a:c1',
        feedback: { signal: 'ACCEPT', value: 1, actionId: 'search' },
        attributes: { reward: '0.9' },
      }),
      // One second per message; no declared tools: every tool seen so far.
      event({
        ...b,
        eventId: 'b:0',
        kind: 'AGENT_RESPONSE',
        eventTime: synthetic,
        text: 'run it',
        attributes: { role: 'user', turn: 'first' },
      }),
      event({ ...b, eventId: 'b:1', kind: 'AGENT_RESPONSE', eventTime: synthetic + 1000, text: 'ok', attributes: { role: 'assistant' } }),
      event({
        ...b,
        eventId: 'b:2',
        kind: 'REQUEST',
        eventTime: synthetic + 1000,
        requestId: 'b:x',
        text: 'run it\nok',
        candidates: [
          { actionId: 'search', tool: 'search', text: null },
          { actionId: 'run', tool: 'run', text: null },
        ],
      }),
      event({
        ...b,
        eventId: 'b:3',
        kind: 'FEEDBACK',
        eventTime: synthetic + 1000,
        requestId: 'b:x',
        feedback: { signal: 'CHOSEN', value: 1, actionId: 'run' },
      }),
      event({ ...b, eventId: 'b:4', kind: 'TOOL_CALL', eventTime: synthetic + 1000, requestId: 'b:x', tool: 'run', text: '{"n":1}' }),
      event({ ...b, eventId: 'b:5', kind: 'TOOL_RESULT', eventTime: synthetic + 2000, requestId: 'b:x', tool: 'run', text: 'done' }),
    ]);
  });

  it('is deterministic: the same file twice gives the same bytes', async () => {
    const input = write('again.jsonl', SESSIONS.map((s) => JSON.stringify(s)).join('\n'));
    const outputs = [join(dir, 'one.jsonl'), join(dir, 'two.jsonl')];
    for (const out of outputs) {
      const sink = fileSink(out, 'jsonl');
      await importChatTranscripts(input, { userPath: 'metadata.user_id' }, sink);
      await sink.close();
    }
    expect(readFileSync(outputs[0], 'utf8')).toBe(readFileSync(outputs[1], 'utf8'));
    expect(readFileSync(outputs[0], 'utf8').split('\n').filter(Boolean)).toHaveLength(13);
  });

  it('keeps the good lines of a file with bad ones, naming file and line of each bad one', async () => {
    const good = (id: string) =>
      JSON.stringify({ id, user_id: 'u', messages: [{ role: 'assistant', tool_calls: [{ id: 'c', function: { name: 'search' } }] }] });
    const file = write(
      'mixed.jsonl',
      [
        good('s1'),
        '{"id": "broken", ',
        '',
        JSON.stringify({ id: 's3', messages: [] }),
        JSON.stringify({ id: 's4', user_id: 'u', messages: [{ role: 'robot', content: 'hi' }] }),
        JSON.stringify({ id: 's5', user_id: 'u', messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] }),
        good('s7'),
      ].join('\n'),
    );
    const errors: InputLineError[] = [];
    const sink = memorySink();
    const result = await importChatTranscripts(file, {}, sink, { onBadLine: (e) => errors.push(e) });
    expect(result).toMatchObject({ records: 6, badLines: 4 });
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^\[INPUT_INVALID\] .*mixed\.jsonl:2: not JSON/),
      expect.stringContaining("mixed.jsonl:4: user_id: no user id (a string or number) at 'user_id'; set --user-path"),
      expect.stringContaining(
        'mixed.jsonl:5: messages[0].role: role must be one of system, developer, user, assistant, tool, function; got "robot"',
      ),
      expect.stringContaining(
        'mixed.jsonl:6: messages[0].tool_call_id: answers no earlier tool call of this session (tool_call_id "nope")',
      ),
    ]);
    expect(errors.map((e) => [e.file, e.line, e.code])).toEqual([
      ['mixed.jsonl', 2, 'INPUT_INVALID'],
      ['mixed.jsonl', 4, 'INPUT_INVALID'],
      ['mixed.jsonl', 5, 'INPUT_INVALID'],
      ['mixed.jsonl', 6, 'INPUT_INVALID'],
    ]);
    expect([...new Set(sink.events.map((e) => e.sessionId))]).toEqual(['s1', 's7']);
  });

  it('names the line where a bad element of a JSON array starts', async () => {
    const file = write(
      'array.json',
      [
        '[',
        '  {"id": "a", "user_id": "u", "messages": []},',
        '  {"id": "b", "messages": []},',
        '  {"id": "c", "user_id": "u", "messages": []}',
        ']',
      ].join('\n'),
    );
    const errors: InputLineError[] = [];
    const result = await importChatTranscripts(file, {}, memorySink(), { onBadLine: (e) => errors.push(e) });
    expect(result).toMatchObject({ records: 3, badLines: 1 });
    expect(errors[0].line).toBe(3);
  });

  it('reads legacy logs: developer messages, function_call, function results and results without ids', () => {
    const mapper = new ChatTranscriptMapper({ messagesPath: 'conversation.turns' });
    const legacy = {
      user_id: 'u',
      conversation: {
        turns: [
          { role: 'developer', content: 'you are terse' },
          { role: 'user', content: 'read then grep' },
          { role: 'assistant', content: null, function_call: { name: 'read', arguments: '{"path":"a"}' } },
          { role: 'function', name: 'read', content: 'Error: no such file' },
          {
            role: 'assistant',
            tool_calls: [{ function: { name: 'grep', arguments: '{}' } }, { function: { name: 'read', arguments: '{}' } }],
          },
          // No ids anywhere: the named one answers its call, the unnamed one the oldest still open.
          { role: 'tool', name: 'read', content: 'text' },
          { role: 'tool', content: '3 matches' },
        ],
      },
    };
    const events = mapper.map(legacy, 'old.jsonl', 1);
    const results = events.filter((e) => e.kind === 'TOOL_RESULT').map((e) => [e.requestId, e.tool, e.errorType]);
    const chosen = events.filter((e) => e.kind === 'FEEDBACK').map((e) => [e.requestId, e.feedback?.actionId]);
    expect(chosen).toEqual([
      ['old.jsonl:1:call-2-0', 'read'],
      ['old.jsonl:1:call-4-0', 'grep'],
      ['old.jsonl:1:call-4-1', 'read'],
    ]);
    expect(results).toEqual([
      ['old.jsonl:1:call-2-0', 'read', 'Error'],
      ['old.jsonl:1:call-4-1', 'read', null],
      ['old.jsonl:1:call-4-0', 'grep', null],
    ]);
    expect(events.some((e) => e.text === 'you are terse')).toBe(false);
    expect(mapper.stats).toMatchObject({ toolCalls: 3, toolErrors: 1, resultsMatchedByOrder: 3 });
    // A result with nothing left to answer, and a missing message list, are still bad lines.
    const extra = { user_id: 'u', messages: [...legacy.conversation.turns, { role: 'function', name: 'read', content: 'x' }] };
    expect(() => new ChatTranscriptMapper().map(extra, 'old.jsonl', 2)).toThrow(
      /old\.jsonl:2: messages\[7\]\.tool_call_id: answers no earlier tool call .*every earlier call has its result/,
    );
    expect(() => new ChatTranscriptMapper().map(legacy, 'old.jsonl', 3)).toThrow(/old\.jsonl:3: messages: .*set --messages-path/);
  });

  it('reads Anthropic-style content blocks: tool_use calls, tool_result answers with is_error', () => {
    const mapper = new ChatTranscriptMapper();
    const session = {
      user_id: 'u',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'list files' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'looking' },
            { type: 'tool_use', id: 'tu1', name: 'ls', input: { path: '.' } },
          ],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'tu1', content: [{ type: 'text', text: 'denied' }], is_error: true }],
        },
        { role: 'user', content: 'thanks' },
      ],
    };
    const events = mapper.map(session, 'blocks.jsonl', 1);
    expect(events.map((e) => [e.kind, e.requestId, e.tool, e.errorType, e.text])).toEqual([
      ['AGENT_RESPONSE', null, null, null, 'list files'],
      ['AGENT_RESPONSE', null, null, null, 'looking'],
      ['REQUEST', 'blocks.jsonl:1:tu1', null, null, 'list files\nlooking'],
      ['FEEDBACK', 'blocks.jsonl:1:tu1', null, null, null],
      ['TOOL_CALL', 'blocks.jsonl:1:tu1', 'ls', null, '{"path":"."}'],
      ['TOOL_RESULT', 'blocks.jsonl:1:tu1', 'ls', 'Error', 'denied'],
      ['AGENT_RESPONSE', null, null, null, 'thanks'],
    ]);
    // The message of tool results alone is no user turn: the follow-up is still the second one.
    expect(events.filter((e) => e.attributes.role === 'user').map((e) => e.attributes.turn)).toEqual(['first', 'follow-up']);
    const unknown = { user_id: 'u', messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'zz', content: 'x' }] }] };
    expect(() => mapper.map(unknown, 'blocks.jsonl', 2)).toThrow(
      /blocks\.jsonl:2: messages\[0\]\.content\[0\]\.tool_use_id: answers no earlier tool call of this session \(tool_use_id "zz"\)/,
    );
  });

  it('imports the fixture alike from tool_calls, legacy function calls and Anthropic-style content blocks', () => {
    type Message = { role: string; content: unknown; timestamp?: string; tool_calls?: Call[]; tool_call_id?: string };
    type Call = { id: string; function: { name: string; arguments: string } };
    const sessions = readFileSync(new URL('../../../fixtures/chat-transcripts.jsonl', import.meta.url), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { messages: Message[] });
    const rewrite = (convert: (m: Message, toolOf: Map<string, string>) => unknown) =>
      sessions.map((session) => {
        const toolOf = new Map<string, string>();
        for (const m of session.messages) for (const c of m.tool_calls ?? []) toolOf.set(c.id, c.function.name);
        return { ...session, messages: session.messages.map((m) => convert(m, toolOf)) };
      });
    // The fixture's assistant messages call one tool each, so the legacy form loses nothing but the ids.
    const legacy = rewrite(({ tool_calls, tool_call_id, ...m }, toolOf) =>
      tool_calls?.length
        ? { ...m, function_call: tool_calls[0].function }
        : m.role === 'tool'
          ? { ...m, role: 'function', name: toolOf.get(tool_call_id!) }
          : m,
    );
    const blocks = rewrite(({ tool_calls, tool_call_id, ...m }) =>
      tool_calls?.length
        ? {
            ...m,
            content: [
              ...(typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : []),
              ...tool_calls.map((c) => ({
                type: 'tool_use',
                id: c.id,
                name: c.function.name,
                input: JSON.parse(c.function.arguments) as unknown,
              })),
            ],
          }
        : m.role === 'tool'
          ? { ...m, role: 'user', content: [{ type: 'tool_result', tool_use_id: tool_call_id, content: m.content }] }
          : m,
    );
    // Request ids follow the call ids, which the legacy form has none of: compare them by first appearance.
    const imported = (input: unknown[]) => {
      const mapper = new ChatTranscriptMapper({ userPath: 'metadata.user_id' });
      const events = input.flatMap((session, i) => mapper.map(session, 'fixture.jsonl', i + 1));
      const ordinal = new Map<string, number>();
      return events.map((e) => ({
        ...e,
        requestId: e.requestId === null ? null : (ordinal.get(e.requestId) ?? ordinal.set(e.requestId, ordinal.size).size - 1),
      }));
    };
    const original = imported(sessions);
    expect(original.filter((e) => e.kind === 'TOOL_RESULT').length).toBeGreaterThan(900);
    expect(original.some((e) => e.errorType !== null)).toBe(true);
    expect(imported(legacy)).toEqual(original);
    expect(imported(blocks)).toEqual(original);

    // ShareGPT, Hermes-style: calls as <tool_call> blocks in the assistant's value, results in <tool_response>.
    const hermes = sessions.map(({ messages, ...session }) => ({
      ...session,
      conversations: messages.map(({ role, content, tool_calls, tool_call_id: _id, ...m }) => {
        const from = { system: 'system', user: 'human', assistant: 'gpt', tool: 'tool' }[role]!;
        const blocks = (tool_calls ?? []).map(
          (c) =>
            `<tool_call>\n${JSON.stringify({ name: c.function.name, arguments: JSON.parse(c.function.arguments) as unknown })}\n</tool_call>`,
        );
        const value =
          role === 'tool' ? `<tool_response>\n${String(content)}\n</tool_response>` : [content ?? '', ...blocks].filter(Boolean).join('\n');
        return { ...m, from, value };
      }),
    }));
    expect(imported(hermes)).toEqual(original);
    // ShareGPT, LLaMA-Factory-style: function_call and observation entries, tools as a JSON string.
    // An assistant message with text and a call becomes two entries, which moves the synthetic
    // times of the messages without one: compare all but the times.
    const factory = sessions.map(({ messages, ...session }) => ({
      ...session,
      tools: JSON.stringify((session as { tools?: unknown }).tools),
      conversations: messages.flatMap(({ role, content, tool_calls, ...m }) => {
        const at = m.timestamp ? { timestamp: m.timestamp } : {};
        if (role === 'tool') return [{ ...at, from: 'observation', value: String(content) }];
        if (!tool_calls?.length)
          return [{ ...at, from: role === 'assistant' ? 'gpt' : role === 'user' ? 'human' : role, value: String(content) }];
        const call = {
          ...at,
          from: 'function_call',
          value: JSON.stringify(tool_calls.map((c) => ({ name: c.function.name, arguments: c.function.arguments }))),
        };
        return content ? [{ ...at, from: 'gpt', value: String(content) }, call] : [call];
      }),
    }));
    const untimed = (events: ReturnType<typeof imported>) => events.map(({ eventTime: _time, ...e }) => e);
    expect(untimed(imported(factory))).toEqual(untimed(original));
  });

  it('names the ShareGPT entry that is wrong: an unknown sender, a call that is not JSON', () => {
    const mapper = new ChatTranscriptMapper();
    const session = (conversations: unknown[]) => ({ user_id: 'u', conversations });
    expect(() => mapper.map(session([{ from: 'narrator', value: 'hi' }]), 'sg.jsonl', 4)).toThrow(
      /sg\.jsonl:4: conversations\[0\]\.from: from must be one of system, human/,
    );
    expect(() =>
      mapper.map(
        session([
          { from: 'human', value: 'go' },
          { from: 'function_call', value: '{name: ls}' },
        ]),
        'sg.jsonl',
        5,
      ),
    ).toThrow(/sg\.jsonl:5: conversations\[1\]\.value: must be a JSON tool call \{name, arguments\}/);
    expect(() => mapper.map(session([{ from: 'gpt', value: '<tool_call>{"arguments":{}}</tool_call>' }]), 'sg.jsonl', 6)).toThrow(
      /sg\.jsonl:6: conversations\[0\]\.value: tool call 0 needs a non-empty name/,
    );
    // A result naming its tool answers that tool's call, not the oldest one.
    const events = mapper.map(
      session([
        { from: 'gpt', value: '<tool_call>{"name":"a","arguments":{}}</tool_call><tool_call>{"name":"b","arguments":{}}</tool_call>' },
        { from: 'tool', value: '<tool_response>{"name":"b","content":"Error: denied"}</tool_response>' },
        { from: 'tool', value: '<tool_response>{"name":"a","content":"fine"}</tool_response>' },
      ]),
      'sg.jsonl',
      7,
    );
    expect(events.filter((e) => e.kind === 'TOOL_RESULT').map((e) => [e.tool, e.errorType, e.text])).toEqual([
      ['b', 'Error', 'Error: denied'],
      ['a', null, 'fine'],
    ]);
  });

  it('turns a session reward into a RATING when asked, and refuses bad options naming the flag', () => {
    const mapper = new ChatTranscriptMapper({ rewardSignal: 'rating' });
    const events = mapper.map(
      { user_id: 'u', reward: '4', messages: [{ role: 'assistant', tool_calls: [{ id: 'c', function: { name: 't' } }] }] },
      'f.jsonl',
      1,
    );
    expect(events.at(-1)?.feedback).toEqual({ signal: 'RATING', value: 4, actionId: 't' });
    expect(() => new ChatTranscriptMapper({ userPath: 'a..b' })).toThrow(/--user-path: 'a\.\.b' is not a JSON path/);
    expect(() => new ChatTranscriptMapper({ contextChars: 0 })).toThrow(/--context-chars: must be a positive integer/);
    expect(() => new ChatTranscriptMapper({ errors: { patterns: ['('] } })).toThrow(/--error-pattern: '\(' is not a regular expression/);
  });
});

describe('tool error detection', () => {
  it('finds JSON error fields and "Error:" prefixes by default, with a short type', () => {
    const detect = toolErrorDetector();
    expect(detect('{"error": {"type": "RateLimit", "message": "slow down"}}')).toBe('RateLimit');
    expect(detect('{"error": {"code": 404}}')).toBe('404');
    expect(detect('{"error": "PermissionDenied: read-only"}')).toBe('PermissionDenied');
    expect(detect('{"error": "something broke"}')).toBe('Error');
    expect(detect('{"error": null, "result": 3}')).toBeNull();
    expect(detect('Error: TimeoutError: no answer')).toBe('TimeoutError');
    expect(detect('error: file not found')).toBe('Error');
    expect(detect('all good, no Error: here')).toBeNull();
    expect(detect('{"result": "Error: in a field"}')).toBeNull();
  });

  it('takes configured JSON paths and patterns instead', () => {
    const detect = toolErrorDetector({ jsonPaths: ['status.failure'], patterns: ['^FAILED \\((\\w+)\\)'] });
    expect(detect('{"status": {"failure": {"name": "Crash"}}}')).toBe('Crash');
    expect(detect('FAILED (OOM) at step 3')).toBe('OOM');
    expect(detect('{"error": "ignored now"}')).toBeNull();
    expect(detect('Error: not a pattern any more')).toBeNull();
  });
});
