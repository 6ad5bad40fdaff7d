// systemd ExecStartPost: waits until Aspen answers /healthz, so the unit is "active" only once it
// serves. Plain JavaScript with no dependencies; reads the same HOST/PORT/TLS settings.
import { request as http } from 'node:http';
import { request as https } from 'node:https';

const port = Number(process.env.PORT ?? 9000);
const tls = Boolean(process.env.TLS_CERT);
const deadline = Date.now() + Number(process.env.READY_TIMEOUT_MS ?? 30_000);

function probe() {
  return new Promise((resolve) => {
    const get = tls ? https : http;
    // The server may listen on 0.0.0.0 or a specific address; loopback reaches the former.
    const host = !process.env.HOST || process.env.HOST === '0.0.0.0' ? '127.0.0.1' : process.env.HOST;
    const req = get({ host, port, path: '/healthz', rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

while (!(await probe())) {
  if (Date.now() > deadline) {
    console.error(`aspen did not answer /healthz on port ${port} in time`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 250));
}
