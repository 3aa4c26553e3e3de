// The one clock the watch benchmark's processes share. A put's send time is
// taken in the writer process and compared with an event's receipt time in a
// watcher process, so it cannot be performance.now(), whose origin is per
// process. process.hrtime() reads CLOCK_MONOTONIC on Linux (libuv's
// uv_hrtime), which is system-wide: readings from two processes on one
// machine are directly comparable, and wall-clock steps do not move it.

/** Microseconds on the machine's monotonic clock, with sub-microsecond precision. */
export function monotonicUs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e6 + nanoseconds / 1e3;
}
