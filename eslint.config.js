import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Layer directions: the generic layers (state, serde, topology, operators) never import the
 * recommender, and steps never reach into the runtime's internals. Paths are import specifiers.
 */
const RECOMMENDER = {
  group: ['**/recommender/**', '**/recommender/*.js', '**/topologies/**'],
  message: 'generic layers must not import the recommender',
};
const RUNTIME = { group: ['**/topology/runtime/**'], message: 'steps and operators must not import runtime internals' };
const TOPOLOGY = { group: ['**/topology/**', '../topology/*.js'], message: 'this layer sits below the topology DSL and runtime' };
const SERDE = { group: ['**/serde/**', '../serde/*.js'], message: 'the state layer stores bytes; serdes belong to the layers above' };
const layers = [
  { files: ['src/state/**/*.ts'], patterns: [RECOMMENDER, TOPOLOGY, SERDE] },
  { files: ['src/serde/**/*.ts'], patterns: [RECOMMENDER, TOPOLOGY] },
  { files: ['src/topology/**/*.ts'], patterns: [RECOMMENDER] },
  { files: ['src/operators/**/*.ts'], patterns: [RECOMMENDER, RUNTIME] },
  { files: ['src/recommender/**/*.ts'], patterns: [RUNTIME] },
].map(({ files, patterns }) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'scripts/kafka/lib/**', '.kafka/**', '.state/**', '.models/**', '.scratch/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Type-checked rules for the shipped code and the example topologies; tests and benches keep
  // the syntactic set (their fixtures and spies are loosely typed on purpose).
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({ ...config, files: ['src/**/*.ts', 'topologies/**/*.ts'] })),
  {
    files: ['src/**/*.ts', 'topologies/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Interface methods are async for their callers' sake even when an implementation needs no await.
      '@typescript-eslint/require-await': 'off',
      // A stored failure of unknown type is rethrown as it was caught.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    // librdkafka reports failures as LibrdKafkaError objects, not Error instances; kafka-errors.ts wraps them where they surface.
    files: ['src/topology/transport/**/*.ts'],
    rules: { '@typescript-eslint/prefer-promise-reject-errors': 'off', '@typescript-eslint/only-throw-error': 'off' },
  },
  {
    // Plain-JS scripts run by Node directly (TypeScript files get these from @types/node).
    files: ['**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', global: 'readonly', performance: 'readonly' },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  ...layers,
);
