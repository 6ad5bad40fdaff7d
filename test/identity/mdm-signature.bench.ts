// Per-request cost of Mdm-Signature verification, printed rather than asserted (timings depend on
// the machine). Run: node --import tsx test/identity/mdm-signature.bench.ts
import { readFileSync } from 'node:fs';
import { DeviceCertVerifier } from '../../src/identity/device-cert-verifier.ts';
import { IdentityVerifier } from '../../src/identity/identity-verifier.ts';
import { parseMdmSignature } from '../../src/identity/mdm-signature.ts';
import { OpensslPki } from '../helpers/openssl-pki.ts';

const FIXTURES = new URL('../fixtures/nanomdm/cryptoutil-mdm-signature/', import.meta.url).pathname;
const body = Buffer.from('<?xml version="1.0"?><plist version="1.0"><dict><key>Status</key><string>Idle</string></dict></plist>\n');

/** Median of several batches, in microseconds per call: robust to a GC pause or a noisy neighbour. */
function microseconds(run: () => void, calls = 2_000, batches = 15): number {
  for (let i = 0; i < calls; i++) run(); // warm up the JIT
  const perCall: number[] = [];
  for (let b = 0; b < batches; b++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) run();
    perCall.push(Number(process.hrtime.bigint() - started) / 1_000 / calls);
  }
  perCall.sort((a, b) => a - b);
  return perCall[batches >> 1] ?? Number.NaN;
}

const pki = new OpensslPki();
try {
  const ca = pki.rootCa('Bench CA');
  const identities = new IdentityVerifier(new DeviceCertVerifier(ca.pem));
  const device = readFileSync(`${FIXTURES}mdmSignatureHeader2.b64`, 'utf8').trim();
  console.log(`parse, real device header (BER, indefinite lengths): ${microseconds(() => parseMdmSignature(device)).toFixed(1)} µs`);
  for (const keyType of ['rsa', 'ec'] as const) {
    const signer = pki.issue(`bench-${keyType}`, ca, { keyType });
    for (const noattr of [true, false]) {
      const header = pki.sign(body, signer, { md: 'sha1', noattr });
      const label = `${keyType} sha1 ${noattr ? 'without' : 'with'} signed attributes`;
      const parse = microseconds(() => parseMdmSignature(header));
      const cached = microseconds(() => identities.fromMdmSignature(header, body));
      console.log(`${label}: parse ${parse.toFixed(1)} µs, cached verification ${cached.toFixed(1)} µs`);
    }
  }
} finally {
  pki.cleanup();
}
