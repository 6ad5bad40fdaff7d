// Figure 5: pushes per second through the APNs stand-in (HTTP/2, TLS, client certificate, in its
// own process): Aspen's pusher (createApnsPusher with its defaults: http2 transport, 100 in flight)
// against a bare node:http2 client sending the same requests with the same concurrency. The pusher
// runs in the bench process rather than behind POST /v1/push/{ids}: 100,000 ids do not fit in a
// URL. Clients alternate, each after a warm-up, and the best repetition of each counts.
import { createApnsPusher, type PushTarget } from '../../src/push/apns-pusher.ts';
import { loadPushCertificate, type PushCertificate } from '../../src/push/push-certificate.ts';
import { generateApnsTestCertificates } from '../../test/helpers/apns-certs.ts';
import { pushBare } from '../apns/bare-http2-client.ts';
import { startStandinProcess } from '../apns/standin-client.ts';
import type { BenchContext } from '../context.ts';
import { fmt, verdict, type Row } from '../table.ts';
import { pushMagic, pushToken, udid } from '../workload.ts';

const FIGURE = '5. push';
const MIN_RATIO = 0.8;
const WARM_UP = 1000;

type PushClient = (targets: readonly PushTarget[]) => Promise<number>;

export async function push(ctx: BenchContext): Promise<Row[]> {
  const { tokens, repetitions, concurrency } = ctx.sizes.push;
  ctx.log('push: generating the stand-in PKI (openssl)');
  const certs = await generateApnsTestCertificates();
  const certificate: PushCertificate = loadPushCertificate({ certPem: certs.push.certPem, keyPem: certs.push.keyPem });
  const standin = await startStandinProcess(certs);
  try {
    const clients: Record<'bare' | 'pusher', PushClient> = {
      bare: (targets) => pushBare(standin.url, certs.ca.certPem, certificate, targets, concurrency),
      pusher: async (targets) => {
        const pusher = createApnsPusher({ certificate, url: standin.url, caPem: certs.ca.certPem, concurrency });
        try {
          return (await pusher.push(targets)).filter((o) => o.ok).length;
        } finally {
          await pusher.close();
        }
      },
    };
    const best = { bare: { rate: 0, failures: 0 }, pusher: { rate: 0, failures: 0 } };
    let sent = 0;
    // Every push goes to a token not pushed before, as in a real fan-out.
    const nextTargets = (count: number): PushTarget[] =>
      Array.from({ length: count }, () => {
        const id = udid(sent++);
        return { id, token: pushToken(id), pushMagic: pushMagic(id) };
      });
    for (let rep = 0; rep < repetitions; rep += 1) {
      for (const name of ['bare', 'pusher'] as const) {
        await clients[name](nextTargets(WARM_UP));
        const targets = nextTargets(tokens);
        const started = performance.now();
        const delivered = await clients[name](targets);
        const rate = delivered / ((performance.now() - started) / 1000);
        ctx.log(`push: ${name} ${fmt.perSecond(rate)} (${delivered}/${tokens} delivered)`);
        best[name].failures += tokens - delivered;
        best[name].rate = Math.max(best[name].rate, rate);
      }
    }
    const answered = await standin.answered();
    if (answered !== sent) throw new Error(`push: the stand-in answered ${answered} pushes, ${sent} were sent`);
    const describe = (r: { rate: number; failures: number }) => `${fmt.perSecond(r.rate)} (${r.failures} failures)`;
    const ratio = best.pusher.rate / best.bare.rate;
    return [
      {
        figure: FIGURE,
        metric: `pushes to ${fmt.count(tokens)} tokens, pusher vs bare http2`,
        measured: describe(best.pusher),
        baseline: describe(best.bare),
        ratio,
        target: `≥ ${MIN_RATIO}×, 0 failures`,
        verdict: verdict(ratio >= MIN_RATIO && best.pusher.failures === 0),
      },
    ];
  } finally {
    await standin.stop();
  }
}
