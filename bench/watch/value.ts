// The value the watch benchmark's writer puts, so a watcher can tell from an
// event alone which put it is and when it was sent.
//
// Layout (big-endian), then filler up to --value-bytes:
//
//   offset 0  u8   phase: 0 = warm-up, 1 = measured
//   offset 1  u32  sequence number of the put, from 0, unique per target
//   offset 5  f64  send time, microseconds on clock.ts's monotonic clock
//
// Example: put 7 of the measured phase sent at 1234.5 µs encodes as
// 01 00000007 4093 4a00 0000 0000, followed by filler bytes.

export const valueHeaderBytes = 13;

const phaseMeasured = 1;
const phaseWarmup = 0;

export interface PutStamp {
  sequence: number;
  measured: boolean;
  sendUs: number;
}

/** Writes the stamp into the first bytes of `value` (which keeps its filler), and returns it. */
export function stampValue(value: Buffer, stamp: PutStamp): Buffer {
  if (value.length < valueHeaderBytes) throw new Error(`value must have at least ${valueHeaderBytes} bytes, has ${value.length}`);
  value.writeUInt8(stamp.measured ? phaseMeasured : phaseWarmup, 0);
  value.writeUInt32BE(stamp.sequence, 1);
  value.writeDoubleBE(stamp.sendUs, 5);
  return value;
}

/** The stamp of a value, or undefined if it was not written by the benchmark's writer. */
export function readStamp(value: Uint8Array): PutStamp | undefined {
  if (value.length < valueHeaderBytes) return undefined;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const phase = view.getUint8(0);
  if (phase !== phaseMeasured && phase !== phaseWarmup) return undefined;
  return { sequence: view.getUint32(1), measured: phase === phaseMeasured, sendUs: view.getFloat64(5) };
}
