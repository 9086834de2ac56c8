/**
 * Every failure agentrec raises is an AgentrecError with a stable code, the step it happened
 * in (when there is one) and the underlying cause. Codes are part of the public surface:
 * dead-letter records and logs carry them, so downstream tooling can group failures.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'TOPOLOGY_INVALID'
  | 'TASK_STATE_ILLEGAL'
  | 'DECODE_FAILED'
  | 'VALIDATION_FAILED'
  | 'ENCODE_FAILED'
  | 'STATE_LOCKED'
  | 'STATE_CORRUPT'
  | 'STATE_IO'
  | 'CHANGELOG_RESTORE_FAILED'
  | 'KAFKA_UNAVAILABLE'
  | 'KAFKA_DELIVERY_FAILED'
  | 'KAFKA_TRANSACTION_FAILED'
  | 'MODEL_LOAD_FAILED'
  | 'NUMERIC_INVALID'
  | 'GPU_UNAVAILABLE'
  | 'GPU_FAILED'
  | 'INPUT_INVALID'
  | 'STEP_FAILED';

export class AgentrecError extends Error {
  readonly code: ErrorCode;
  readonly step?: string;
  readonly field?: string;
  /** The message without the code/step/field prefix, for re-raising with more context. */
  readonly detail: string;

  constructor(code: ErrorCode, message: string, options: { step?: string; field?: string; cause?: unknown } = {}) {
    const where = [options.step && `step '${options.step}'`, options.field && `field '${options.field}'`].filter(Boolean).join(', ');
    super(where ? `[${code}] ${where}: ${message}` : `[${code}] ${message}`, { cause: options.cause });
    this.name = new.target.name;
    this.detail = message;
    this.code = code;
    this.step = options.step;
    this.field = options.field;
  }
}

/** Config that failed validation; `path` is a JSON pointer such as `/operators/update/learningRate`. */
export class ConfigError extends AgentrecError {
  readonly path: string;
  constructor(path: string, message: string) {
    super('CONFIG_INVALID', `${path}: ${message}`);
    this.path = path;
  }
}

/** A record the pipeline cannot use. It goes to the dead-letter topic; the task keeps running. */
export class BadRecordError extends AgentrecError {}

/**
 * A line of an input file (import, replay) that cannot be used. The message names the file and
 * line (`chats.jsonl:12`), so the user can fix it; the other lines are still read.
 */
export class InputLineError extends AgentrecError {
  readonly file: string;
  readonly line: number;
  /** The field or column at fault, when one is (the message names it too). */
  readonly inputField?: string;
  constructor(file: string, line: number, message: string, options: { field?: string; cause?: unknown } = {}) {
    // The location leads the message (the generic field prefix would push it back).
    super('INPUT_INVALID', `${file}:${line}: ${message}`, { cause: options.cause });
    this.inputField = options.field;
    this.file = file;
    this.line = line;
  }
}

/** State directory or store problems (locked, corrupt, I/O). Always names the directory. */
export class StateError extends AgentrecError {
  readonly directory?: string;
  constructor(code: ErrorCode, message: string, options: { directory?: string; step?: string; cause?: unknown } = {}) {
    super(code, options.directory ? `${message} (state directory ${options.directory})` : message, options);
    this.directory = options.directory;
  }
}

export function errorCode(err: unknown): ErrorCode | 'UNKNOWN' {
  return err instanceof AgentrecError ? err.code : 'UNKNOWN';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
