import { StateError } from '../../errors.js';

/** A small float64 state (a calibration's fit and tallies) as the bytes stored beside the dense weights. */
export function float64StateBytes(state: Float64Array): Buffer {
  return Buffer.from(state.buffer.slice(state.byteOffset, state.byteOffset + state.byteLength));
}

/** Reads stored bytes back into `state`; bytes of another size are refused (STATE_CORRUPT) naming `what` and `describe`. */
export function loadFloat64State(state: Float64Array, bytes: Buffer, what: string, describe: string): void {
  if (bytes.length !== state.byteLength)
    throw new StateError('STATE_CORRUPT', `${describe}: stored ${what} is ${bytes.length} bytes, not ${state.byteLength}`);
  state.set(new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
}
