/**
 * Writes a tiny BERT-shaped sentence encoder in the transformers.js local-folder layout, so
 * tests, benchmarks and the zero-setup demo can exercise the real model-loading path without
 * a model hub (none is reachable from this machine or CI):
 *
 *   <dir>/<name>/config.json            model_type bert, hidden_size
 *   <dir>/<name>/tokenizer.json         WordPiece over a few hundred words and subwords
 *   <dir>/<name>/tokenizer_config.json
 *   <dir>/<name>/onnx/model.onnx        Gather(embeddings, input_ids) → Tanh → last_hidden_state
 *
 * The embedding table comes from a seeded PRNG, so every run writes byte-identical files and
 * a text always maps to the same vector. It has no semantics beyond token overlap: texts that
 * share tokens end up close after mean pooling, which is all the tests rely on.
 *
 *   npx tsx scripts/make-tiny-model.ts [dir=.models] [name=tiny-bert]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import onnxProto from 'onnx-proto';
import { TINY_MODEL_WORDS } from './model/tiny-vocabulary.js';

const { onnx } = onnxProto;

export interface TinyModelOptions {
  /** Width of `last_hidden_state`; the encoder's `dim`. */
  readonly hidden?: number;
  /** PRNG seed for the embedding table. */
  readonly seed?: number;
}

export interface TinyModel {
  /** The model folder, `<dir>/<name>`: what a TransformersEncoder's `modelDir` points at. */
  readonly modelDir: string;
  readonly hidden: number;
  readonly vocabSize: number;
}

const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
const MAX_POSITIONS = 128;

export function makeTinyModel(dir: string, name: string, options: TinyModelOptions = {}): TinyModel {
  const hidden = options.hidden ?? 32;
  const seed = options.seed ?? 0x5eed;
  const vocab = buildVocabulary();
  const modelDir = join(dir, name);
  mkdirSync(join(modelDir, 'onnx'), { recursive: true });

  writeJson(join(modelDir, 'config.json'), {
    model_type: 'bert',
    architectures: ['BertModel'],
    hidden_size: hidden,
    vocab_size: vocab.length,
    max_position_embeddings: MAX_POSITIONS,
    num_attention_heads: 1,
    num_hidden_layers: 1,
    intermediate_size: hidden,
    pad_token_id: 0,
    type_vocab_size: 1,
  });
  writeJson(join(modelDir, 'tokenizer.json'), tokenizerJson(vocab));
  writeJson(join(modelDir, 'tokenizer_config.json'), {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: MAX_POSITIONS,
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    mask_token: '[MASK]',
  });
  writeFileSync(join(modelDir, 'onnx', 'model.onnx'), onnxModel(vocab.length, hidden, seed));
  return { modelDir, hidden, vocabSize: vocab.length };
}

/** Special tokens first (ids 0..4, as BERT tokenizers expect), then words, then single characters
 * and their `##` continuations so any lowercase ASCII word tokenizes without falling to [UNK]. */
function buildVocabulary(): string[] {
  const characters = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');
  const punctuation = '.,:;!?()[]{}<>/\\-_=+*&^%$#@\'"`~|'.split('');
  const tokens = [...SPECIAL_TOKENS, ...TINY_MODEL_WORDS, ...characters, ...characters.map((c) => `##${c}`), ...punctuation];
  return [...new Set(tokens)];
}

function tokenizerJson(vocab: readonly string[]): unknown {
  const ids = Object.fromEntries(vocab.map((token, id) => [token, id]));
  const special = (content: string) => ({
    id: ids[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const specialToken = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [specialToken('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, specialToken('[SEP]')],
      pair: [
        specialToken('[CLS]'),
        { Sequence: { id: 'A', type_id: 0 } },
        specialToken('[SEP]'),
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [ids['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [ids['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: ids,
    },
  };
}

function onnxModel(vocabSize: number, hidden: number, seed: number): Uint8Array {
  const { TensorProto } = onnx;
  const int64Matrix = (name: string) => ({
    name,
    type: {
      tensorType: {
        elemType: TensorProto.DataType.INT64,
        shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'sequence' }] },
      },
    },
  });
  const embeddings = seededUniform(vocabSize * hidden, seed, 1.5);
  const graph = {
    name: 'tiny_bert',
    node: [
      {
        opType: 'Gather',
        input: ['embeddings', 'input_ids'],
        output: ['gathered'],
        name: 'embed',
        attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
      },
      { opType: 'Tanh', input: ['gathered'], output: ['last_hidden_state'], name: 'squash' },
    ],
    initializer: [
      {
        name: 'embeddings',
        dataType: TensorProto.DataType.FLOAT,
        dims: [vocabSize, hidden],
        rawData: new Uint8Array(embeddings.buffer, embeddings.byteOffset, embeddings.byteLength),
      },
    ],
    // attention_mask is unused by the graph but must be declared: transformers.js feeds only the
    // inputs a session names, and mean pooling reads the mask on the JS side.
    input: [int64Matrix('input_ids'), int64Matrix('attention_mask')],
    output: [
      {
        name: 'last_hidden_state',
        type: {
          tensorType: {
            elemType: TensorProto.DataType.FLOAT,
            shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'sequence' }, { dimValue: hidden }] },
          },
        },
      },
    ],
  };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'agentrec/make-tiny-model',
    opsetImport: [{ domain: '', version: 13 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** mulberry32: tiny, fast and good enough for reproducible weights; little-endian float32 so
 * the raw_data bytes ONNX expects equal the typed array's memory on every platform we run on. */
function seededUniform(count: number, seed: number, scale: number): Float32Array {
  const values = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    values[i] = (unit * 2 - 1) * scale;
  }
  return values;
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [dir = '.models', name = 'tiny-bert'] = process.argv.slice(2);
  const made = makeTinyModel(dir, name);
  console.log(`wrote ${made.modelDir} (vocab ${made.vocabSize}, hidden ${made.hidden})`);
}
