import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
// Inside the repository, so the packed package's dependencies resolve from the repository's
// node_modules (its native Kafka client takes minutes to build) while 'agentrec' itself can
// only come from the packed tarball.
const PROJECT = join(REPO, '.scratch', `installed-package-${process.pid}`);

describe('the packed package, installed into a project', () => {
  afterAll(() => rmSync(PROJECT, { recursive: true, force: true }));

  it('runs a .ts topology that imports agentrec and agentrec/recommender through the installed bin', () => {
    mkdirSync(join(PROJECT, 'node_modules', 'agentrec'), { recursive: true });
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', PROJECT], { cwd: REPO, encoding: 'utf8' })) as {
      filename: string;
      files: { path: string }[];
    }[];
    const paths = packed[0].files.map((f) => f.path);
    expect(paths).toContain('dist/src/index.d.ts');
    expect(paths).toContain('dist/src/recommender/index.d.ts');
    expect(paths.some((p) => p.startsWith('src/') || p.startsWith('test/'))).toBe(false);
    execFileSync('tar', [
      '-xzf',
      join(PROJECT, packed[0].filename),
      '-C',
      join(PROJECT, 'node_modules', 'agentrec'),
      '--strip-components=1',
    ]);
    // Its own tsconfig, so tsx does not pick up the repository's (whose paths map 'agentrec' to src/).
    writeFileSync(join(PROJECT, 'tsconfig.json'), '{}\n');
    writeFileSync(join(PROJECT, 'package.json'), JSON.stringify({ name: 'my-agent', type: 'module', private: true }));
    writeFileSync(
      join(PROJECT, 'my-topology.ts'),
      [
        "import { decode, topology, type Topology } from 'agentrec';",
        "import { SimulatedUsers, validateTrajectoryEvent, type TrajectoryEvent } from 'agentrec/recommender';",
        "import { avroSerde, jsonSerde, type SimulationContext } from 'agentrec';",
        'const events = avroSerde<TrajectoryEvent>("trajectory-event");',
        'export default (): Topology =>',
        "  topology('my-agent').from('in', { topic: 'in', partitions: 2 })",
        "    .step(decode('decode', { serde: events, validate: validateTrajectoryEvent }))",
        "    .to('out', { topic: 'out', serde: jsonSerde<TrajectoryEvent>() });",
        'export async function simulate(sim: SimulationContext): Promise<void> {',
        '  const users = new SimulatedUsers({ users: 10, actions: 5, candidates: 3, seed: 1 });',
        '  const records = Array.from({ length: sim.events }, () => { const e = users.next(); return { topic: "in", key: Buffer.from(e.userId), value: events.serialize(e) }; });',
        '  await sim.produce(records);',
        '}',
      ].join('\n'),
    );
    const bin = join(PROJECT, 'node_modules', 'agentrec', 'dist', 'src', 'cli.js');
    const described = spawnSync(process.execPath, [bin, 'describe', 'my-topology.ts', '--format', 'json'], {
      cwd: PROJECT,
      encoding: 'utf8',
    });
    expect(described.stderr).toBe('');
    expect(JSON.parse(described.stdout)).toMatchObject({ name: 'my-agent', steps: [{ name: 'decode' }] });

    const run = spawnSync(process.execPath, [bin, 'run', 'my-topology.ts', '--events', '300', '--memory-state', '--metrics-port', '0'], {
      cwd: PROJECT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).toMatch(/300/);
    // The package's own example runs from the installed copy too.
    const example = spawnSync(process.execPath, [bin, 'describe', 'node_modules/agentrec/topologies/agent-recommender.ts'], {
      cwd: PROJECT,
      encoding: 'utf8',
    });
    expect(example.status, example.stderr).toBe(0);
    expect(example.stdout).toContain('agent-recommender');
    expect(readdirSync(PROJECT)).toContain('my-topology.ts');
  });
});
