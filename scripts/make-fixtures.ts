/**
 * Writes the synthetic fixtures of `agentrec import` / `agentrec replay` (no real data): a chat
 * transcript file whose users have habitual tool sequences and whose tools sometimes fail, and a
 * ratings file with user and item biases plus a latent taste. Seeded: the same files every run.
 *
 *   npx tsx scripts/make-fixtures.ts [out-dir]     (default test/fixtures)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** mulberry32: tiny, seeded, good enough for fixtures. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOOLS: Record<string, string> = {
  read_file: 'Read a file from the workspace',
  write_file: 'Write a file in the workspace',
  run_tests: 'Run the test suite',
  git_commit: 'Commit staged changes',
  sql_query: 'Run a read-only SQL query',
  calculator: 'Evaluate an arithmetic expression',
  make_chart: 'Render a chart from a table',
  web_search: 'Search the web',
  fetch_url: 'Fetch a web page',
  calendar_lookup: 'Find free slots in a calendar',
  send_email: 'Send an email',
};

interface Persona {
  name: string;
  /** The habitual order of tool calls in a session. */
  habit: string[];
  tasks: string[];
}

const PERSONAS: Persona[] = [
  {
    name: 'coder',
    habit: ['read_file', 'write_file', 'run_tests', 'git_commit'],
    tasks: ['fix the failing test in', 'refactor the parser in', 'add logging to', 'rename the config option in'],
  },
  {
    name: 'analyst',
    habit: ['sql_query', 'calculator', 'make_chart'],
    tasks: ['weekly revenue by region from', 'churn rate last quarter in', 'top customers by spend in'],
  },
  {
    name: 'researcher',
    habit: ['web_search', 'fetch_url', 'web_search', 'fetch_url'],
    tasks: ['find recent papers about', 'compare the pricing of', 'summarise the release notes of'],
  },
  {
    name: 'planner',
    habit: ['calendar_lookup', 'send_email'],
    tasks: ['schedule a review of', 'set up a meeting about', 'invite the team to discuss'],
  },
];
const SUBJECTS = ['billing', 'search', 'auth', 'ingest', 'reports', 'mobile'];
const ERRORS = [
  () => JSON.stringify({ error: { type: 'RateLimit', message: 'too many requests' } }),
  () => 'Error: TimeoutError: the tool did not answer within 30 s',
  () => 'Error: file not found',
  () => JSON.stringify({ error: 'PermissionDenied: read-only workspace' }),
];

/** `sessions` chat sessions as JSONL (the fixture has 260; the replay benchmark asks for more). */
export function chatTranscripts(sessions = 260): string {
  const rnd = random(20260101);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rnd() * items.length)];
  const users = Array.from({ length: 40 }, (_, u) => ({
    id: `u${String(u).padStart(2, '0')}`,
    persona: PERSONAS[u % PERSONAS.length],
    habitual: u % 5 !== 4,
  }));
  const lines: string[] = [];
  let clock = Date.UTC(2026, 2, 2, 8);
  for (let s = 0; s < sessions; s++) {
    const user = pick(users);
    clock += Math.floor(5 + rnd() * 50) * 60_000;
    const start = clock;
    const subject = pick(SUBJECTS);
    const task = `${pick(user.persona.tasks)} ${subject}`;
    const messages: Record<string, unknown>[] = [
      { role: 'system', content: 'You are a helpful agent with tools.' },
      { role: 'user', content: `Please ${task}.` },
    ];
    const calls = 2 + Math.floor(rnd() * (user.persona.habit.length + 1));
    let step = 0;
    for (let c = 0; c < calls; c++) {
      // Habitual users follow their sequence (with some noise); the others pick tools at random.
      const habitual = user.habitual && rnd() < 0.85;
      const tool = habitual ? user.persona.habit[step % user.persona.habit.length] : pick(Object.keys(TOOLS));
      const id = `call_${s}_${c}`;
      messages.push({
        role: 'assistant',
        content: c === 0 ? `I will start with ${subject}.` : null,
        tool_calls: [{ id, type: 'function', function: { name: tool, arguments: JSON.stringify({ target: subject, step: c }) } }],
      });
      const failed = rnd() < 0.12;
      messages.push({ role: 'tool', tool_call_id: id, content: failed ? pick(ERRORS)() : `ok: ${tool} done for ${subject}` });
      // After an error the habit is to retry the same tool; otherwise move on.
      if (!failed) step++;
      if (rnd() < 0.15)
        messages.push({
          role: 'user',
          content: pick(['Also check the edge cases.', 'Make it shorter.', 'Use the staging data.', 'Thanks, continue.']),
        });
    }
    messages.push({ role: 'assistant', content: `Done: ${task}.` });
    // Message times on two thirds of the sessions; the rest are spaced one second apart from created_at on import.
    if (s % 3 !== 2) messages.forEach((m, i) => (m.timestamp = new Date(start + i * 7000).toISOString()));
    const session: Record<string, unknown> = {
      id: `s${String(s).padStart(4, '0')}`,
      created_at: new Date(start).toISOString(),
      metadata: { user_id: user.id, persona: user.persona.name },
      messages,
    };
    // Half of the sessions declare their tools (the persona's plus two others).
    if (s % 2 === 0) {
      const declared = [...new Set([...user.persona.habit, pick(Object.keys(TOOLS)), pick(Object.keys(TOOLS))])].sort();
      session.tools = declared.map((name) => ({ type: 'function', function: { name, description: TOOLS[name] } }));
    }
    if (rnd() < 0.8) session.reward = Number((user.habitual ? 0.5 + rnd() * 0.5 : rnd() * 0.7).toFixed(2));
    lines.push(JSON.stringify(session));
    clock += (messages.length + 1) * 7000;
  }
  return lines.join('\n') + '\n';
}

/** What a coding agent's loop does next, per task kind: weighted next tools after each tool ('end' ends the session). */
type Flow = Record<string, Record<string, number>>;

const LOOP_TASKS: { kind: string; asks: string[]; first: string; flow: Flow; afterError: Record<string, Record<string, number>> }[] = [
  {
    kind: 'debug',
    asks: ['The tests fail in', 'Fix the crash in', 'Why does the build break in'],
    first: 'Bash',
    flow: {
      Bash: { end: 3, TodoWrite: 1, Edit: 1 },
      Read: { Read: 4, Edit: 4, Grep: 2 },
      Grep: { Read: 7, Grep: 3 },
      Edit: { Bash: 6, Edit: 3, Read: 1 },
      TodoWrite: { end: 1 },
    },
    afterError: { Bash: { Read: 6, Grep: 3, Bash: 1 }, Edit: { Read: 8, Edit: 2 } },
  },
  {
    kind: 'explore',
    asks: ['Explain how this works:', 'Where is the retry logic of', 'Walk me through'],
    first: 'Grep',
    flow: {
      Grep: { Read: 7, Grep: 3 },
      Glob: { Read: 8, Glob: 2 },
      Read: { Read: 5, Grep: 3, end: 2 },
    },
    afterError: { Read: { Glob: 6, Grep: 4 } },
  },
  {
    kind: 'feature',
    asks: ['Add pagination to', 'Add a CSV export to', 'Support dark mode in'],
    first: 'TodoWrite',
    flow: {
      TodoWrite: { Grep: 5, Glob: 5 },
      Grep: { Read: 8, Grep: 2 },
      Glob: { Read: 8, Glob: 2 },
      Read: { Read: 3, Edit: 4, Write: 3 },
      Write: { Edit: 3, Bash: 5, Write: 2 },
      Edit: { Edit: 3, Bash: 6, Read: 1 },
      Bash: { Edit: 3, end: 5, TodoWrite: 2 },
    },
    afterError: { Bash: { Read: 5, Edit: 5 }, Edit: { Read: 8, Edit: 2 }, Write: { Read: 10 } },
  },
  {
    kind: 'docs',
    asks: ['Use the new client library in', 'Upgrade the SDK used by', 'Follow the migration guide for'],
    first: 'WebFetch',
    flow: {
      WebFetch: { WebFetch: 3, Read: 5, Grep: 2 },
      Read: { Edit: 6, Read: 2, WebFetch: 2 },
      Grep: { Read: 10 },
      Edit: { Bash: 5, Edit: 3, end: 2 },
      Bash: { end: 6, Edit: 4 },
    },
    afterError: { WebFetch: { WebFetch: 7, Read: 3 }, Bash: { Read: 4, Edit: 6 }, Edit: { Read: 10 } },
  },
];
const LOOP_TOOLS = ['Read', 'Grep', 'Glob', 'Edit', 'Write', 'Bash', 'TodoWrite', 'WebFetch'];
/** How often a call of each tool fails (a failing test run, an edit whose text is gone, a 404). */
const LOOP_FAILS: Record<string, number> = { Bash: 0.35, Edit: 0.1, Write: 0.05, WebFetch: 0.15, Read: 0.05 };
const LOOP_AREAS = ['the billing service', 'the auth module', 'the ingest worker', 'the report page', 'the mobile sync'];

/**
 * A coding agent's tool loops, as Anthropic-style content blocks (tool_use, then tool_result with
 * is_error): long runs of one tool, what follows depending on the task (the user's request), on
 * whether the last call failed, and on the user (some search with Glob instead of Grep, some never
 * plan with TodoWrite). Statistics unlike the chat fixture's on purpose: a held-out world for
 * checking that defaults chosen elsewhere carry over, never for choosing them.
 */
export function agentLoopTranscripts(sessions = 400): string {
  const rnd = random(20261207);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rnd() * items.length)];
  const weighted = (options: Record<string, number>) => {
    const entries = Object.entries(options);
    let r = rnd() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [name, w] of entries) if ((r -= w) < 0) return name;
    return entries[entries.length - 1][0];
  };
  const users = Array.from({ length: 30 }, (_, u) => ({
    id: `dev${String(u).padStart(2, '0')}`,
    globber: u % 3 === 0,
    planner: u % 4 !== 1,
    kinds: [LOOP_TASKS[u % 4], LOOP_TASKS[(u * 7 + 1) % 4]],
  }));
  const lines: string[] = [];
  let clock = Date.UTC(2026, 4, 4, 9);
  for (let s = 0; s < sessions; s++) {
    const user = pick(users);
    const task = rnd() < 0.8 ? pick(user.kinds) : pick(LOOP_TASKS);
    const ask = `${pick(task.asks)} ${pick(LOOP_AREAS)}.`;
    clock += Math.floor(3 + rnd() * 40) * 60_000;
    const messages: Record<string, unknown>[] = [{ role: 'user', content: ask }];
    // The user's habits bend the task's flow: a globber's Grep is a Glob, a non-planner skips TodoWrite.
    const habit = (tool: string) => (tool === 'Grep' && user.globber ? 'Glob' : tool === 'TodoWrite' && !user.planner ? 'Grep' : tool);
    let tool = habit(task.first);
    for (let c = 0; c < 40 && tool !== 'end'; c++) {
      const id = `toolu_${s}_${c}`;
      messages.push({ role: 'assistant', content: [{ type: 'tool_use', id, name: tool, input: { step: c } }] });
      const failed = rnd() < (LOOP_FAILS[tool] ?? 0);
      messages.push({
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: id, is_error: failed, content: failed ? `${tool} failed` : `${tool} ok` }],
      });
      const next = failed ? task.afterError[tool] : undefined;
      tool = habit(weighted(next ?? task.flow[tool] ?? { end: 1 }));
    }
    messages.push({ role: 'assistant', content: 'Done.' });
    lines.push(
      JSON.stringify({
        session_id: `loop-${String(s).padStart(4, '0')}`,
        user: user.id,
        created_at: new Date(clock).toISOString(),
        tools: LOOP_TOOLS.map((name) => ({ name })),
        messages,
      }),
    );
    clock += messages.length * 4000;
  }
  return lines.join('\n') + '\n';
}

export function ratings(): string {
  const rnd = random(424242);
  const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const users = 120;
  const items = 80;
  const userBias = Array.from({ length: users }, () => 0.6 * gauss());
  const itemBias = Array.from({ length: items }, () => 0.8 * gauss());
  const userTaste = Array.from({ length: users }, () => [gauss(), gauss()]);
  const itemTaste = Array.from({ length: items }, () => [gauss(), gauss()]);
  const rows = ['user_id,item_id,rating,timestamp'];
  let time = Date.UTC(2026, 0, 5) / 1000;
  for (let r = 0; r < 4000; r++) {
    const u = Math.floor(rnd() ** 1.5 * users);
    const i = Math.floor(rnd() ** 1.3 * items);
    const affinity = 0.5 * (userTaste[u][0] * itemTaste[i][0] + userTaste[u][1] * itemTaste[i][1]);
    const stars = Math.min(5, Math.max(1, Math.round(3.4 + userBias[u] + itemBias[i] + affinity + 0.5 * gauss())));
    time += Math.floor(30 + rnd() * 600);
    rows.push(`user-${u},item-${i},${stars},${time}`);
  }
  return rows.join('\n') + '\n';
}

// Written only when run as a script (the replay benchmark imports the generators).
if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? '')).href) {
  const out = process.argv[2] ?? 'test/fixtures';
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'chat-transcripts.jsonl'), chatTranscripts());
  writeFileSync(join(out, 'ratings.csv'), ratings());
  console.log(`wrote ${join(out, 'chat-transcripts.jsonl')} and ${join(out, 'ratings.csv')}`);
}
