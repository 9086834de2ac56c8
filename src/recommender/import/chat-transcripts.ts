import { ConfigError, InputLineError } from '../../errors.js';
import { trajectoryEvent, type Candidate, type EventKind, type Feedback, type TrajectoryEvent } from '../records.js';
import { compileJsonPath, parseJsonField, scalarString, type JsonPath } from './json-path.js';
import { SYNTHETIC_START_MS, parseTimestamp } from './timestamps.js';
import { isShareGptConversation, shareGptMessages } from './sharegpt-messages.js';
import { toolErrorDetector, type ToolErrorDetector, type ToolErrorOptions } from './tool-errors.js';

export interface ChatTranscriptOptions {
  /** JSON path of the user id in a session (default `user_id`); a session without one is a bad line. */
  userPath?: string;
  /** JSON path of the session id (default `id`); absent: `<file>:<line>`. */
  sessionPath?: string;
  /** JSON path of the session reward (default `reward`); absent: no reward feedback. */
  rewardPath?: string;
  /** JSON path of the session start time (default `created_at`). */
  timePath?: string;
  /** JSON path of a message's time, relative to the message (default `timestamp`). */
  messageTimePath?: string;
  /** JSON path of the declared tools (default `tools`). */
  toolsPath?: string;
  /** JSON path of the message list (default `messages`). */
  messagesPath?: string;
  /** How a reward becomes feedback: ACCEPT/REJECT around `rewardThreshold` (default), or a RATING of its value. */
  rewardSignal?: 'binary' | 'rating';
  /** Reward at or above this is ACCEPT (default 0.5). */
  rewardThreshold?: number;
  /** Characters of conversation text a tool-call REQUEST carries (the most recent ones; default 400). */
  contextChars?: number;
  /** Characters of a tool call's arguments or a tool result kept in `text` (default 500). */
  resultChars?: number;
  errors?: ToolErrorOptions;
}

interface ResolvedOptions {
  user: JsonPath;
  session: JsonPath;
  reward: JsonPath;
  time: JsonPath;
  messageTime: JsonPath;
  tools: JsonPath;
  messages: JsonPath;
  /** Whether --messages-path was given: if not, a session without `messages` may hold ShareGPT `conversations`. */
  messagesPathGiven: boolean;
  rewardSignal: 'binary' | 'rating';
  rewardThreshold: number;
  contextChars: number;
  resultChars: number;
  detectError: ToolErrorDetector;
}

/** Counts of what the mapping produced, for the import summary. */
export interface ChatImportStats {
  sessions: number;
  toolCalls: number;
  toolErrors: number;
  rewards: number;
  /** Sessions with a reward but no tool call to attach it to (the reward is dropped). */
  rewardsWithoutToolCall: number;
  /**
   * Tool results without a `tool_call_id` (legacy `function` messages, logs that drop ids),
   * matched to the session's oldest unanswered call of their `name`, else its oldest unanswered call.
   */
  resultsMatchedByOrder: number;
  /** The longest candidate list of a tool-call request (every tool seen so far, where a session declares none). */
  mostCandidates: number;
}

/** Roles a message may have: `developer` is newer APIs' name for system, `function` the legacy tool result. */
const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

/** The content blocks of Anthropic-style logs the importer reads (text parts are read by textOf). */
interface ContentBlock {
  type?: unknown;
  id?: unknown;
  name?: unknown;
  input?: unknown;
  tool_use_id?: unknown;
  content?: unknown;
  is_error?: unknown;
}

/** A tool call of the session, waiting for or given its result. */
interface SessionCall {
  readonly requestId: string;
  readonly tool: string;
  answered: boolean;
}

/**
 * Maps OpenAI-style chat sessions (`messages` with roles system/user/assistant/tool, assistant
 * `tool_calls`, tool messages answering a `tool_call_id`) to trajectory events, deterministically:
 * the same file gives the same events, ids and times. Older and other logs are read too:
 * `developer` messages as system ones, an assistant's legacy `function_call` as one tool call,
 * `function` messages (or tool messages without an id) as the result of the oldest unanswered call
 * of their `name`, else of the oldest unanswered call; and content blocks as Anthropic-style logs
 * write them — `tool_use` in assistant messages, `tool_result` (with `is_error`) in user ones;
 * and ShareGPT-style `conversations` of `{from, value}` entries (sharegpt-messages.ts), found
 * under `conversations` when a session has no `messages` and --messages-path is not given.
 *
 * - each assistant tool call → REQUEST (candidates: the session's declared tools, else every
 *   tool seen so far in the import; text: the most recent conversation text) → FEEDBACK CHOSEN
 *   (value 1, actionId = the tool called) → TOOL_CALL (tool, arguments as text);
 * - each tool message → TOOL_RESULT (tool, content as text, errorType when it is an error);
 * - user messages and assistant text → AGENT_RESPONSE with `attributes.role` 'user' or
 *   'assistant' (the schema has no user-message kind; EventKind cannot grow without breaking
 *   older readers, so the role travels as an attribute);
 * - a session reward → FEEDBACK on the session's last tool-call request.
 *
 * Times come from the message time path, else the session start + 1 s per message, else a
 * synthetic clock that starts at 2026-01-01 and runs a minute past the latest time seen. A session is one
 * input line: anything malformed in it throws an InputLineError naming file, line and field.
 */
export class ChatTranscriptMapper {
  readonly stats: ChatImportStats = {
    sessions: 0,
    toolCalls: 0,
    toolErrors: 0,
    rewards: 0,
    rewardsWithoutToolCall: 0,
    resultsMatchedByOrder: 0,
    mostCandidates: 0,
  };
  private readonly options: ResolvedOptions;
  /** Tools in the order the import first saw them: the candidates of sessions that declare none. */
  private readonly seenTools: string[] = [];
  private readonly seenToolSet = new Set<string>();
  private syntheticClock = SYNTHETIC_START_MS;

  constructor(options: ChatTranscriptOptions = {}) {
    const positive = (flag: string, value: number | undefined, fallback: number) => {
      const v = value ?? fallback;
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(flag, `must be a positive integer, got ${v}`);
      return v;
    };
    const threshold = options.rewardThreshold ?? 0.5;
    if (!Number.isFinite(threshold)) throw new ConfigError('--reward-threshold', `must be a number, got ${threshold}`);
    const rewardSignal = options.rewardSignal ?? 'binary';
    if (rewardSignal !== 'binary' && rewardSignal !== 'rating')
      throw new ConfigError('--reward-signal', `must be 'binary' or 'rating', got '${String(rewardSignal)}'`);
    this.options = {
      user: compileJsonPath(options.userPath ?? 'user_id', '--user-path'),
      session: compileJsonPath(options.sessionPath ?? 'id', '--session-path'),
      reward: compileJsonPath(options.rewardPath ?? 'reward', '--reward-path'),
      time: compileJsonPath(options.timePath ?? 'created_at', '--time-path'),
      messageTime: compileJsonPath(options.messageTimePath ?? 'timestamp', '--message-time-path'),
      tools: compileJsonPath(options.toolsPath ?? 'tools', '--tools-path'),
      messages: compileJsonPath(options.messagesPath ?? 'messages', '--messages-path'),
      messagesPathGiven: options.messagesPath !== undefined,
      rewardSignal,
      rewardThreshold: threshold,
      contextChars: positive('--context-chars', options.contextChars, 400),
      resultChars: positive('--result-chars', options.resultChars, 500),
      detectError: toolErrorDetector(options.errors),
    };
  }

  /** The events of one session (one JSON element starting at `line` of `file`). */
  map(session: unknown, file: string, line: number): TrajectoryEvent[] {
    const fail = (message: string, field?: string): never => {
      throw new InputLineError(file, line, field ? `${field}: ${message}` : message, { field });
    };
    if (session === null || typeof session !== 'object' || Array.isArray(session)) return fail('a session must be a JSON object');
    const o = this.options;
    let list = o.messages.get(session);
    let listPath = o.messages.source;
    const conversations = (session as Record<string, unknown>).conversations;
    if (list === undefined && !o.messagesPathGiven && Array.isArray(conversations)) [list, listPath] = [conversations, 'conversations'];
    if (!Array.isArray(list)) return fail('must be an array of chat messages; set --messages-path', o.messages.source);
    const messages = isShareGptConversation(list) ? shareGptMessages(list, listPath, fail) : list;
    const userId =
      scalarString(o.user.get(session)) ?? fail(`no user id (a string or number) at '${o.user.source}'; set --user-path`, o.user.source);
    const sessionId = scalarString(o.session.get(session)) ?? `${file}:${line}`;
    const declared = declaredTools(o.tools.get(session), o.tools.source, fail);
    const sessionStart = parseTimestamp(o.time.get(session));
    // Session-local state; the seen-tools list and the synthetic clock carry over (deterministic in file order).
    const events: TrajectoryEvent[] = [];
    const conversation: string[] = [];
    const calls = new Map<string, SessionCall>();
    const callOrder: SessionCall[] = [];
    let lastRequest: SessionCall | undefined;
    let time = sessionStart ?? this.syntheticClock;
    let firstUser = true;
    const push = (kind: EventKind, fields: Partial<TrajectoryEvent>) => {
      events.push(trajectoryEvent({ eventId: `${sessionId}:${events.length}`, kind, userId, sessionId, eventTime: time, ...fields }));
    };

    /** A tool call: REQUEST (the conversation so far), CHOSEN, TOOL_CALL; registered for its result. */
    const callTool = (tool: unknown, id: unknown, args: unknown, fallbackId: string, nameField: string) => {
      if (typeof tool !== 'string' || tool === '') return fail('must be a non-empty string', nameField);
      const callId = typeof id === 'string' && id ? id : fallbackId;
      const requestId = `${sessionId}:${callId}`;
      this.see(tool);
      const candidates = candidatesFor(declared, this.seenTools, tool);
      this.stats.mostCandidates = Math.max(this.stats.mostCandidates, candidates.length);
      const context = clipFromEnd(conversation.join('\n'), o.contextChars);
      push('REQUEST', { requestId, text: context || null, candidates });
      push('FEEDBACK', { requestId, feedback: { signal: 'CHOSEN', value: 1, actionId: tool } });
      push('TOOL_CALL', { requestId, tool, text: clip(typeof args === 'string' ? args : JSON.stringify(args ?? null), o.resultChars) });
      const entry: SessionCall = { requestId, tool, answered: false };
      calls.set(callId, entry);
      callOrder.push(entry);
      lastRequest = entry;
      this.stats.toolCalls++;
    };
    /** A tool result: by its call id, else (none given) the oldest unanswered call of `name`, else the oldest unanswered one. */
    const answer = (id: unknown, name: unknown, content: string, markedError: boolean, idField: string) => {
      const hasId = typeof id === 'string' && id !== '';
      let call = hasId ? calls.get(id) : undefined;
      if (!hasId) {
        const unanswered = callOrder.filter((c) => !c.answered);
        call = unanswered.find((c) => c.tool === name) ?? unanswered[0];
        if (call) this.stats.resultsMatchedByOrder++;
      }
      if (!call) {
        const why = hasId ? `${idField.split('.').at(-1)} ${JSON.stringify(id)}` : 'no call id, and every earlier call has its result';
        return fail(`answers no earlier tool call of this session (${why})`, idField);
      }
      call.answered = true;
      const errorType = o.detectError(content) ?? (markedError ? 'Error' : null);
      if (errorType) this.stats.toolErrors++;
      push('TOOL_RESULT', { requestId: call.requestId, tool: call.tool, errorType, text: clip(content, o.resultChars) });
    };

    messages.forEach((message, i) => {
      const at = `${listPath}[${i}]`;
      if (message === null || typeof message !== 'object') return fail('must be a message object', at);
      const m = message as Record<string, unknown>;
      const role = m.role;
      if (typeof role !== 'string' || !ROLES.has(role))
        return fail(`role must be one of ${[...ROLES].join(', ')}; got ${JSON.stringify(role)}`, `${at}.role`);
      // Message time, kept non-decreasing within the session so sorting by time keeps its order.
      const stamped = parseTimestamp(o.messageTime.get(m));
      const base = sessionStart ?? this.syntheticClock;
      time = Math.max(time, stamped ?? base + i * 1000);
      const content = textOf(m.content, `${at}.content`, fail);
      const blocks = Array.isArray(m.content) ? (m.content as unknown[]) : [];
      if (role === 'system' || role === 'developer') return;
      if (role === 'user') {
        // Content blocks of type tool_result (Anthropic-style logs) answer calls; the rest is the user's turn.
        blocks.forEach((block, b) => {
          const part = block as ContentBlock | null;
          if (part?.type !== 'tool_result') return;
          const field = `${at}.content[${b}]`;
          answer(
            part.tool_use_id,
            undefined,
            textOf(part.content, `${field}.content`, fail),
            part.is_error === true,
            `${field}.tool_use_id`,
          );
        });
        if (!content && blocks.length) return;
        conversation.push(content);
        push('AGENT_RESPONSE', { text: content, attributes: { role: 'user', turn: firstUser ? 'first' : 'follow-up' } });
        firstUser = false;
        return;
      }
      if (role === 'tool' || role === 'function') return answer(m.tool_call_id, m.name, content, false, `${at}.tool_call_id`);
      // assistant
      if (content) {
        conversation.push(content);
        push('AGENT_RESPONSE', { text: content, attributes: { role: 'assistant' } });
      }
      const toolCalls: unknown = m.tool_calls ?? [];
      if (!Array.isArray(toolCalls)) return fail('must be an array', `${at}.tool_calls`);
      toolCalls.forEach((raw, c) => {
        const call = (raw ?? {}) as { id?: unknown; function?: { name?: unknown; arguments?: unknown } };
        const field = `${at}.tool_calls[${c}]`;
        callTool(call.function?.name, call.id, call.function?.arguments, `call-${i}-${c}`, `${field}.function.name`);
      });
      // The legacy single call, answered by a `function` message.
      const legacy = m.function_call as { name?: unknown; arguments?: unknown } | null | undefined;
      if (legacy) callTool(legacy.name, undefined, legacy.arguments, `call-${i}-${toolCalls.length}`, `${at}.function_call.name`);
      // Content blocks of type tool_use (Anthropic-style logs).
      blocks.forEach((block, b) => {
        const part = block as ContentBlock | null;
        if (part?.type === 'tool_use') callTool(part.name, part.id, part.input, `call-${i}-b${b}`, `${at}.content[${b}].name`);
      });
    });

    const reward = rewardValue(o.reward.get(session), o.reward.source, fail);
    if (reward !== undefined) {
      if (!lastRequest) this.stats.rewardsWithoutToolCall++;
      else {
        const feedback: Feedback =
          o.rewardSignal === 'rating'
            ? { signal: 'RATING', value: reward, actionId: lastRequest.tool }
            : reward >= o.rewardThreshold
              ? { signal: 'ACCEPT', value: 1, actionId: lastRequest.tool }
              : { signal: 'REJECT', value: 0, actionId: lastRequest.tool };
        push('FEEDBACK', { requestId: lastRequest.requestId, feedback, attributes: { reward: String(reward) } });
        this.stats.rewards++;
      }
    }
    this.syntheticClock = Math.max(this.syntheticClock, time) + 60_000;
    this.stats.sessions++;
    return events;
  }

  private see(tool: string): void {
    if (this.seenToolSet.has(tool)) return;
    this.seenToolSet.add(tool);
    this.seenTools.push(tool);
  }
}

/** Declared tools: OpenAI `{type: 'function', function: {name, description}}` or plain `{name, description}`. */
function declaredTools(value: unknown, path: string, fail: (message: string, field?: string) => never): Candidate[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  // ShareGPT-style sets store the declarations as a JSON string.
  if (typeof value === 'string')
    return declaredTools(parseJsonField(value, path, 'an array of tool declarations, or a JSON string holding one', fail), path, fail);
  if (!Array.isArray(value)) return fail('must be an array of tool declarations', path);
  const tools: Candidate[] = [];
  const names = new Set<string>();
  value.forEach((raw, i) => {
    const entry = (raw ?? {}) as { name?: unknown; description?: unknown; function?: { name?: unknown; description?: unknown } };
    const spec = entry.function ?? entry;
    if (typeof spec.name !== 'string' || spec.name === '') return fail('a declared tool needs a non-empty name', `${path}[${i}]`);
    if (names.has(spec.name)) return;
    names.add(spec.name);
    tools.push({ actionId: spec.name, tool: spec.name, text: typeof spec.description === 'string' ? spec.description : null });
  });
  return tools.length ? tools : undefined;
}

/** The declared tools (plus the called one if it was not declared), else every tool seen so far. */
function candidatesFor(declared: Candidate[] | undefined, seen: string[], called: string): Candidate[] {
  if (declared) {
    return declared.some((c) => c.actionId === called) ? declared : [...declared, { actionId: called, tool: called, text: null }];
  }
  return seen.map((tool) => ({ actionId: tool, tool, text: null }));
}

/** Message content as text: a string, or the text parts of an array of content parts. */
function textOf(content: unknown, field: string, fail: (message: string, field?: string) => never): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        typeof part === 'string' ? part : typeof (part as { text?: unknown })?.text === 'string' ? (part as { text: string }).text : '',
      )
      .filter(Boolean)
      .join('\n');
  }
  return fail('must be a string, an array of content parts or null', field);
}

function rewardValue(value: unknown, path: string, fail: (message: string, field?: string) => never): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) return fail(`must be a finite number or a boolean, got ${JSON.stringify(value)}`, path);
  return n;
}

function clip(text: string, chars: number): string {
  return text.length > chars ? text.slice(0, chars) : text;
}

function clipFromEnd(text: string, chars: number): string {
  return text.length > chars ? text.slice(text.length - chars) : text;
}
