// `aspen push` and send's push column against a server that pushes to an APNs stand-in.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { reply } from '../helpers/apns-standin.ts';
import { startPushRig, type PushRig } from '../helpers/push-rig.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { checkin, tokenUpdate } from '../helpers/device.ts';
import { aspen, json } from './run-cli.ts';

const LIVE_TOKEN = Buffer.from('aaaa1111', 'hex');
const DEAD_TOKEN = Buffer.from('dead0000', 'hex');

describe('aspen push', () => {
  let rig: PushRig;
  let server: TestServer;

  const enrollWith = async (udid: string, token: Buffer) => {
    assert.equal((await checkin(server, { MessageType: 'Authenticate', UDID: udid, Topic: rig.certs.push.topic })).status, 200);
    assert.equal((await checkin(server, tokenUpdate({ UDID: udid }, { Topic: rig.certs.push.topic, Token: token }))).status, 200);
  };
  const pushesTo = (token: Buffer) => rig.requestsFor(token).length;

  before(async () => {
    rig = await startPushRig((token) => (token === DEAD_TOKEN.toString('hex') ? reply.unregistered() : reply.ok()));
    server = await startAspen({ API_KEY: 'cli-push-key-0123456789', ...rig.env, APNS_RETRY_ATTEMPTS: '1' });
    await enrollWith('LIVE-1', LIVE_TOKEN);
    await enrollWith('DEAD-1', DEAD_TOKEN);
  });
  after(async () => {
    // Each step guarded: a failed before() must not leave the stand-in holding the process open.
    await server?.close();
    await rig?.close();
  });

  it('pushes each id and shows the outcome per id', async () => {
    const before = pushesTo(LIVE_TOKEN);
    const run = await aspen(['push', 'LIVE-1', 'DEAD-1', 'NOBODY'], { server });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^ID\s+PUSH$/m);
    assert.match(run.stdout, /^LIVE-1\s+pushed \S+$/m);
    assert.match(run.stdout, /^DEAD-1\s+failed: Unregistered$/m);
    assert.match(run.stdout, /^NOBODY\s+failed: /m);
    assert.equal(pushesTo(LIVE_TOKEN), before + 1);

    const raw = json(await aspen(['push', 'LIVE-1', '--json'], { server }));
    assert.equal(typeof raw.status['LIVE-1'].push_result, 'string');
  });

  it('fails when no id could be pushed', async () => {
    const run = await aspen(['push', 'NOBODY'], { server });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^aspen: no enrollment was pushed$/m);
  });

  it('shows the push outcome of each target after send, and does not push with --no-push', async () => {
    const before = pushesTo(LIVE_TOKEN);
    const sent = await aspen(['send', 'LIVE-1', 'ProfileList'], { server });
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^LIVE-1\s+queued\s+pushed$/m);
    assert.equal(pushesTo(LIVE_TOKEN), before + 1);

    const quiet = await aspen(['send', 'LIVE-1', 'ProfileList', '--no-push'], { server });
    assert.match(quiet.stdout, /^LIVE-1\s+queued\s+-$/m);
    assert.equal(pushesTo(LIVE_TOKEN), before + 1);
  });
});
