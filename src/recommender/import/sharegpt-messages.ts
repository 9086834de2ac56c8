/**
 * ShareGPT-style conversations — `[{from, value}]`, as fine-tuning sets of tool-using agents
 * store them — turned into OpenAI-style messages, one message per entry, so the chat importer
 * reads them like any other log and names the same entry in its errors. Two ways of writing tool
 * calls are read:
 * - `function_call` entries whose value is a JSON call `{name, arguments}` (or an array of them),
 *   answered by `observation` entries;
 * - `<tool_call>{"name": …, "arguments": …}</tool_call>` blocks inside an assistant's value,
 *   answered by `tool` entries whose value may be wrapped in `<tool_response>` tags.
 * Tool results carry no call id: the importer matches each to the oldest unanswered call of the
 * tool it names (a JSON result with a `name` field, whose `content` is then the result), else to
 * the oldest unanswered call.
 */

import { parseJsonField } from './json-path.js';

type Fail = (message: string, field?: string) => never;

const ROLE_OF: Readonly<Record<string, 'system' | 'user' | 'assistant' | 'function_call' | 'tool'>> = {
  system: 'system',
  human: 'user',
  user: 'user',
  gpt: 'assistant',
  assistant: 'assistant',
  model: 'assistant',
  function_call: 'function_call',
  observation: 'tool',
  tool: 'tool',
  function_response: 'tool',
};

const TOOL_CALL_BLOCK = /<tool_call>([\s\S]*?)<\/tool_call>/g;
const TOOL_RESPONSE = /^\s*<tool_response>([\s\S]*?)<\/tool_response>\s*$/;

/** True when a message list is ShareGPT-style: its first entry has `from` and `value` and no `role`. */
export function isShareGptConversation(entries: unknown[]): boolean {
  const first = entries[0] as Record<string, unknown> | null | undefined;
  return typeof first === 'object' && first !== null && 'from' in first && 'value' in first && !('role' in first);
}

/** The conversation as OpenAI-style messages, entry i becoming message i; `path` names the list in errors. */
export function shareGptMessages(entries: unknown[], path: string, fail: Fail): Record<string, unknown>[] {
  return entries.map((raw, i) => {
    const at = `${path}[${i}]`;
    if (raw === null || typeof raw !== 'object') return fail('must be a conversation entry {from, value}', at);
    const { from, value, ...rest } = raw as Record<string, unknown>;
    const role = typeof from === 'string' ? ROLE_OF[from] : undefined;
    if (!role) return fail(`from must be one of ${Object.keys(ROLE_OF).join(', ')}; got ${JSON.stringify(from)}`, `${at}.from`);
    if (typeof value !== 'string') return fail('must be a string', `${at}.value`);
    if (role === 'function_call') {
      const calls = parseJsonField(value, `${at}.value`, 'a JSON tool call {name, arguments}', fail);
      return { ...rest, role: 'assistant', content: null, tool_calls: toolCalls(calls, `${at}.value`, fail) };
    }
    if (role === 'assistant') {
      const calls = [...value.matchAll(TOOL_CALL_BLOCK)].map((block) =>
        parseJsonField(block[1], `${at}.value`, 'a <tool_call> block holding a JSON call {name, arguments}', fail),
      );
      const text = value.replace(TOOL_CALL_BLOCK, '').trim();
      return calls.length
        ? { ...rest, role, content: text || null, tool_calls: toolCalls(calls, `${at}.value`, fail) }
        : { ...rest, role, content: value };
    }
    if (role === 'tool') {
      const { name, content } = toolResult(TOOL_RESPONSE.exec(value)?.[1].trim() ?? value);
      return { ...rest, role, content, name };
    }
    return { ...rest, role, content: value };
  });
}

/** OpenAI-style tool calls from `{name, arguments}` objects (one or an array); arguments kept as JSON text. */
function toolCalls(value: unknown, field: string, fail: Fail): { function: { name: unknown; arguments: string } }[] {
  const calls = Array.isArray(value) ? value : [value];
  return calls.map((call, c) => {
    if (call === null || typeof call !== 'object') return fail('a tool call must be a JSON object {name, arguments}', field);
    const { name, arguments: args } = call as { name?: unknown; arguments?: unknown };
    if (typeof name !== 'string' || name === '') return fail(`tool call ${c} needs a non-empty name`, field);
    return { function: { name, arguments: typeof args === 'string' ? args : JSON.stringify(args ?? null) } };
  });
}

/**
 * A result's tool name and text: Hermes-style responses are `{"name": …, "content": …}`, whose
 * content is the result itself (so error detection sees it); anything else is the text as is.
 */
function toolResult(text: string): { name?: string; content: string } {
  if (!text.startsWith('{')) return { content: text };
  let parsed: { name?: unknown; content?: unknown };
  try {
    parsed = JSON.parse(text) as { name?: unknown; content?: unknown };
  } catch {
    return { content: text };
  }
  if (typeof parsed.name !== 'string') return { content: text };
  if (parsed.content === undefined) return { name: parsed.name, content: text };
  return { name: parsed.name, content: typeof parsed.content === 'string' ? parsed.content : JSON.stringify(parsed.content) };
}
