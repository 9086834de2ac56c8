import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** Lints one line of source as if it were the file at `filePath`; returns the rules it broke. */
async function brokenRules(filePath: string, source: string): Promise<string[]> {
  const eslint = new ESLint();
  const [result] = await eslint.lintText(`${source}\nexport const x = 1;\n`, { filePath });
  return result.messages.map((m) => m.ruleId ?? m.message);
}

describe('layer directions (eslint no-restricted-imports)', () => {
  it.each([
    ['src/topology/runtime/partition-task.ts', "import type { ScoreRecord } from '../../recommender/records.js';"],
    ['src/topology/describe.ts', "import { recommenderModel } from '../recommender/index.js';"],
    ['src/state/caching-store.ts', "import type { EmbeddingRow } from '../recommender/rows/embedding-row-store.js';"],
    ['src/state/caching-store.ts', "import type { StepContext } from '../topology/types.js';"],
    ['src/state/caching-store.ts', "import type { Serde } from '../serde/serde.js';"],
    ['src/serde/avro-serde.ts', "import type { StepContext } from '../topology/types.js';"],
    ['src/serde/avro-serde.ts', "import { writeScoreRecordV1 } from '../recommender/score-record-body.js';"],
    ['src/operators/decode.ts', "import { TopologyRunner } from '../topology/runtime/topology-runner.js';"],
    ['src/recommender/steps/lookup.ts', "import { PartitionTask } from '../../topology/runtime/partition-task.js';"],
  ])('refuses, in %s: %s', async (filePath, source) => {
    expect(await brokenRules(filePath, source)).toContain('no-restricted-imports');
  });

  it.each([
    ['src/topology/describe.ts', "import type { Serde } from '../serde/serde.js';"],
    ['src/recommender/steps/lookup.ts', "import { batchStep } from '../../topology/step.js';"],
    ['src/recommender/steps/lookup.ts', "import type { KeyValueStore } from '../../state/store.js';"],
    ['src/operators/decode.ts', "import { batchStep } from '../topology/step.js';"],
    ['src/topology/runtime/open-task-store.ts', "import type { KeyValueStore } from '../../state/store.js';"],
  ])('allows, in %s: %s', async (filePath, source) => {
    expect(await brokenRules(filePath, source)).not.toContain('no-restricted-imports');
  });
});
