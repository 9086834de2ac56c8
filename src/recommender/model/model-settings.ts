import { integerIn, numberIn, oneOf } from '../../config.js';
import { ConfigError } from '../../errors.js';
import type { RecommenderModelOptions } from './recommender-model.js';

/**
 * The learning settings a topology takes as `--set key=value` strings, checked once (errors name
 * `/settings/<key>`) and turned into model options. Absent keys stay undefined, so the model's own
 * defaults apply: those were chosen by bench/sweep-defaults.ts (bench/README.md, "Defaults that learn").
 */
export const MODEL_SETTINGS = [
  'dim',
  'learningRate',
  'denseLearningRate',
  'initialAccumulator',
  'l2',
  'initScale',
  'ratingCenter',
  'ratingScale',
  'ratingLinearLearningRate',
  'learnUnseenActions',
  'candidateTools',
  'historyLearningRate',
  'userWeight',
  'ratingWeight',
  'ratingCalibration',
  'candidateCrosses',
  'crossLearningRate',
  'crossBuckets',
  'maxCandidates',
  'acceptanceLearningRate',
] as const;

export function modelOptionsFromSettings(settings: Readonly<Record<string, string | undefined>>): Partial<RecommenderModelOptions> {
  const p = '/settings';
  const num = (key: string, min: number, max: number) =>
    settings[key] === undefined ? undefined : numberIn(parse(settings[key], `${p}/${key}`), `${p}/${key}`, { min, max });
  const int = (key: string, min: number, max: number) =>
    settings[key] === undefined ? undefined : integerIn(parse(settings[key], `${p}/${key}`), `${p}/${key}`, { min, max });
  const bool = (key: string) =>
    settings[key] === undefined ? undefined : oneOf(settings[key], `${p}/${key}`, ['true', 'false']) === 'true';
  const dim = int('dim', 1, 1024);
  const center = settings.ratingCenter;
  return {
    dim,
    candidateCrosses: candidateCrossesFromSettings(settings, p),
    userWeight: num('userWeight', 0, 100),
    optimizer: {
      learningRate: num('learningRate', 1e-6, 10),
      initialAccumulator: num('initialAccumulator', 1e-9, 10),
      l2: num('l2', 0, 1),
    },
    denseLearningRate: num('denseLearningRate', 1e-6, 10),
    rows: { initScale: num('initScale', 0, 10) },
    rating: {
      center:
        center === undefined || center === 'auto'
          ? 'auto'
          : numberIn(parse(center, `${p}/ratingCenter`), `${p}/ratingCenter`, { min: -1e6, max: 1e6 }),
      scale: num('ratingScale', 1e-6, 1e6),
      linearLearningRate: num('ratingLinearLearningRate', 1e-6, 10),
      weight: num('ratingWeight', 0, 100),
      calibration: bool('ratingCalibration'),
    },
    learnUnseenActions: bool('learnUnseenActions'),
    candidateTools: bool('candidateTools'),
    history: { learningRate: num('historyLearningRate', 1e-6, 10) },
    maxCandidates: int('maxCandidates', 1, 65_536),
    acceptanceLearningRate: num('acceptanceLearningRate', 0, 10),
  };
}

/**
 * `candidateCrosses=prev_action,prev_outcome` (the fields crossed with each candidate) or `none`;
 * `crossLearningRate`; `crossBuckets` (a power of two, checked by the model under /model/candidateCrosses/buckets).
 */
function candidateCrossesFromSettings(
  settings: Readonly<Record<string, string | undefined>>,
  p: string,
): RecommenderModelOptions['candidateCrosses'] {
  const fields = settings.candidateCrosses;
  const rate = settings.crossLearningRate;
  const learningRate =
    rate === undefined ? undefined : numberIn(parse(rate, `${p}/crossLearningRate`), `${p}/crossLearningRate`, { min: 1e-6, max: 10 });
  const buckets = settings.crossBuckets === undefined ? undefined : parse(settings.crossBuckets, `${p}/crossBuckets`);
  if (fields === 'none' || fields === 'false') return false;
  if (fields === undefined) return learningRate === undefined && buckets === undefined ? undefined : { learningRate, buckets };
  const list = fields.split(',').map((field) => field.trim());
  if (list.some((field) => field === ''))
    throw new ConfigError(
      `${p}/candidateCrosses`,
      `must be field names separated by commas (e.g. prev_action,prev_outcome) or none, got '${fields}'`,
    );
  return { fields: list, learningRate, buckets };
}

function parse(text: string | undefined, path: string): number {
  const n = Number(text);
  if (text === undefined || text.trim() === '' || Number.isNaN(n)) throw new ConfigError(path, `must be a number, got '${text ?? ''}'`);
  return n;
}

/**
 * `--set timeFeatures=true|false` (default false): the hour-of-day and day-of-week features encode
 * adds to every request. Off by default: on the fixtures they carried no signal, and a rating
 * regression fitted their weights to noise (bench/README.md, "Ratings").
 */
export function timeFeaturesFromSettings(settings: Readonly<Record<string, string | undefined>>): {
  hourOfDay: boolean;
  dayOfWeek: boolean;
} {
  const on = oneOf(settings.timeFeatures, '/settings/timeFeatures', ['true', 'false'], 'false') === 'true';
  return { hourOfDay: on, dayOfWeek: on };
}
