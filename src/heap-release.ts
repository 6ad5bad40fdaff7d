// Memory handed back once a very large admin request is done. A fan-out to 100,000 enrollments
// allocates about 200 MB on the way (the parsed targets, their outcomes, a 5 MB answer), almost all
// of it dead once the answer is sent; V8 keeps those pages until its memory reducer runs, 15 to 30 s
// later on an otherwise quiet server, so RSS stood near 190 MB after every large fan-out (bench
// figure 11). One full collection right after the answer gives them back at once (about 130 MB
// after). What it trades: one pause of 25-35 ms of the event loop per such request, which device
// requests arriving then wait out; the peak while the request runs is unchanged.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/** Runs a full garbage collection once the current callbacks are done (the answer written). */
export function releaseHeapSoon(): void {
  // V8's gc() is only given to contexts made while --expose-gc is on: one small context, made on
  // the first large request, so a server that never has one pays nothing and no global `gc` exists.
  if (collect === undefined) {
    v8.setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
    v8.setFlagsFromString('--no-expose-gc');
  }
  setImmediate(collect);
}
