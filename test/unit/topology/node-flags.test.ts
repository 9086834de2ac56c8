import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { YOUNG_GENERATION_FLAG, youngGenerationHint, youngGenerationSized } from '../../../src/topology/runtime/node-flags.js';

const repoFile = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

describe('the young-generation flag', () => {
  it('is seen on the command line or in NODE_OPTIONS, in either spelling', () => {
    expect(youngGenerationSized([], '')).toBe(false);
    expect(youngGenerationSized(['--max-old-space-size=4096', '--enable-source-maps'], '--max-old-space-size=512')).toBe(false);
    expect(youngGenerationSized(['--max-semi-space-size=64'], '')).toBe(true);
    expect(youngGenerationSized(['--max_semi_space_size=32'], '')).toBe(true);
    expect(youngGenerationSized([], '--enable-source-maps  --max-semi-space-size=256')).toBe(true);
  });

  it('makes the CLI print a hint naming the flag only when it is missing', () => {
    expect(youngGenerationHint([], '')).toContain(YOUNG_GENERATION_FLAG);
    expect(youngGenerationHint([YOUNG_GENERATION_FLAG], '')).toBeUndefined();
  });

  it('is passed by the CLI shebang and by npm start, and node accepts it', () => {
    const shebang = repoFile('src/cli.ts').split('\n')[0];
    expect(shebang).toMatch(/^#!\/usr\/bin\/env -S node /);
    const nodeArgs = shebang.replace('#!/usr/bin/env -S node', '').trim().split(/\s+/);
    expect(nodeArgs).toContain(YOUNG_GENERATION_FLAG);
    const start = (JSON.parse(repoFile('package.json')) as { scripts: Record<string, string> }).scripts.start;
    expect(start.split(/\s+/)).toContain(YOUNG_GENERATION_FLAG);
    // An option node does not know would stop the CLI before it starts ("bad option").
    const execArgv = JSON.parse(execFileSync(process.execPath, [...nodeArgs, '-p', 'JSON.stringify(process.execArgv)'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })) as string[];
    expect(youngGenerationSized(execArgv, '')).toBe(true);
  });
});
