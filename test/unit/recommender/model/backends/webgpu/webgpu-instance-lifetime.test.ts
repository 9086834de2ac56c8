import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { skipGpu } from './webgpu-fixture.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../../..', import.meta.url));

describe.skipIf(skipGpu)('the WebGPU device outlives garbage collection', () => {
  it('runs a kernel after every collectable reference to the Dawn instance is gone', () => {
    // In a child process with --expose-gc: collected under a live device, Dawn kills the process.
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/support/gpu-after-gc.ts'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const output = `${child.stdout}\n${child.stderr}`;
    expect(child.signal, output).toBeNull();
    expect(child.status, output).toBe(0);
    expect(child.stdout.trim().split('\n').at(-1)).toBe('ok');
  });
});
