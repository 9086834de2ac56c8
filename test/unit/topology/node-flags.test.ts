import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type Malloc,
  NODE_FLAGS,
  NO_PRETENURING_FLAG,
  YOUNG_GENERATION_FLAG,
  mallocFromMaps,
  pretenuringOff,
  tuningHint,
  youngGenerationSized,
} from '../../../src/topology/runtime/node-flags.js';

const repoFile = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
const repoPath = (path: string) => new URL(`../../../${path}`, import.meta.url).pathname;

/** What a node started through scripts/node.sh reports: its options and its malloc. */
function startedByScript(env: NodeJS.ProcessEnv): { execArgv: string[]; malloc: string } {
  const probe = `const m=require('fs').readFileSync('/proc/self/maps','utf8');console.log(JSON.stringify({execArgv:process.execArgv.filter(a=>a.startsWith('--max')||a.startsWith('--no-allocation')||a.startsWith('--heap')||a.startsWith('--stack')),malloc:m.includes('libjemalloc')?'jemalloc':'system'}))`;
  return JSON.parse(
    execFileSync('sh', [repoPath('scripts/node.sh'), '-e', probe], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...env } }),
  ) as { execArgv: string[]; malloc: string };
}

const jemallocInstalled = (() => {
  try {
    return execFileSync('sh', ['-c', '$(command -v ldconfig || echo /sbin/ldconfig) -p'], { encoding: 'utf8' }).includes(
      'libjemalloc.so.2 ',
    );
  } catch {
    return false;
  }
})();

describe('process tuning', () => {
  it('sees the young-generation flag on the command line or in NODE_OPTIONS, in either spelling', () => {
    expect(youngGenerationSized([], '')).toBe(false);
    expect(youngGenerationSized(['--max-old-space-size=4096', '--enable-source-maps'], '--max-old-space-size=512')).toBe(false);
    expect(youngGenerationSized(['--max-semi-space-size=64'], '')).toBe(true);
    expect(youngGenerationSized(['--max_semi_space_size=32'], '')).toBe(true);
    expect(youngGenerationSized([], '--enable-source-maps  --max-semi-space-size=256')).toBe(true);
  });

  it('sees pretenuring turned off on the command line or in NODE_OPTIONS', () => {
    expect(pretenuringOff([], '')).toBe(false);
    expect(pretenuringOff(['--allocation-site-pretenuring'], '')).toBe(false);
    expect(pretenuringOff([NO_PRETENURING_FLAG], '')).toBe(true);
    expect(pretenuringOff([], `--max-semi-space-size=128 --no_allocation_site_pretenuring`)).toBe(true);
  });

  it('names the malloc from the memory map', () => {
    expect(mallocFromMaps('7f00-7f01 r-xp 0 08:01 1 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n')).toBe('jemalloc');
    expect(mallocFromMaps('7f00-7f01 r-xp 0 08:01 1 /usr/lib/x86_64-linux-gnu/libc.so.6\n')).toBe('system');
    expect(mallocFromMaps(undefined)).toBeUndefined();
  });

  it('hints at what is missing, and at nothing when all is there', () => {
    const hint = (execArgv: readonly string[], malloc: Malloc | undefined) => tuningHint({ execArgv, nodeOptions: '', malloc });
    expect(hint([], 'system')).toMatch(/--max-semi-space-size=128.*--no-allocation-site-pretenuring.*jemalloc/);
    expect(hint([YOUNG_GENERATION_FLAG], 'system')).not.toContain(YOUNG_GENERATION_FLAG);
    expect(hint([YOUNG_GENERATION_FLAG], 'jemalloc')).toContain(NO_PRETENURING_FLAG);
    expect(hint([], 'jemalloc')).not.toContain('jemalloc');
    expect(hint(NODE_FLAGS, 'jemalloc')).toBeUndefined();
    // No memory map to read (not Linux): nothing to say about malloc.
    expect(hint(NODE_FLAGS, undefined)).toBeUndefined();
  });

  it('is what the CLI shebang and npm start pass, and node accepts the flags', () => {
    const shebang = repoFile('src/cli.ts').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
    expect((JSON.parse(repoFile('package.json')) as { scripts: Record<string, string> }).scripts.start).toMatch(/^sh scripts\/node\.sh /);
  });

  it('scripts/node.sh starts node with the flags, on jemalloc where installed unless AGENTREC_MALLOC=system', () => {
    const started = startedByScript({});
    expect(started.execArgv).toEqual(NODE_FLAGS);
    // AGENTREC_SEMI_SPACE_MB sizes the young generation instead of the default 128 MiB.
    expect(startedByScript({ AGENTREC_SEMI_SPACE_MB: '32' }).execArgv).toEqual(['--max-semi-space-size=32', ...NODE_FLAGS.slice(1)]);
    // AGENTREC_NODE_FLAGS adds flags NODE_OPTIONS refuses, each its own argument.
    expect(startedByScript({ AGENTREC_NODE_FLAGS: '--heap-growing-percent=30 --stack-size=2000' }).execArgv).toEqual([
      ...NODE_FLAGS,
      '--heap-growing-percent=30',
      '--stack-size=2000',
    ]);
    expect(started.malloc).toBe(jemallocInstalled ? 'jemalloc' : 'system');
    expect(startedByScript({ AGENTREC_MALLOC: 'system' }).malloc).toBe('system');
  });
});
