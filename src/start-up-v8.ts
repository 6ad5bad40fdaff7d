// V8 held lean while the server starts; evaluated before main.ts imports the rest of the server
// (it imports those dynamically, after this). Once the server listens, V8 runs as it always does.
// - The young generation: starting, most of what is allocated survives (modules, schemas,
//   routes), and after each such collection V8 doubles its semi-spaces, to 16 MB (32 MB of
//   memory) by the time the server answers, holding a few MB. Not growing them while starting
//   leaves a fresh server about 12 MB smaller (bench figure 11).
// - The optimizing compiler (TurboFan): start-up code runs once, yet a few of its loops get hot
//   enough to be optimized, which costs the compiler's memory and code pages (about 8 MB).
// - The baseline compiler (Sparkplug) likewise compiles start-up functions called a few times
//   into machine code kept beside their bytecode (about 1.3 MB of RSS here).
// What this trades: start-up runs more, smaller young collections and no optimized code (tens of
// ms of CPU at most). None of it holds after the start: under load the young generation grows and
// hot request paths are optimized as before, so requests are not slowed.
import v8 from 'node:v8';

/** Each flag held during start, with V8's default it goes back to (node --v8-options). */
const HELD_WHILE_STARTING = [
  { held: '--semi-space-growth-factor=1', v8Default: '--semi-space-growth-factor=2' },
  { held: '--no-turbofan', v8Default: '--turbofan' },
  { held: '--no-sparkplug', v8Default: '--sparkplug' },
];

for (const { held } of HELD_WHILE_STARTING) v8.setFlagsFromString(held);

/** The server is up: V8 as it always runs. */
export function startUpDone(): void {
  for (const { v8Default } of HELD_WHILE_STARTING) v8.setFlagsFromString(v8Default);
}
