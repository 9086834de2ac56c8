// Generic operators: any topology may use them. Recommender steps live in src/recommender/.
export { decode, type DecodeOptions } from './decode.js';
export { mapValues } from './map-values.js';
