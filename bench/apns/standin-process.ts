// The APNs stand-in (test/helpers/apns-standin.ts) in a process of its own, so pushers and the
// gateway they push to don't share an event loop. Forked by apns/standin-client.ts; every push is
// answered 200 and counted.
import { startApnsStandin } from '../../test/helpers/apns-standin.ts';
import type { FromStandin, ToStandin } from './standin-client.ts';

let answered = 0;
const tell = (message: FromStandin): void => {
  process.send!(message);
};

process.once('message', (start: ToStandin) => {
  if (start.kind !== 'start') return;
  void startApnsStandin({
    caCertPem: start.caCertPem,
    serverCertPem: start.serverCertPem,
    serverKeyPem: start.serverKeyPem,
    record: false,
    behaviour: () => {
      answered += 1;
      return { status: 200 };
    },
  }).then((standin) => {
    tell({ kind: 'started', url: standin.url });
    process.on('message', (message: ToStandin) => {
      if (message.kind === 'count') tell({ kind: 'count', answered });
      if (message.kind === 'stop') void standin.close().then(() => process.disconnect());
    });
  });
});
