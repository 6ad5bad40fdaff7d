// The baseline for the check-in loop: a bare Fastify server that decodes each device body with
// the `plist` package and answers the very bytes Aspen would (the next command of the round, or a
// zero-length 200), with no storage, no signature check, no logging. What Aspen spends beyond this
// is the price of doing the job. Run as its own process by server-process.ts.
//
// The decoder is the `plist` package's, as when issue #16 set its target (Aspen then decoded with
// it too). Aspen has since replaced it with its own reader (src/protocol/plist-reader.ts, faster and
// bounded); a baseline using that reader would get faster with every optimisation of Aspen's own
// and stop being the fixed "bare Fastify + plist" yardstick.
import Fastify from 'fastify';
import { parse as parsePlist } from 'plist';
import { commandPlist, COMMAND_CONTENT_TYPE, roundCommands } from './workload.ts';

const rounds = Number(process.env.BENCH_ROUNDS);
const perRound = Number(process.env.BENCH_COMMANDS_PER_ROUND);

// What follows each command in its round; the last command of a round is followed by nothing.
const payloads = new Map<string, Buffer>();
const nextAfter = new Map<string, string | null>();
const firstOfRound: string[] = [];
for (let round = 0; round < rounds; round += 1) {
  const uuids = roundCommands(round, perRound);
  firstOfRound.push(uuids[0]!);
  uuids.forEach((uuid, k) => {
    payloads.set(uuid, Buffer.from(commandPlist(uuid), 'utf8'));
    nextAfter.set(uuid, uuids[k + 1] ?? null);
  });
}
/** Sessions each device has started: every device runs one session per round. */
const sessions = new Map<string, number>();

const app = Fastify({ bodyLimit: 4 * 1024 * 1024 });
for (const type of ['application/x-apple-aspen-mdm-checkin', 'application/x-apple-aspen-mdm']) {
  app.addContentTypeParser(type, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}

app.put('/mdm', async (request, reply) => {
  const message = parsePlist((request.body as Buffer).toString('utf8')) as Record<string, unknown>;
  const device = String(message.UDID);
  let next: string | null | undefined = null;
  if (message.Status === 'Idle') {
    const round = sessions.get(device) ?? 0;
    sessions.set(device, round + 1);
    next = firstOfRound[round] ?? null;
  } else if (message.Status !== undefined) {
    next = nextAfter.get(String(message.CommandUUID));
    if (next === undefined) return reply.code(400).send('unknown command\n');
  }
  if (next === null) return reply.send();
  return reply.type(COMMAND_CONTENT_TYPE).send(payloads.get(next));
});
app.get('/version', async () => ({ version: 'baseline' }));

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT) });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}
