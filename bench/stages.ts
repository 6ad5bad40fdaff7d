// Where figure 1's server CPU goes, stage by stage: each stage of a signed check-in is run alone in
// the bench process, on the same kind of messages the loop sends (one Idle and one Acknowledged per
// command, alternating as in a session), and its CPU time (process.cpuUsage, user + system) is
// divided by the requests. Framework + reply is the baseline server's CPU per request (figure 1,
// same run) less its own plist decode. What the stages do not explain is listed as "unattributed":
// the HTTP route glue, promise scheduling, and whatever interference the machine adds.
//
// Each stage is measured as the server runs it: warm (a few passes first, as the server is after
// its warm-up round; the plist package's decoder takes several hundred requests to get fast, and
// measured cold it made the baseline's framework look like 4 µs), and storage with the loop's 16
// devices in flight, whose commits group commit joins (one at a time, every report paid a commit
// of its own and storage looked like 200 µs).
//
// Same code, same bodies, same database settings as the server; not the same process, so caches
// and JIT state differ a little: a breakdown to show the next step, not an exact invoice.
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { pino } from 'pino';
import { parse as parsePlist } from 'plist';
import { DeviceCertVerifier, deviceCaFromPem, IdentityVerifier, issueDeviceCertificate } from '../src/identity/index.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { resolveEnrollment } from '../src/protocol/enrollment-id.ts';
import { decodePlistDict } from '../src/protocol/plist.ts';
import { decodeDeviceBody } from '../src/threads/plist-decoder.ts';
import { handleReport } from '../src/service/command-loop.ts';
import { SqliteStorage } from '../src/storage/sqlite/sqlite-storage.ts';
import { MdmSigner } from '../test/helpers/mdm-signer.ts';
import type { BenchContext } from './context.ts';
import { seedDatabase } from './seed.ts';
import { median } from './stats.ts';
import { bodies, roundCommands, udids } from './workload.ts';

export interface StageCosts {
  /** CPU seconds per request, by stage. */
  parse: number;
  signature: number;
  storage: number;
  logging: number;
  metrics: number;
  /** The baseline server's own decode, to take out of its total (what is left is framework + reply). */
  baselineParse: number;
}

const DEVICES = 208;
const COMMANDS = 2;
const REPEATS = 5;
const WARM_UP_PASSES = 3;
/** Devices in flight at once, as in the loop (sizes.loop.concurrency). */
const CONCURRENCY = 16;

/** Runs `work` over every request `REPEATS` times, after warming up; the median CPU seconds per request. */
async function perRequest(requests: number, work: () => Promise<void> | void): Promise<number> {
  for (let i = 0; i < WARM_UP_PASSES; i++) await work();
  const samples: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const before = process.cpuUsage();
    await work();
    const used = process.cpuUsage(before);
    samples.push((used.user + used.system) / 1e6 / requests);
  }
  return median(samples);
}

export async function measureStages(ctx: BenchContext): Promise<StageCosts> {
  const { deviceCa } = ctx;
  const ids = udids(DEVICES);
  const rounds = WARM_UP_PASSES + REPEATS + 1;
  const commandsOf = (round: number) => roundCommands(1000 + round, COMMANDS);
  // Per device a session: Idle, then one Acknowledged per command (the loop's shape).
  const session = (round: number) =>
    ids.flatMap((id) => [bodies.idle(id), ...commandsOf(round).map((uuid) => bodies.acknowledged(id, uuid))]);
  const requests = DEVICES * (1 + COMMANDS);
  const sample = session(0);

  const dir = ctx.dir('stages');
  const reportOptions = { onlyTopLevel: { except: ['ErrorChain', 'QueryResponses'] } };
  const parse = await perRequest(requests, async () => {
    for (const body of sample) {
      resolveEnrollment(await decodeDeviceBody(body, reportOptions));
    }
  });
  // The baseline server's decode (baseline-server.ts), taken out of its total.
  const baselineParse = await perRequest(requests, () => {
    for (const body of sample) parsePlist(body.toString('utf8'));
  });

  // One key for all (the server cannot tell), one certificate per device, as the fleet does.
  const ca = deviceCaFromPem(deviceCa.certPem, deviceCa.keyPem);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const signers = ids.map(() => new MdmSigner(issueDeviceCertificate(ca, { commonName: 'Aspen bench device', publicKey }).certPem, keyPem));
  // Each pass signs its own round's session, as the loop: a device's Idle is the same bytes every
  // time (a verified signature the verifier remembers), its Acknowledged are new (new commands).
  const signedRounds = Array.from({ length: WARM_UP_PASSES + REPEATS }, (_, r) =>
    session(r).map((body, i) => ({ body, header: signers[Math.floor(i / (1 + COMMANDS))]!.sign(body) })),
  );
  const verifier = new IdentityVerifier(new DeviceCertVerifier(deviceCa.certPem));
  let pass = 0;
  const signature = await perRequest(requests, () => {
    for (const { body, header } of signedRounds[pass++]!) verifier.fromMdmSignature(header, body);
  });

  const database = join(dir, 'aspen.db');
  const allCommands = Array.from({ length: rounds }, (_, r) => commandsOf(r)).flat();
  seedDatabase(database, ids, allCommands);
  const storage = new SqliteStorage({ path: database, synchronous: 'FULL' });
  // Every round's messages decoded before timing (decoding is the parse stage), per device in
  // session order; the devices then run CONCURRENCY at a time, each its session in order.
  const decoded = Array.from({ length: rounds }, (_, r) =>
    ids.map((id) =>
      [bodies.idle(id), ...commandsOf(r).map((uuid) => bodies.acknowledged(id, uuid))].map((raw) => {
        const message = decodePlistDict(raw, reportOptions);
        return { raw, message, who: resolveEnrollment(message) };
      }),
    ),
  );
  let round = 0;
  const storageCost = await perRequest(requests, async () => {
    const devices = decoded[round++]!;
    for (let first = 0; first < devices.length; first += CONCURRENCY) {
      await Promise.all(
        devices.slice(first, first + CONCURRENCY).map(async (messages) => {
          for (const m of messages) await handleReport(storage, { ...m, params: {}, at: new Date().toISOString() }, async () => {});
        }),
      );
    }
  });
  await storage.close();

  // As the server logs (createLogger, device-routes.ts): pino to a file, written by the thread pool
  // in batches; Fastify's child logger made per request, the line through the server's logger with
  // the request id first; 16 requests per event-loop turn, as the loop's 16 devices.
  const destination = pino.destination({ dest: join(dir, 'log'), sync: false, minLength: 8 * 1024, periodicFlush: 100 });
  const logger = pino({ level: 'info' }, destination);
  const summary = { enrollmentId: ids[0], message: 'Acknowledged', commandUuid: commandsOf(0)[0], outcome: 'completed', nextCommandUuid: commandsOf(0)[1], nextRequestType: 'DeviceInformation' };
  let reqId = 0;
  const logging = await perRequest(requests, async () => {
    for (let i = 0; i < requests; i++) {
      const id = `req-${(reqId++).toString(36)}`;
      logger.child({ reqId: id });
      logger.info({ reqId: id, ...summary, status: 200, ms: 1.2 }, 'device request');
      if (i % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => destination.flush(resolve));
  });
  destination.end();

  const metricsRegistry = new Metrics(async () => ({}) as never);
  const metrics = await perRequest(requests, () => {
    for (let i = 0; i < requests; i++) metricsRegistry.deviceRequest(summary, 200, 0.0012);
  });
  return { parse, signature, storage: storageCost, logging, metrics, baselineParse };
}
