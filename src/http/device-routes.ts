// Device endpoints: PUT /mdm (check-ins and command reports, told apart by content type, or by
// the body when there is none), PUT /checkin (check-ins, for profiles with a separate
// CheckInURL) and GET /ddm/assets/<name> (data assets of declarations). Only translates HTTP to
// the service and back; the raw body bytes go to the service untouched.
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PlistError } from '../protocol/plist.ts';
import { deviceBodyParser } from './device-body.ts';
import { decodeDeviceBody } from '../threads/plist-decoder.ts';
import { DeviceRequestError, type DeviceReply, type RequestSummary } from '../service/device-reply.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { DeviceCredentials } from '../service/device-auth.ts';
import type { MdmService } from '../service/mdm-service.ts';
import { ASSET_PATH, type DataAssets } from '../service/data-assets.ts';

export const CHECKIN_CONTENT_TYPE = 'application/x-apple-aspen-mdm-checkin';
export const REPORT_CONTENT_TYPE = 'application/x-apple-aspen-mdm';

declare module 'fastify' {
  interface FastifyRequest {
    deviceSummary: RequestSummary | null;
  }
}

export interface DeviceRoutesOptions {
  service: MdmService;
  assets: DataAssets;
  metrics: Metrics;
  /** The header a TLS-terminating proxy forwards the client certificate in, if any. */
  deviceCertHeader?: string;
  /** The largest body taken (BODY_LIMIT). */
  bodyLimit: number;
}

export async function deviceRoutes(app: FastifyInstance, opts: DeviceRoutesOptions): Promise<void> {
  const { service, metrics } = opts;
  const forwardedHeader = opts.deviceCertHeader?.toLowerCase();

  /** The identity material of a request: the signature (it covers the body), else a forwarded
   *  certificate, else the TLS peer's. */
  function credentials(request: FastifyRequest): DeviceCredentials {
    const signature = request.headers['mdm-signature'];
    if (typeof signature === 'string') return { kind: 'signature', value: signature };
    const forwarded = forwardedHeader === undefined ? undefined : request.headers[forwardedHeader];
    if (typeof forwarded === 'string' && forwarded !== '') return { kind: 'forwarded', value: forwarded };
    return peerCredentials(request.raw.socket as Partial<TLSSocket>);
  }
  app.decorateRequest('deviceSummary', null);
  // Only the two MDM content types are bodies here, taken as raw bytes (signatures cover them);
  // Fastify's JSON and text parsers would hand the service something else, so they are removed.
  // A body without any Content-Type is taken too (some MDM clients send reports that way, and
  // NanoMDM accepts them); an explicitly different type is refused before its body is read.
  app.removeAllContentTypeParsers();
  const readBody = deviceBodyParser(opts.bodyLimit);
  for (const type of [CHECKIN_CONTENT_TYPE, REPORT_CONTENT_TYPE, '*']) app.addContentTypeParser(type, readBody);
  // Hooks on the device path are synchronous (done callbacks): an async hook costs a promise and a
  // microtask hop per request for nothing it awaits.
  app.addHook('onRequest', (request, _reply, done) => {
    const type = mediaType(request);
    if (type !== '' && type !== CHECKIN_CONTENT_TYPE && type !== REPORT_CONTENT_TYPE) {
      const error = new Error(`unsupported content type ${JSON.stringify(request.headers['content-type'])}`);
      done(Object.assign(error, { statusCode: 415 }));
      return;
    }
    done();
  });

  app.put('/mdm', async (request, reply) => {
    const body = bodyOf(request);
    const creds = credentials(request);
    const params = urlParams(request);
    return send(request, reply, await ((await isCheckin(request, body)) ? service.checkin(body, creds, params) : service.report(body, creds, params)));
  });

  app.put('/checkin', async (request, reply) => send(request, reply, await service.checkin(bodyOf(request), credentials(request), urlParams(request))));

  // A data asset, fetched without an Mdm-Signature: the TLS or forwarded certificate identifies the device.
  app.get(`${ASSET_PATH}:name`, async (request, reply) => send(request, reply, await opts.assets.fetch((request.params as { name: string }).name, credentials(request))));

  // Refusals are 4xx with a short reason; anything else is the server's fault: 5xx, which a device
  // retries later (never 401, which would make it unenroll).
  app.setErrorHandler(async (err: Error & { statusCode?: number }, request, reply) => {
    if (err instanceof DeviceRequestError) {
      request.deviceSummary = { ...err.summary, outcome: `refused: ${err.reason}` };
      return reply.code(err.status).type('text/plain; charset=utf-8').send(`${err.reason}\n`);
    }
    const status = err.statusCode;
    if (status !== undefined && status >= 400 && status < 500 && status !== 401) {
      request.deviceSummary = { outcome: `refused: ${err.message}` };
      return reply.code(status).type('text/plain; charset=utf-8').send(`${err.message}\n`);
    }
    request.log.error({ err }, 'device request failed');
    request.deviceSummary = { outcome: 'server error' };
    return reply.code(500).type('text/plain; charset=utf-8').send('internal server error\n');
  });

  // One line per device request; the summary carries ids and outcomes, never tokens or secrets.
  // Identity refusals at warn: a CA that is not trusted, or a device that lost its binding.
  // The line goes through the server's logger with the request id first, the same bytes as through
  // the request's child logger (whose one binding is that id): a line through a fresh child costs
  // about twice as much, every child being an object of a new shape to pino's code.
  const log = app.log;
  app.addHook('onResponse', (request, reply, done) => {
    const elapsed = reply.elapsedTime;
    const line = { reqId: request.id, ...request.deviceSummary, status: reply.statusCode, ms: Math.round(elapsed * 10) / 10 };
    if (request.deviceSummary?.refusal === undefined) log.info(line, 'device request');
    else log.warn(line, 'device request');
    metrics.deviceRequest(request.deviceSummary, reply.statusCode, elapsed / 1000);
    done();
  });
}

/** The query of the URL the device used, as strings (a repeated name keeps its last value). */
function urlParams(request: FastifyRequest): Record<string, string> {
  const query = (request.query ?? {}) as Record<string, string | string[]>;
  return Object.fromEntries(Object.entries(query).map(([k, v]) => [k, Array.isArray(v) ? v.at(-1)! : v]));
}

/** A TLS connection's client certificates: read once per connection, and only when a request
 *  needs them, since Node builds a parsed object of the whole chain on every call. */
const peerCertificates = new WeakMap<object, DeviceCredentials>();
const MAX_PEER_CHAIN = 10;

function peerCredentials(socket: Partial<TLSSocket>): DeviceCredentials {
  if (typeof socket.getPeerX509Certificate !== 'function') return null;
  let found = peerCertificates.get(socket);
  if (found === undefined) {
    const leaf = socket.getPeerX509Certificate();
    const chain: Buffer[] = [];
    for (let issuer = leaf?.issuerCertificate; issuer !== undefined && chain.length < MAX_PEER_CHAIN; issuer = issuer.issuerCertificate) {
      const der = issuer.raw;
      // The chain Node builds ends in a self-signed certificate that names itself as its issuer.
      if (der.equals(leaf!.raw) || chain.some((seen) => der.equals(seen))) break;
      chain.push(der);
    }
    found = leaf === undefined ? null : { kind: 'peer', der: leaf.raw, chain };
    peerCertificates.set(socket, found);
  }
  return found;
}

function mediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/** The body's bytes; a request without a body has zero of them. */
function bodyOf(request: FastifyRequest): Buffer {
  return (request.body as Buffer | undefined) ?? Buffer.alloc(0);
}

/**
 * Whether a PUT /mdm is a check-in. The content type says so; without one, the body does: a
 * MessageType makes it a check-in. Anything else (a Status, or no plist at all) takes the report
 * path, which checks the identity first and refuses what is not a report there.
 */
async function isCheckin(request: FastifyRequest, body: Buffer): Promise<boolean> {
  const type = mediaType(request);
  if (type !== '') return type === CHECKIN_CONTENT_TYPE;
  try {
    return (await decodeDeviceBody(body, { onlyTopLevel: { except: [] } })).MessageType !== undefined;
  } catch (err) {
    if (err instanceof PlistError) return false;
    throw err;
  }
}

function send(request: FastifyRequest, reply: FastifyReply, result: DeviceReply): FastifyReply {
  request.deviceSummary = result.summary;
  reply.code(result.status);
  // A command-less answer must be zero bytes: an empty <dict/> would be taken as a malformed command.
  if (result.body === null) return reply.send();
  if (result.contentType) reply.type(result.contentType);
  // A Buffer (a stored command's payload) is sent as it is; another Uint8Array is wrapped, not copied.
  const body = result.body;
  return reply.send(typeof body === 'string' || Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
}
