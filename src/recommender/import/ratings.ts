import { extname } from 'node:path';
import { ConfigError, InputLineError } from '../../errors.js';
import { trajectoryEvent, type TrajectoryEvent } from '../records.js';
import { splitDelimited } from './delimited-line.js';
import { SYNTHETIC_START_MS, parseTimestamp } from './timestamps.js';

export interface RatingsOptions {
  /** Field delimiter; default tab for .tsv, else comma. */
  delimiter?: string;
  /** Whether the first line names the columns (default true). */
  header?: boolean;
  /** Each column: a 0-based index or, with a header, a column name. Defaults 0, 1, 2, 3. */
  userColumn?: string;
  itemColumn?: string;
  ratingColumn?: string;
  /** 'none': no time column (times are synthetic, one second per line). */
  timeColumn?: string;
}

interface Columns {
  user: number;
  item: number;
  rating: number;
  time: number | undefined;
  /** A defaulted time column may be absent (three-column files); a named one must be there. */
  timeRequired: boolean;
}

/**
 * Ratings files (CSV/TSV: user, item, rating, timestamp) → trajectory events: per line a REQUEST
 * whose only candidate is the rated item, then a RATING feedback with the stars. The model's
 * score for that candidate is its rating prediction, so replay can measure MAE/RMSE. Ids derive
 * from the file name and line, so the mapping is deterministic.
 */
export class RatingsMapper {
  readonly delimiter: string;
  readonly header: boolean;
  private columns?: Columns;

  constructor(
    private readonly file: string,
    private readonly options: RatingsOptions = {},
  ) {
    this.delimiter = options.delimiter ?? (extname(file).toLowerCase() === '.tsv' ? '\t' : ',');
    if (this.delimiter === '') throw new ConfigError('--delimiter', 'must not be empty');
    this.header = options.header ?? true;
    if (!this.header) this.columns = this.resolve(undefined);
  }

  /** Reads the header line (when there is one); resolves named columns against it. */
  readHeader(line: string): void {
    this.columns = this.resolve(splitDelimited(line, this.delimiter).map((name) => name.trim()));
  }

  /** The events of one data line; throws an InputLineError naming file, line and column. */
  map(line: string, lineNumber: number, name: string): TrajectoryEvent[] {
    const columns = this.columns ?? this.resolve(undefined);
    const fields = splitDelimited(line, this.delimiter);
    const field = (index: number, what: string) => {
      const value = fields[index]?.trim();
      if (value === undefined || value === '')
        throw new InputLineError(name, lineNumber, `no ${what} in column ${index + 1} (${fields.length} fields on the line)`, {
          field: what,
        });
      return value;
    };
    const userId = field(columns.user, 'user');
    const item = field(columns.item, 'item');
    const ratingText = field(columns.rating, 'rating');
    const rating = Number(ratingText);
    if (!Number.isFinite(rating)) throw new InputLineError(name, lineNumber, `rating '${ratingText}' is not a number`, { field: 'rating' });
    let eventTime = SYNTHETIC_START_MS + lineNumber * 1000;
    const hasTime = columns.time !== undefined && (columns.timeRequired || (fields[columns.time]?.trim() ?? '') !== '');
    if (columns.time !== undefined && hasTime) {
      const timeText = field(columns.time, 'timestamp');
      eventTime =
        parseTimestamp(timeText) ??
        (() => {
          throw new InputLineError(name, lineNumber, `timestamp '${timeText}' is neither epoch seconds/milliseconds nor an ISO-8601 time`, {
            field: 'timestamp',
          });
        })();
    }
    const requestId = `${name}:${lineNumber}`;
    const base = { userId, sessionId: `ratings:${userId}`, eventTime, requestId };
    return [
      trajectoryEvent({
        ...base,
        eventId: `${requestId}/request`,
        kind: 'REQUEST',
        candidates: [{ actionId: item, tool: null, text: null }],
      }),
      trajectoryEvent({
        ...base,
        eventId: `${requestId}/rating`,
        kind: 'FEEDBACK',
        feedback: { signal: 'RATING', value: rating, actionId: item },
      }),
    ];
  }

  private resolve(header: string[] | undefined): Columns {
    const o = this.options;
    const column = (flag: string, spec: string | undefined, fallback: number): number => {
      if (spec === undefined) return fallback;
      if (/^\d+$/.test(spec)) return Number(spec);
      if (!header) throw new ConfigError(flag, `'${spec}' names a column, but the file has no header; give a 0-based index`);
      const index = header.indexOf(spec);
      if (index < 0) throw new ConfigError(flag, `no column '${spec}' in the header of ${this.file} (columns: ${header.join(', ')})`);
      return index;
    };
    const time = o.timeColumn === 'none' ? undefined : column('--time-col', o.timeColumn, 3);
    return {
      user: column('--user-col', o.userColumn, 0),
      item: column('--item-col', o.itemColumn, 1),
      rating: column('--rating-col', o.ratingColumn, 2),
      time,
      timeRequired: o.timeColumn !== undefined,
    };
  }
}
