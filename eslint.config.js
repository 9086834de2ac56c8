import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Layer directions: the generic layers (state, serde, topology, operators) never import the
 * recommender, and steps never reach into the runtime's internals. Paths are import specifiers.
 */
const RECOMMENDER = { group: ['**/recommender/**', '**/recommender/*.js', '**/topologies/**'], message: 'generic layers must not import the recommender' };
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
  { ignores: ['dist/**', 'node_modules/**', 'scripts/kafka/lib/**', '.kafka/**', '.state/**', '.models/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain-JS scripts run by Node directly (TypeScript files get these from @types/node).
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', global: 'readonly', performance: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  ...layers,
);
