// The storage contract: every backend must pass this suite (SQLite and PostgreSQL), including the
// concurrency cases, which race two connections to the same database (two Aspen instances).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EventDraft, WebhookEndpoint } from '../../src/storage/events.ts';
import {
  DuplicateCommandError,
  type AdmissionFacts,
  type AuthenticateRecord,
  type IdentityBinding,
  type Storage,
  type TokenUpdateRecord,
} from '../../src/storage/storage.ts';
import { FAN_OUT_CHUNK } from '../../src/storage/fan-out.ts';

export interface BackendUnderTest {
  storage: Storage;
  /** Another connection to the same database, as a second instance would have. */
  second(): Promise<Storage>;
  /** Closes and opens the same database again (to check durability). */
  reopen(): Promise<Storage>;
  destroy(): Promise<void>;
}

const AT = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-02T00:00:00.000Z';
const bytes = (s: string) => new Uint8Array(Buffer.from(s));

/** A device channel's TokenUpdate (the other contract files enroll devices with it too). */
export function tokenUpdate(id: string, extra: Partial<TokenUpdateRecord> = {}): TokenUpdateRecord {
  return {
    id,
    deviceId: id,
    channel: 'device',
    type: 'device',
    userId: null,
    userShortName: null,
    userLongName: null,
    topic: 'com.apple.mgmt.test',
    pushToken: bytes('token'),
    pushMagic: 'magic',
    unlockToken: null,
    awaitingConfiguration: false,
    at: AT,
    ...extra,
  };
}

/** Binds when the device has no certificate yet: the first-use rule, enough to race on. */
const firstUse = (f: AdmissionFacts) => ({ bind: f.boundTo === undefined && f.deviceBindings.length === 0, consumeRenewal: false });

export function storageContract(name: string, open: () => Promise<BackendUnderTest>, options: { skip?: string | false } = {}): void {
  describe(`storage contract: ${name}`, { skip: options.skip }, () => {
    let backend: BackendUnderTest;
    let s: Storage;
    before(async () => {
      backend = await open();
      s = backend.storage;
    });
    after(() => backend.destroy());

    async function enrolled(id: string): Promise<void> {
      await s.authenticate({ id, type: 'device', serialNumber: 'SN', platform: 'macOS', osVersion: '15.1', facts: { Model: 'x' }, topic: 't', keepPendingCommands: false, at: AT });
      assert.equal(await s.tokenUpdate(tokenUpdate(id)), 'newly-enrolled');
    }
    const cmd = (uuid: string) => ({ uuid, requestType: 'ProfileList', payload: bytes(`<${uuid}>`) });

    it('creates an enrollment at Authenticate and enrolls it at TokenUpdate', async () => {
      const first = await s.authenticate({ id: 'D1', type: 'device', serialNumber: 'SN1', platform: 'iOS', osVersion: '18.0', facts: { Model: 'iPad' }, topic: 't', keepPendingCommands: false, at: AT });
      assert.deepEqual(first, { created: true });
      let e = await s.getEnrollment('D1');
      assert.equal(e?.state, 'authenticated');
      assert.equal(e?.serialNumber, 'SN1');
      assert.equal(e?.platform, 'iOS');
      assert.equal(e?.osVersion, '18.0');
      assert.deepEqual(e?.facts, { Model: 'iPad' });
      assert.equal(e?.firstSeenAt, AT);
      assert.equal(await s.tokenUpdate(tokenUpdate('D1', { unlockToken: bytes('unlock'), at: LATER })), 'newly-enrolled');
      e = await s.getEnrollment('D1');
      assert.equal(e?.state, 'enrolled');
      assert.equal(e?.pushMagic, 'magic');
      assert.deepEqual(Buffer.from(e!.pushToken!), Buffer.from('token'));
      assert.equal(e?.hasUnlockToken, true);
      assert.equal(e?.lastSeenAt, LATER);
      assert.equal(e?.firstSeenAt, AT);
    });

    it('never erases an UnlockToken with a TokenUpdate that has none', async () => {
      assert.equal(await s.tokenUpdate(tokenUpdate('D1', { pushMagic: 'magic-2' })), 'already-enrolled');
      const e = await s.getEnrollment('D1');
      assert.equal(e?.hasUnlockToken, true);
      assert.equal(e?.pushMagic, 'magic-2');
    });

    it('refuses a TokenUpdate for an unknown device, and a user channel of one', async () => {
      assert.equal(await s.tokenUpdate(tokenUpdate('NOPE')), 'unknown');
      const user = tokenUpdate('NOPE:U', { deviceId: 'NOPE', channel: 'user', type: 'user', userId: 'U' });
      assert.equal(await s.tokenUpdate(user), 'unknown');
      assert.equal(await s.getEnrollment('NOPE:U'), undefined);
    });

    it('creates user channels at their TokenUpdate and checks them out with the device', async () => {
      await enrolled('D2');
      const user = tokenUpdate('D2:U', { deviceId: 'D2', channel: 'user', type: 'user', userId: 'U', userShortName: 'u' });
      assert.equal(await s.tokenUpdate(user), 'newly-enrolled');
      assert.equal(await s.tokenUpdate(user), 'already-enrolled');
      assert.equal((await s.getEnrollment('D2:U'))?.state, 'enrolled');
      assert.equal(await s.checkOut('D2', LATER), true);
      assert.equal((await s.getEnrollment('D2'))?.state, 'checked-out');
      assert.equal((await s.getEnrollment('D2:U'))?.state, 'checked-out');
      assert.equal(await s.checkOut('NOPE', LATER), false);
    });

    it('groups known enrollments by traits; a user channel has its device platform', async () => {
      await enrolled('D3');
      const groups = await s.groupByTraits(['D2', 'D2:U', 'NOPE', 'D3', 'D2']);
      const byIds = Object.fromEntries(groups.map((g) => [g.ids.slice().sort().join(','), g.traits]));
      assert.deepEqual(Object.keys(byIds).sort(), ['D2,D3', 'D2:U'], 'the two Macs form one group');
      const unknown = { supervised: null, multiUser: null };
      assert.deepEqual(byIds['D2:U'], { type: 'user', channel: 'user', platform: 'macOS', osVersion: '15.1', ...unknown });
      assert.deepEqual(byIds['D2,D3'], { type: 'device', channel: 'device', platform: 'macOS', osVersion: '15.1', ...unknown });
    });

    it('queues to known enrollments only, and keeps nothing when none is known', async () => {
      await enrolled('Q1');
      const out = await s.enqueue(cmd('q-1'), ['Q1', 'NOPE', 'Q1'], AT);
      assert.deepEqual([...out], [['Q1', 'queued'], ['NOPE', 'unknown-enrollment']]);
      const none = await s.enqueue(cmd('q-none'), ['NOPE'], AT);
      assert.deepEqual([...none], [['NOPE', 'unknown-enrollment']]);
      assert.equal(await s.getCommand('q-none'), undefined);
      await assert.rejects(s.enqueue(cmd('q-1'), ['Q1'], AT), DuplicateCommandError);
    });

    it('queues a fan-out of more targets than one statement takes as one command, all or nothing', async () => {
      const known = ['FAN-0', 'FAN-1', 'FAN-2'];
      for (const id of known) await enrolled(id);
      // Known ids in the first and the last chunk, unknown ones between them, and a repeat.
      const unknown = Array.from({ length: FAN_OUT_CHUNK }, (_, i) => `FAN-NOPE-${i}`);
      const asked = ['FAN-0', ...unknown, 'FAN-1', 'FAN-2', 'FAN-0'];
      const command = { ...cmd('fan-chunks'), requestType: 'ChunkedFanOut' };
      const out = await s.enqueue(command, asked, AT);
      assert.equal(out.size, unknown.length + known.length);
      assert.ok(unknown.every((id) => out.get(id) === 'unknown-enrollment'));
      assert.deepEqual(known.map((id) => out.get(id)), ['queued', 'queued', 'queued']);
      const counted = async () => (await s.listCommands({ requestType: 'ChunkedFanOut' }, { limit: 10 })).map((c) => c.targetsByState.queued);
      assert.deepEqual(await counted(), [known.length]);
      for (const id of known) assert.deepEqual((await s.listQueue(id))?.map((q) => q.commandUuid), ['fan-chunks']);
      await assert.rejects(s.enqueue(command, asked, LATER), DuplicateCommandError);
      assert.deepEqual(await counted(), [known.length], 'a refused repeat queues nothing');
    });

    it('hands out commands in queue order and completes them idempotently', async () => {
      await s.enqueue(cmd('q-2'), ['Q1'], AT);
      assert.equal((await s.nextCommand('Q1'))?.uuid, 'q-1');
      const ack = { enrollmentId: 'Q1', commandUuid: 'q-1', status: 'Acknowledged' as const, raw: bytes('r1'), errorChain: null, at: LATER };
      assert.equal((await s.recordResult(ack)).outcome, 'completed');
      assert.equal((await s.recordResult({ ...ack, raw: bytes('r2') })).outcome, 'replayed');
      assert.deepEqual(Buffer.from((await s.getCommand('q-1'))!.targets[0]!.result!), Buffer.from('r1'));
      assert.equal((await s.nextCommand('Q1'))?.uuid, 'q-2');
      assert.equal((await s.recordResult({ ...ack, commandUuid: 'never' })).outcome, 'unknown-command');
      assert.equal((await s.recordResult({ ...ack, enrollmentId: 'NOPE' })).outcome, 'unknown-enrollment');
      assert.equal((await s.getEnrollment('Q1'))?.lastStatus, 'Acknowledged');
    });

    it('defers a NotNow command for the session and re-queues it when the next session starts', async () => {
      const notNow = { enrollmentId: 'Q1', commandUuid: 'q-2', status: 'NotNow' as const, raw: bytes('nn'), errorChain: null, at: LATER };
      assert.equal(await s.hasDeferred('Q1'), false);
      assert.equal((await s.recordResult(notNow)).outcome, 'notnow');
      assert.equal(await s.hasDeferred('Q1'), true);
      assert.equal(await s.nextCommand('Q1'), undefined);
      const nextDay = '2026-01-02T08:00:00.000Z';
      assert.equal(await s.startSession('Q1', nextDay), true);
      assert.equal((await s.nextCommand('Q1'))?.uuid, 'q-2');
      const seen = await s.getEnrollment('Q1');
      assert.equal(seen?.lastStatus, 'Idle');
      assert.equal(seen?.lastSeenAt, nextDay);
      assert.equal((await s.getCommand('q-2'))!.targets[0]!.notNowCount, 1);
      assert.equal(await s.startSession('NOPE', LATER), false);
    });

    it('stores Error results with their ErrorChain', async () => {
      const chain = [{ ErrorCode: 1, ErrorDomain: 'd' }];
      await s.recordResult({ enrollmentId: 'Q1', commandUuid: 'q-2', status: 'Error', raw: bytes('e'), errorChain: chain, at: LATER });
      const target = (await s.getCommand('q-2'))!.targets[0]!;
      assert.equal(target.state, 'error');
      assert.deepEqual(target.errorChain, chain);
    });

    it('cancels the pending queue of a re-enrolling device, but stores a result for a cancelled command', async () => {
      await s.enqueue(cmd('q-3'), ['Q1'], AT);
      const again = await s.authenticate({ id: 'Q1', type: 'device', serialNumber: 'SN', platform: 'macOS', osVersion: '15.1', facts: {}, topic: 't', keepPendingCommands: false, at: LATER });
      assert.deepEqual(again, { created: false });
      assert.equal((await s.getEnrollment('Q1'))?.state, 'authenticated');
      assert.equal(await s.nextCommand('Q1'), undefined);
      assert.equal((await s.getCommand('q-3'))!.targets[0]!.state, 'cancelled');
      const ack = { enrollmentId: 'Q1', commandUuid: 'q-3', status: 'Acknowledged' as const, raw: bytes('late'), errorChain: null, at: LATER };
      assert.equal((await s.recordResult(ack)).outcome, 'completed');
      assert.equal((await s.getCommand('q-3'))!.targets[0]!.state, 'acknowledged');
    });

    it('keeps the queue of a device re-authenticating for a profile replacement, when told to', async () => {
      await s.enqueue(cmd('keep-1'), ['Q1'], LATER);
      await s.authenticate({ id: 'Q1', type: 'device', serialNumber: 'SN', platform: 'macOS', osVersion: '15.1', facts: {}, topic: 't', keepPendingCommands: true, at: LATER });
      assert.deepEqual((await s.listQueue('Q1'))?.map((q) => q.commandUuid), ['keep-1']);
      await s.cancelPending('Q1', null, LATER);
    });

    it('escrows, returns and deletes bootstrap tokens', async () => {
      await enrolled('B1');
      assert.equal(await s.getBootstrapToken('B1', AT), null);
      assert.equal(await s.setBootstrapToken('B1', bytes('bt'), AT), true);
      assert.deepEqual(Buffer.from((await s.getBootstrapToken('B1', AT))!), Buffer.from('bt'));
      assert.equal(await s.setBootstrapToken('B1', null, AT), true);
      assert.equal(await s.getBootstrapToken('B1', AT), null);
      assert.equal(await s.getBootstrapToken('NOPE', AT), undefined);
      assert.equal(await s.setBootstrapToken('NOPE', bytes('x'), AT), false);
    });

    it('lists enrollments with filters and pages them by id', async () => {
      const all = await s.listEnrollments({}, { limit: 1000 });
      assert.deepEqual(all.map((e) => e.id), [...all.map((e) => e.id)].sort());
      const firstPage = await s.listEnrollments({}, { limit: 2 });
      const secondPage = await s.listEnrollments({}, { after: firstPage[1]!.id, limit: 2 });
      assert.deepEqual([...firstPage, ...secondPage].map((e) => e.id), all.slice(0, 4).map((e) => e.id));
      assert.deepEqual((await s.listEnrollments({ channel: 'user' }, { limit: 10 })).map((e) => e.id), ['D2:U']);
      assert.deepEqual((await s.listEnrollments({ deviceId: 'D2' }, { limit: 10 })).map((e) => e.id), ['D2', 'D2:U']);
      assert.ok((await s.listEnrollments({ state: 'checked-out' }, { limit: 10 })).every((e) => e.state === 'checked-out'));
      assert.equal((await s.listEnrollments({ lastSeenBefore: AT }, { limit: 10 })).length, 0);
      assert.ok((await s.listEnrollments({ lastSeenAfter: AT }, { limit: 10 })).every((e) => e.lastSeenAt > AT));
    });

    it('lists, cancels one of, and clears a pending queue', async () => {
      await enrolled('C1');
      for (const uuid of ['c-1', 'c-2', 'c-3']) await s.enqueue(cmd(uuid), ['C1'], AT);
      await s.recordResult({ enrollmentId: 'C1', commandUuid: 'c-1', status: 'NotNow', raw: bytes('n'), errorChain: null, at: AT });
      const queue = await s.listQueue('C1');
      assert.deepEqual(queue?.map((q) => [q.commandUuid, q.state, q.notNowCount]), [['c-1', 'notnow', 1], ['c-2', 'queued', 0], ['c-3', 'queued', 0]]);
      assert.equal(await s.cancelPending('C1', 'c-2', LATER), 1);
      assert.equal(await s.cancelPending('C1', 'c-2', LATER), 0, 'already cancelled');
      assert.deepEqual((await s.listQueue('C1'))?.map((q) => q.commandUuid), ['c-1', 'c-3']);
      assert.equal(await s.cancelPending('C1', null, LATER), 2);
      assert.deepEqual(await s.listQueue('C1'), []);
      assert.equal(await s.listQueue('NOPE'), undefined);
      assert.equal(await s.cancelPending('NOPE', null, LATER), undefined);
    });

    it("pages an enrollment's command history newest first", async () => {
      const history = await s.listEnrollmentCommands('C1', { limit: 2 });
      assert.deepEqual(history?.map((h) => h.commandUuid), ['c-3', 'c-2']);
      const older = await s.listEnrollmentCommands('C1', { before: history![1]!.seq, limit: 2 });
      assert.deepEqual(older?.map((h) => [h.commandUuid, h.state, h.requestType]), [['c-1', 'cancelled', 'ProfileList']]);
      assert.equal(await s.listEnrollmentCommands('NOPE', { limit: 2 }), undefined);
    });

    it('counts commands and enrollments by state, and takes a heartbeat write', async () => {
      const stats = await s.stats();
      const history = await s.listEnrollmentCommands('C1', { limit: 100 });
      assert.ok(stats.commandTargetsByState.cancelled >= history!.filter((h) => h.state === 'cancelled').length);
      assert.equal(stats.commandTargetsByState.acknowledged >= 1, true);
      const users = stats.enrollments.filter((e) => e.channel === 'user').reduce((n, e) => n + e.count, 0);
      assert.equal(users, (await s.listEnrollments({ channel: 'user' }, { limit: 1000 })).length);
      await s.heartbeat(LATER);
    });

    it('prunes old final results, commands left without targets, and long checked-out enrollments', async () => {
      await enrolled('P1');
      await enrolled('P2');
      await s.enqueue(cmd('p-old'), ['P1', 'P2'], AT);
      await s.enqueue(cmd('p-pending'), ['P1'], AT);
      await s.recordResult({ enrollmentId: 'P1', commandUuid: 'p-old', status: 'Acknowledged', raw: bytes('r'), errorChain: null, at: AT });
      await s.checkOut('P2', AT);
      const counts = await s.prune({ resultsBefore: LATER, checkedOutBefore: LATER });
      assert.ok(counts.results >= 1);
      assert.ok(counts.enrollments >= 1);
      assert.equal(await s.getEnrollment('P2'), undefined, 'checked out before the cutoff');
      assert.equal(await s.getCommand('p-old'), undefined, 'its last target went with P2 and its result with the cutoff');
      assert.deepEqual((await s.listQueue('P1'))?.map((q) => q.commandUuid), ['p-pending'], 'pending commands are never pruned');
      assert.ok(await s.getEnrollment('P1'));
      assert.deepEqual(await s.prune({ resultsBefore: null, checkedOutBefore: null }), { results: 0, commands: 0, enrollments: 0 });
    });

    it('gives push credentials, records push results, and only a TokenUpdate revives a dead token', async () => {
      await enrolled('PUSH-1');
      const targets = await s.getPushTargets(['PUSH-1', 'NOPE']);
      assert.deepEqual([...targets.keys()], ['PUSH-1']);
      const t = targets.get('PUSH-1')!;
      assert.equal(t.state, 'enrolled');
      assert.equal(t.pushMagic, 'magic');
      assert.equal(t.pushTokenInvalid, false);

      assert.equal(t.sandbox, false);
      await s.recordPushResults([{ id: 'PUSH-1', pushToken: t.pushToken!, result: 'pushed', tokenInvalid: false, sandbox: true }], AT);
      assert.equal((await s.getPushTargets(['PUSH-1'])).get('PUSH-1')?.sandbox, true);
      await s.recordPushResults([{ id: 'PUSH-1', pushToken: t.pushToken!, result: 'Unregistered', tokenInvalid: true, sandbox: true }], LATER);
      let e = await s.getEnrollment('PUSH-1');
      assert.equal(e?.pushTokenInvalid, true);
      assert.equal(e?.lastPushResult, 'Unregistered');
      assert.equal(e?.lastPushAt, LATER);

      await s.tokenUpdate(tokenUpdate('PUSH-1', { pushToken: bytes('new-token') }));
      assert.equal((await s.getEnrollment('PUSH-1'))?.pushTokenInvalid, false);
      assert.equal((await s.getPushTargets(['PUSH-1'])).get('PUSH-1')?.sandbox, false, 'a new token starts in production');
      // A late verdict about the old token does not kill the new one.
      await s.recordPushResults([{ id: 'PUSH-1', pushToken: t.pushToken!, result: 'Unregistered', tokenInvalid: true, sandbox: false }], LATER);
      e = await s.getEnrollment('PUSH-1');
      assert.equal(e?.pushTokenInvalid, false);
    });

    it('stores one push certificate, replacing it on upload', async () => {
      assert.equal(await s.getPushCertificate(), undefined);
      const cert = { certPem: 'C1', keyPem: 'K1', topic: 'com.apple.mgmt.x', notAfter: LATER, updatedAt: AT };
      await s.savePushCertificate(cert);
      await s.savePushCertificate({ ...cert, certPem: 'C2', updatedAt: LATER });
      assert.deepEqual(await s.getPushCertificate(), { ...cert, certPem: 'C2', updatedAt: LATER });
    });

    it('admits certificates through a decision made on facts read with it', async () => {
      await enrolled('ID-1');
      const binding: IdentityBinding = { fingerprint: 'f1', deviceId: 'ID-1', subject: 'CN=x', notAfter: LATER, boundAt: AT, anchor: 'ca-1' };
      const seen: AdmissionFacts[] = [];
      const decide = (bind: boolean, consumeRenewal = false) => (f: AdmissionFacts) => (seen.push(f), { bind, consumeRenewal, label: 'mine' });
      assert.deepEqual(await s.admitIdentity(binding, decide(true)), { bind: true, consumeRenewal: false, label: 'mine' }, 'the decision comes back');
      assert.equal(seen[0]!.boundTo, undefined);
      assert.deepEqual(seen[0]!.deviceBindings, []);
      assert.deepEqual(seen[0]!.device, { state: 'enrolled', serialNumber: 'SN', identityRenewalUntil: null });
      assert.deepEqual(await s.getIdentityBinding('f1'), binding);

      await s.admitIdentity({ ...binding, fingerprint: 'f2', boundAt: LATER }, decide(false));
      assert.equal(await s.getIdentityBinding('f2'), undefined, 'nothing bound when the decision says no');
      assert.deepEqual(seen[1]!.deviceBindings, [binding]);
      await s.admitIdentity({ ...binding, deviceId: 'OTHER' }, decide(false));
      assert.equal(seen[2]!.boundTo, 'ID-1');
      assert.equal(seen[2]!.device, undefined, 'no such device');

      await s.setIdentityRenewal('ID-1', LATER);
      assert.equal((await s.getEnrollment('ID-1'))?.identityRenewalUntil, LATER);
      await s.admitIdentity({ ...binding, fingerprint: 'f2', boundAt: LATER }, decide(true, true));
      assert.equal(seen[3]!.device?.identityRenewalUntil, LATER);
      assert.equal((await s.getEnrollment('ID-1'))?.identityRenewalUntil, null, 'the window is used up');
      assert.deepEqual((await s.listIdentityBindings('ID-1')).map((b) => b.fingerprint), ['f1', 'f2']);
      assert.equal(await s.getIdentityBinding('nope'), undefined);

      await s.unbindIdentity('f1', 'OTHER');
      assert.equal((await s.listIdentityBindings('ID-1')).length, 2, 'only the named device loses a binding');
      await s.unbindIdentity('f2', 'ID-1');
      assert.deepEqual((await s.listIdentityBindings('ID-1')).map((b) => b.fingerprint), ['f1']);
      assert.equal(await s.unbindIdentities('ID-1'), 1);
      assert.deepEqual(await s.listIdentityBindings('ID-1'), []);
      await s.admitIdentity({ ...binding, deviceId: 'OTHER' }, firstUse);
      assert.equal((await s.getIdentityBinding('f1'))?.deviceId, 'OTHER', 'free again');
    });

    it('admits a new certificate and writes its Authenticate in one step, and writes neither when refused', async () => {
      const binding: IdentityBinding = { fingerprint: 'aa-1', deviceId: 'AA-1', subject: 'CN=x', notAfter: LATER, boundAt: AT, anchor: 'ca-1' };
      const record = (keep: boolean): AuthenticateRecord => ({ id: 'AA-1', type: 'device', serialNumber: 'SN-AA', platform: 'iOS', osVersion: '18.0', facts: {}, topic: 't', keepPendingCommands: keep, at: AT });
      const seen: AdmissionFacts[] = [];
      const admitted = await s.admitAuthenticate(binding, (f) => (seen.push(f), { ...firstUse(f), label: 'mine' }), (d) => (d.bind ? record(false) : null));
      assert.deepEqual(admitted, { decision: { bind: true, consumeRenewal: false, label: 'mine' }, created: true });
      assert.equal(seen[0]!.device, undefined, 'decided before the enrollment existed');
      assert.deepEqual(await s.getIdentityBinding('aa-1'), binding);
      assert.equal((await s.getEnrollment('AA-1'))?.serialNumber, 'SN-AA');

      // A second certificate for the enrolled device is refused: no binding, no Authenticate.
      await s.tokenUpdate(tokenUpdate('AA-1'));
      const refused = await s.admitAuthenticate({ ...binding, fingerprint: 'aa-2' }, firstUse, (d) => (d.bind ? record(false) : null));
      assert.deepEqual(refused, { decision: { bind: false, consumeRenewal: false } });
      assert.equal(await s.getIdentityBinding('aa-2'), undefined);
      assert.equal((await s.getEnrollment('AA-1'))?.state, 'enrolled', 'the enrollment is not reset');

      // A renewal: bound, the window used up, and the Authenticate written with it.
      await s.enqueue(cmd('aa-cmd'), ['AA-1'], AT);
      await s.setIdentityRenewal('AA-1', LATER);
      const renewal = (f: AdmissionFacts) => ({ bind: true, consumeRenewal: f.device?.identityRenewalUntil === LATER });
      const renewed = await s.admitAuthenticate({ ...binding, fingerprint: 'aa-3' }, renewal, (d) => record(d.consumeRenewal));
      assert.deepEqual(renewed, { decision: { bind: true, consumeRenewal: true }, created: false });
      const reset = await s.getEnrollment('AA-1');
      assert.equal(reset?.state, 'authenticated');
      assert.equal(reset?.identityRenewalUntil, null);
      assert.equal((await s.nextCommand('AA-1'))?.uuid, 'aa-cmd', 'kept, as the record asked');
    });

    it('schedules, claims, coalesces and finishes background jobs', async () => {
      const at = (minutes: number) => new Date(Date.parse(AT) + minutes * 60_000).toISOString();
      await s.scheduleJob({ key: 'j:a', kind: 'a', payload: { n: 1 }, runAt: at(10) });
      await s.scheduleJob({ key: 'j:a', kind: 'a', payload: { n: 1 }, runAt: at(20) });
      await s.scheduleJob({ key: 'j:b', kind: 'b', runAt: at(5) });
      assert.deepEqual((await s.listJobs()).map((j) => [j.key, j.runAt]), [['j:b', at(5)], ['j:a', at(10)]], 'the earlier run time is kept');
      assert.deepEqual(await s.claimJobs(at(1), at(61), 10), [], 'nothing is due yet');

      const claimed = await s.claimJobs(at(10), at(70), 10);
      const a = claimed.find((j) => j.key === 'j:a');
      const b = claimed.find((j) => j.key === 'j:b');
      assert.equal(claimed.length, 2);
      assert.deepEqual(a?.payload, { n: 1 });
      assert.equal(a?.attempts, 1);
      assert.deepEqual(await s.claimJobs(at(11), at(71), 10), [], 'a leased job is not claimed twice');

      await s.finishJob(b!, null);
      // Scheduled again while it runs: it runs again afterwards, not now.
      await s.scheduleJob({ key: 'j:a', kind: 'a', payload: { n: 2 }, runAt: at(30) });
      await s.finishJob(a!, null);
      assert.deepEqual((await s.listJobs()).map((j) => [j.key, j.runAt, j.payload]), [['j:a', at(30), { n: 2 }]]);

      // A crashed instance's lease runs out; its late finish then changes nothing.
      const [lost] = await s.claimJobs(at(30), at(31), 1);
      const [taken] = await s.claimJobs(at(32), at(92), 1);
      assert.equal(taken?.key, 'j:a');
      assert.equal(taken?.attempts, 2);
      await s.finishJob(lost!, null);
      assert.equal((await s.listJobs()).length, 1, 'the lost claim cannot remove the job');
      await s.finishJob(taken!, { runAt: at(120), error: 'failed' });
      assert.deepEqual((await s.listJobs()).map((j) => [j.runAt, j.attempts]), [[at(120), 2]], 'a retry keeps its attempts');
      const [again] = await s.claimJobs(at(120), at(180), 1);
      await s.finishJob(again!, { runAt: at(240) });
      assert.deepEqual((await s.listJobs()).map((j) => [j.runAt, j.attempts]), [[at(240), 0]], 'a periodic run starts afresh');
    });

    it('keeps shared secrets: the first one stored is everyone’s', async () => {
      let calls = 0;
      const make = (v: string) => () => (calls++, v);
      assert.deepEqual(await s.sharedSecret('k', make('one')), { value: 'one', created: true });
      assert.deepEqual(await s.sharedSecret('k', make('two')), { value: 'one', created: false });
      assert.equal(calls, 1, 'nothing is generated once one exists');
    });

    describe('events and webhook deliveries', () => {
      const endpoint = (id: string, topics: string[] | null = null): WebhookEndpoint => ({
        id,
        url: `http://127.0.0.1:1/${id}`,
        secret: 's',
        format: 'micromdm',
        topics,
        includeSecrets: false,
        enabled: true,
        disabledReason: null,
        source: 'api',
        createdAt: AT,
        updatedAt: AT,
      });
      let n = 0;
      const draft = (topic: string, chain: string | null, data: Record<string, unknown> = {}): EventDraft => ({
        id: `ev-${++n}`,
        topic,
        chain,
        at: AT,
        data,
        raw: bytes('<raw>'),
        redacted: null,
      });
      const far = '2030-01-01T00:00:00.000Z';

      it('keeps an event only when an enabled endpoint subscribes to its topic, with a delivery for each', async () => {
        const lonely = draft('mdm.Authenticate', 'EV-1');
        await s.events.record(lonely);
        assert.equal(await s.events.getEvent(lonely.id), undefined, 'nobody subscribes: not kept');
        await s.events.createEndpoint(endpoint('all'));
        await s.events.createEndpoint(endpoint('connect-only', ['mdm.Connect']));
        const auth = draft('mdm.Authenticate', 'EV-1', { udid: 'EV-1' });
        await s.events.record(auth);
        const stored = await s.events.getEvent(auth.id);
        assert.deepEqual([stored?.topic, stored?.chain, stored?.sequence, stored?.data], ['mdm.Authenticate', 'EV-1', 1, { udid: 'EV-1' }]);
        assert.deepEqual(Buffer.from(stored!.raw!), Buffer.from('<raw>'));
        assert.equal((await s.events.listDeliveries('all', {}, { limit: 10 })).length, 1);
        assert.equal((await s.events.listDeliveries('connect-only', {}, { limit: 10 })).length, 0, 'not its topic');
        await s.events.record(draft('mdm.Connect', 'EV-1'));
        assert.equal((await s.events.listDeliveries('connect-only', {}, { limit: 10 })).length, 1);
        assert.equal((await s.events.getEvent(`ev-${n}`))?.sequence, 2, 'numbered within its chain');
      });

      it('writes the event with the change it describes, and not for a change that did not happen', async () => {
        await enrolled('EV-2');
        await s.enqueue(cmd('ev-cmd'), ['EV-2', 'NOPE'], AT, { event: draft('command.queued', null, { command_uuid: 'ev-cmd' }) });
        const queued = await s.events.getEvent(`ev-${n}`);
        assert.deepEqual(queued?.data, { command_uuid: 'ev-cmd', targets: ['EV-2'] }, 'storage adds the targets it reached');
        const ack = { enrollmentId: 'EV-2', commandUuid: 'ev-cmd', status: 'Acknowledged' as const, raw: bytes('r'), errorChain: null, at: LATER };
        const first = draft('mdm.Connect', 'EV-2');
        await s.recordResult({ ...ack, event: first });
        assert.ok(await s.events.getEvent(first.id));
        const replay = draft('mdm.Connect', 'EV-2');
        await s.recordResult({ ...ack, event: replay });
        assert.equal(await s.events.getEvent(replay.id), undefined, 'a replay changed nothing: no event');
        const idle = draft('mdm.Connect', 'EV-2');
        assert.equal(await s.startSession('EV-2', LATER, idle), true);
        assert.ok(await s.events.getEvent(idle.id));
        const unknown = draft('mdm.Connect', 'NOPE');
        assert.equal(await s.startSession('NOPE', LATER, unknown), false);
        assert.equal(await s.events.getEvent(unknown.id), undefined);
        await s.enqueue(cmd('ev-cmd-2'), ['EV-2'], AT);
        const cancel = draft('command.cancelled', 'EV-2', { enrollment_id: 'EV-2' });
        assert.equal(await s.cancelPending('EV-2', null, LATER, cancel), 1);
        assert.deepEqual((await s.events.getEvent(cancel.id))?.data, { enrollment_id: 'EV-2', command_uuids: ['ev-cmd-2'] });
        const checkout = draft('mdm.CheckOut', 'EV-2');
        assert.equal(await s.checkOut('EV-2', LATER, checkout), true);
        assert.ok(await s.events.getEvent(checkout.id));
        const tokens = draft('mdm.TokenUpdate', 'EV-2');
        assert.equal(await s.tokenUpdate(tokenUpdate('EV-2', { event: tokens })), 'newly-enrolled');
        assert.ok(await s.events.getEvent(tokens.id));
      });

      it("delivers each chain in order: only a chain's first pending delivery is claimed, once", async () => {
        // Start from nothing pending: deliver, chain by chain, what earlier tests left.
        for (let left = await s.events.claimDeliveries(AT, LATER, 1000); left.length > 0; left = await s.events.claimDeliveries(AT, LATER, 1000)) {
          for (const d of left) await s.events.finishDelivery(d, { delivered: true, status: 200, latencyMs: 1 }, AT);
        }
        const [t0, lease, retry, retryLease, later] = ['2026-02-01', '2026-02-02', '2026-03-01', '2026-03-02', '2026-04-01'].map((d) => `${d}T00:00:00.000Z`);
        // CheckOut: only the endpoint for every topic gets these.
        const a1 = draft('mdm.CheckOut', 'ORDER-A');
        const a2 = draft('mdm.CheckOut', 'ORDER-A');
        const b1 = draft('mdm.CheckOut', 'ORDER-B');
        for (const d of [a1, a2, b1]) await s.events.record(d);
        const first = await s.events.claimDeliveries(t0!, lease!, 100);
        assert.deepEqual(first.map((d) => d.event.id).sort(), [a1.id, b1.id].sort(), 'a2 waits for a1');
        assert.deepEqual(await s.events.claimDeliveries(t0!, lease!, 100), [], 'claimed ones are leased');
        const a = first.find((d) => d.event.id === a1.id)!;
        const b = first.find((d) => d.event.id === b1.id)!;
        assert.equal(a.attempt, 1);
        assert.equal(a.endpoint.url, 'http://127.0.0.1:1/all');
        await s.events.finishDelivery(a, { delivered: false, retryAt: retry!, status: 500, error: 'HTTP 500', latencyMs: 3 }, t0!);
        await s.events.releaseDelivery(b);
        assert.equal((await s.events.listDeliveries('all', { state: 'pending' }, { limit: 10 })).find((d) => d.eventId === b1.id)?.attempts, 0, 'handed back untried');
        const meanwhile = await s.events.claimDeliveries(t0!, lease!, 100);
        assert.deepEqual(meanwhile.map((d) => d.event.id), [b1.id], 'a1 waits for its retry, and a2 behind it');
        await s.events.finishDelivery(meanwhile[0]!, { delivered: true, status: 200, latencyMs: 4 }, t0!);
        const [again] = await s.events.claimDeliveries(retry!, retryLease!, 100);
        assert.deepEqual([again?.event.id, again?.attempt], [a1.id, 2]);
        await s.events.finishDelivery(again!, { delivered: true, status: 204, latencyMs: 5 }, retry!);
        const next = await s.events.claimDeliveries(retry!, retryLease!, 100);
        assert.deepEqual(next.map((d) => d.event.id), [a2.id]);
        await s.events.finishDelivery(next[0]!, { delivered: false, retryAt: null, status: 400, error: 'HTTP 400', latencyMs: 2 }, retry!);
        assert.deepEqual(await s.events.claimDeliveries(later!, later!, 100), [], 'a dead delivery is not claimed');
        const log = await s.events.listDeliveries('all', {}, { limit: 3 });
        assert.deepEqual(log.map((d) => [d.eventId, d.state, d.attempts, d.lastStatus]), [
          [b1.id, 'delivered', 1, 200],
          [a2.id, 'dead', 1, 400],
          [a1.id, 'delivered', 2, 204],
        ]);
        assert.deepEqual((await s.events.listDeliveries('all', { state: 'dead' }, { limit: 10 })).map((d) => d.eventId), [a2.id]);
        const stats = await s.events.stats();
        assert.ok(stats.dead >= 1 && stats.delivered >= 2);
      });

      it('replays dead and delivered events, and skips disabled endpoints until enabled again', async () => {
        const dead = (await s.events.listDeliveries('all', { state: 'dead' }, { limit: 1 }))[0]!;
        assert.equal(await s.events.replay('all', { eventId: dead.eventId }, far), 1);
        assert.equal((await s.events.listDeliveries('all', { state: 'dead' }, { limit: 10 })).length, 0);
        assert.ok((await s.events.replay('all', { since: AT }, far)) >= 3, 'everything since a time, delivered ones too');
        assert.equal(await s.events.replay('nope', { since: AT }, far), 0);
        const off = await s.events.updateEndpoint('all', { enabled: false, disabledReason: 'the receiver answered 410 Gone' }, far);
        assert.deepEqual([off?.enabled, off?.disabledReason], [false, 'the receiver answered 410 Gone']);
        assert.deepEqual((await s.events.claimDeliveries(far, far, 100)).filter((d) => d.endpoint.id === 'all'), []);
        const on = await s.events.updateEndpoint('all', { enabled: true }, far);
        assert.deepEqual([on?.enabled, on?.disabledReason], [true, null], 'enabling clears why it was off');
        const claimed = await s.events.claimDeliveries(far, '2032-01-01T00:00:00.000Z', 100);
        assert.ok(claimed.some((d) => d.endpoint.id === 'all'));
        for (const d of claimed) await s.events.finishDelivery(d, { delivered: true, status: 200, latencyMs: 1 }, far);
      });

      it('prunes old events no delivery waits for; deleting an endpoint takes its deliveries', async () => {
        const waiting = draft('mdm.Connect', 'PRUNE-1');
        await s.events.record(waiting);
        assert.ok((await s.events.prune('2040-01-01T00:00:00.000Z')) > 0);
        assert.ok(await s.events.getEvent(waiting.id), 'still to be delivered: kept');
        assert.equal(await s.events.deleteEndpoint('all'), true);
        assert.equal(await s.events.deleteEndpoint('connect-only'), true);
        assert.equal(await s.events.deleteEndpoint('all'), false);
        assert.ok((await s.events.prune('2040-01-01T00:00:00.000Z')) >= 1);
        assert.equal(await s.events.getEvent(waiting.id), undefined);
        assert.deepEqual(await s.events.listEndpoints(), []);
      });
    });

    describe('concurrency, from separate connections', () => {
      let t: Storage;
      before(async () => {
        t = await backend.second();
      });
      after(() => t.close());
      const ROUNDS = 12;

      it('two first Authenticates with different certificates: exactly one binds', async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const device = `RACE-AUTH-${i}`;
          const binding = (f: string): IdentityBinding => ({ fingerprint: `${device}-${f}`, deviceId: device, subject: 'CN=x', notAfter: LATER, boundAt: AT, anchor: null });
          const both = await Promise.all([s.admitIdentity(binding('a'), firstUse), t.admitIdentity(binding('b'), firstUse)]);
          assert.equal(both.filter((d) => d.bind).length, 1, `round ${i}: ${JSON.stringify(both)}`);
          assert.equal((await s.listIdentityBindings(device)).length, 1);
        }
      });

      it('two first Authenticates with different certificates, each with its write: one binds and authenticates', async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const device = `RACE-AA-${i}`;
          const binding = (f: string): IdentityBinding => ({ fingerprint: `${device}-${f}`, deviceId: device, subject: 'CN=x', notAfter: LATER, boundAt: AT, anchor: null });
          const record = (serial: string): AuthenticateRecord => ({ id: device, type: 'device', serialNumber: serial, platform: null, osVersion: null, facts: {}, topic: null, keepPendingCommands: false, at: AT });
          const both = await Promise.all([
            s.admitAuthenticate(binding('a'), firstUse, (d) => (d.bind ? record('a') : null)),
            t.admitAuthenticate(binding('b'), firstUse, (d) => (d.bind ? record('b') : null)),
          ]);
          const winners = both.filter((r) => r.decision.bind);
          assert.equal(winners.length, 1, `round ${i}: ${JSON.stringify(both)}`);
          const [bound] = await s.listIdentityBindings(device);
          assert.equal((await s.getEnrollment(device))?.serialNumber, bound!.fingerprint.slice(-1), 'the Authenticate written is the one admitted');
        }
      });

      it('the same result twice at once: stored once, the other is a replay', async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const id = `RACE-RES-${i}`;
          await enrolled(id);
          await s.enqueue(cmd(`race-res-${i}`), [id], AT);
          const ack = { enrollmentId: id, commandUuid: `race-res-${i}`, status: 'Acknowledged' as const, raw: bytes('r'), errorChain: null, at: LATER };
          const outcomes = (await Promise.all([s.recordResult(ack), t.recordResult({ ...ack, raw: bytes('other') })])).map((r) => r.outcome);
          assert.deepEqual(outcomes.sort(), ['completed', 'replayed'], `round ${i}`);
          assert.equal(await s.nextCommand(id), undefined);
        }
      });

      it('Idle racing Acknowledged: the result wins, the command is not handed out again', async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const id = `RACE-IDLE-${i}`;
          const uuid = `race-idle-${i}`;
          await enrolled(id);
          await s.enqueue(cmd(uuid), [id], AT);
          await s.recordResult({ enrollmentId: id, commandUuid: uuid, status: 'NotNow', raw: bytes('n'), errorChain: null, at: AT });
          const ack = { enrollmentId: id, commandUuid: uuid, status: 'Acknowledged' as const, raw: bytes('r'), errorChain: null, at: LATER };
          const [started, { outcome }] = await Promise.all([s.startSession(id, LATER), t.recordResult(ack)]);
          assert.equal(started, true);
          assert.equal(outcome, 'completed');
          assert.equal(await s.nextCommand(id), undefined, `round ${i}`);
          assert.equal((await s.getCommand(uuid))!.targets[0]!.state, 'acknowledged');
        }
      });

      it('cancel racing hand-out: once cancelled it is not handed out, and a result for it is still stored', async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const id = `RACE-CANCEL-${i}`;
          const uuid = `race-cancel-${i}`;
          await enrolled(id);
          await s.enqueue(cmd(uuid), [id], AT);
          const [cancelled] = await Promise.all([s.cancelPending(id, uuid, LATER), t.nextCommand(id)]);
          assert.equal(cancelled, 1);
          assert.equal(await t.nextCommand(id), undefined, `round ${i}`);
          const ack = { enrollmentId: id, commandUuid: uuid, status: 'Acknowledged' as const, raw: bytes('r'), errorChain: null, at: LATER };
          assert.equal((await t.recordResult(ack)).outcome, 'completed');
        }
      });

      it('fan-out while devices poll: every device gets the command queued exactly once', async () => {
        const ids = Array.from({ length: 60 }, (_, i) => `RACE-FAN-${i}`);
        for (const id of ids) await enrolled(id);
        const polls = Promise.all(ids.map((id) => t.nextCommand(id)));
        const [outcomes] = await Promise.all([s.enqueue(cmd('race-fan'), ids, AT), polls]);
        assert.ok([...outcomes.values()].every((o) => o === 'queued'));
        for (const id of ids) assert.deepEqual((await t.listQueue(id))?.map((q) => q.commandUuid), ['race-fan']);
      });

      it('an unbind on one connection while another admits: never the old binding, never two', async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const device = `RACE-UNBIND-${i}`;
          const binding = (f: string): IdentityBinding => ({ fingerprint: `${device}-${f}`, deviceId: device, subject: 'CN=x', notAfter: LATER, boundAt: AT, anchor: null });
          await s.admitIdentity(binding('old'), firstUse);
          await Promise.all([s.unbindIdentities(device), t.admitIdentity(binding('new'), firstUse)]);
          const left = (await s.listIdentityBindings(device)).map((b) => b.fingerprint);
          assert.ok(left.length === 0 || (left.length === 1 && left[0] === `${device}-new`), `round ${i}: ${left.join(',')}`);
        }
      });

      it('instances polling for jobs at once claim each job once', async () => {
        for (let i = 0; i < 20; i++) await s.scheduleJob({ key: `race-job-${i}`, kind: 'race', runAt: AT });
        const [mine, theirs] = await Promise.all([s.claimJobs(LATER, '2027-01-01T00:00:00.000Z', 15), t.claimJobs(LATER, '2027-01-01T00:00:00.000Z', 15)]);
        const keys = [...mine, ...theirs].map((j) => j.key).filter((k) => k.startsWith('race-job-'));
        assert.equal(keys.length, 20);
        assert.equal(new Set(keys).size, 20);
        for (const job of [...mine, ...theirs]) await s.finishJob(job, null);
      });

      it('instances delivering at once never claim a delivery twice, nor two of one chain', async () => {
        const at = '2026-01-01T00:00:00.000Z';
        await s.events.createEndpoint({ id: 'race', url: 'http://127.0.0.1:1/', secret: 's', format: 'micromdm', topics: null, includeSecrets: false, enabled: true, disabledReason: null, source: 'api', createdAt: at, updatedAt: at });
        for (let i = 0; i < 40; i++) await s.events.record({ id: `race-ev-${i}`, topic: 'mdm.Connect', chain: `RACE-CHAIN-${i % 8}`, at, data: {}, raw: null, redacted: null });
        const [now, lease] = ['2030-01-01T00:00:00.000Z', '2030-01-01T00:05:00.000Z'];
        const [mine, theirs] = await Promise.all([s.events.claimDeliveries(now, lease, 30), t.events.claimDeliveries(now, lease, 30)]);
        const claimed = [...mine, ...theirs];
        assert.equal(new Set(claimed.map((d) => d.event.id)).size, claimed.length, 'no delivery claimed twice');
        assert.equal(new Set(claimed.map((d) => d.event.chain)).size, claimed.length, 'one per chain at a time');
        assert.equal(claimed.length, 8);
        await s.events.deleteEndpoint('race');
      });

      it('a secret created by two instances at once is one secret', async () => {
        const [a, b] = await Promise.all([s.sharedSecret('race', () => 'from-a'), t.sharedSecret('race', () => 'from-b')]);
        assert.equal(a.value, b.value);
        assert.equal([a, b].filter((x) => x.created).length, 1);
      });
    });

    it('says which command a result answered', async () => {
      await enrolled('RT-1');
      await s.enqueue(cmd('rt-1'), ['RT-1'], AT);
      const ack = { enrollmentId: 'RT-1', commandUuid: 'rt-1', status: 'Acknowledged' as const, raw: bytes('r'), errorChain: null, at: LATER };
      assert.deepEqual(await s.recordResult(ack), { outcome: 'completed', requestType: 'ProfileList' });
      assert.deepEqual(await s.recordResult(ack), { outcome: 'replayed', requestType: 'ProfileList' });
      assert.deepEqual(await s.recordResult({ ...ack, commandUuid: 'nope' }), { outcome: 'unknown-command', requestType: null });
    });

    it('merges DeviceInformation answers into the inventory, and gates on what it learned', async () => {
      await enrolled('INV-1');
      assert.equal((await s.getEnrollment('INV-1'))?.supervised, null);
      assert.equal(await s.recordInventory({ deviceId: 'INV-1', values: { DeviceName: 'Mac 1', BatteryLevel: 0.5 }, deviceName: 'Mac 1', supervised: true, at: AT }), true);
      assert.equal(await s.recordInventory({ deviceId: 'INV-1', values: { OSVersion: '15.2', BatteryLevel: 0.9 }, osVersion: '15.2', multiUser: false, at: LATER }), true);
      const e = await s.getEnrollment('INV-1');
      assert.deepEqual(e?.inventory, { DeviceName: 'Mac 1', BatteryLevel: 0.9, OSVersion: '15.2' });
      assert.equal(e?.deviceName, 'Mac 1');
      assert.equal(e?.osVersion, '15.2');
      assert.equal(e?.serialNumber, 'SN', 'an answer without it keeps what was known');
      assert.equal(e?.supervised, true);
      assert.equal(e?.multiUser, false);
      assert.equal(e?.inventoryUpdatedAt, LATER);
      const [group] = await s.groupByTraits(['INV-1']);
      assert.deepEqual(group?.traits, { type: 'device', channel: 'device', platform: 'macOS', osVersion: '15.2', supervised: true, multiUser: false });
      assert.equal(await s.recordInventory({ deviceId: 'NOPE', values: {}, at: AT }), false);
    });

    it('filters enrollments by serial number, platform and topic', async () => {
      await enrolled('FLT-1');
      await s.recordInventory({ deviceId: 'FLT-1', values: {}, serialNumber: 'SERIAL-FLT-1', at: AT });
      await s.tokenUpdate(tokenUpdate('FLT-1:U', { deviceId: 'FLT-1', channel: 'user', type: 'user', userId: 'U', topic: 'com.apple.mgmt.other' }));
      const ids = async (filter: Parameters<Storage['listEnrollments']>[0]) => (await s.listEnrollments(filter, { limit: 1000 })).map((e) => e.id);
      assert.deepEqual(await ids({ serialNumber: 'SERIAL-FLT-1' }), ['FLT-1', 'FLT-1:U'], 'the device and its user channels');
      assert.deepEqual(await ids({ serialNumber: 'SERIAL-FLT-1', channel: 'device' }), ['FLT-1']);
      assert.ok((await ids({ platform: 'macOS' })).includes('FLT-1:U'), "a user channel has its device's platform");
      assert.deepEqual(await ids({ platform: 'iOS', serialNumber: 'SERIAL-FLT-1' }), []);
      assert.deepEqual(await ids({ topic: 'com.apple.mgmt.other' }), ['FLT-1:U']);
    });

    it('lists commands newest first, filtered, paged, with their targets counted by state', async () => {
      await enrolled('LC-1');
      await enrolled('LC-2');
      const at = (n: number) => `2026-03-0${n}T00:00:00.000Z`;
      await s.enqueue({ ...cmd('lc-1'), requestType: 'DeviceInformation' }, ['LC-1', 'LC-2'], at(1));
      await s.enqueue(cmd('lc-2'), ['LC-1'], at(2));
      await s.enqueue(cmd('lc-3'), ['LC-2'], at(3));
      await s.recordResult({ enrollmentId: 'LC-1', commandUuid: 'lc-1', status: 'Error', raw: bytes('e'), errorChain: [], at: at(4) });
      const since = { since: at(1) };
      const uuids = async (filter: Parameters<Storage['listCommands']>[0], before?: { createdAt: string; uuid: string }) =>
        (await s.listCommands({ ...since, ...filter }, { before, limit: 10 })).map((c) => c.uuid);
      assert.deepEqual(await uuids({}), ['lc-3', 'lc-2', 'lc-1']);
      assert.deepEqual(await uuids({ requestType: 'DeviceInformation' }), ['lc-1']);
      assert.deepEqual(await uuids({ target: 'LC-2' }), ['lc-3', 'lc-1']);
      assert.deepEqual(await uuids({ state: 'error' }), ['lc-1']);
      assert.deepEqual(await uuids({ since: at(2) }), ['lc-3', 'lc-2']);
      assert.deepEqual(await uuids({}, { createdAt: at(2), uuid: 'lc-2' }), ['lc-1'], 'the page after a cursor');
      const [first] = await s.listCommands({ requestType: 'DeviceInformation', ...since }, { limit: 1 });
      assert.deepEqual(first, {
        uuid: 'lc-1',
        requestType: 'DeviceInformation',
        createdAt: at(1),
        targetsByState: { queued: 1, notnow: 0, acknowledged: 0, error: 1, commandformaterror: 0, cancelled: 0 },
      });
    });

    it('forgets an enrollment: its user channels, queue, results and certificates', async () => {
      await enrolled('DEL-1');
      await s.tokenUpdate(tokenUpdate('DEL-1:U', { deviceId: 'DEL-1', channel: 'user', type: 'user', userId: 'U' }));
      await s.enqueue(cmd('del-1'), ['DEL-1', 'DEL-1:U', 'Q1'], AT);
      await s.admitIdentity({ fingerprint: 'del-f', deviceId: 'DEL-1', subject: 'CN=x', notAfter: LATER, boundAt: AT, anchor: null }, firstUse);
      assert.equal(await s.deleteEnrollment('DEL-1:U'), true, 'a user channel alone');
      assert.ok(await s.getEnrollment('DEL-1'));
      assert.equal(await s.deleteEnrollment('DEL-1'), true);
      assert.equal(await s.getEnrollment('DEL-1'), undefined);
      assert.deepEqual(await s.listIdentityBindings('DEL-1'), []);
      assert.deepEqual((await s.getCommand('del-1'))?.targets.map((t) => t.enrollmentId), ['Q1'], 'other targets keep the command');
      assert.equal(await s.deleteEnrollment('DEL-1'), false);
    });

    it('tells which CAs anchor the bound certificates, and the soonest expiry of an active one', async () => {
      await enrolled('ANC-1');
      await enrolled('ANC-2');
      const bind = (f: string, deviceId: string, notAfter: string, anchor: string | null) =>
        s.admitIdentity({ fingerprint: f, deviceId, subject: 'CN=x', notAfter, boundAt: AT, anchor }, () => ({ bind: true, consumeRenewal: false }));
      await bind('anc-a', 'ANC-1', '2030-01-01T00:00:00.000Z', 'root-1');
      await bind('anc-b', 'ANC-2', '2029-06-01T00:00:00.000Z', 'root-2');
      await bind('anc-c', 'ANC-2', '2031-01-01T00:00:00.000Z', 'root-2');
      const anchors = await s.identityAnchors();
      assert.equal(anchors.find((a) => a.anchor === 'root-1')?.devices, 1);
      assert.equal(anchors.find((a) => a.anchor === 'root-2')?.devices, 1, 'devices, not certificates');
      const soonest = (await s.stats()).soonestIdentityExpiry;
      assert.ok(soonest !== null && soonest <= '2029-06-01T00:00:00.000Z');
    });

    it('results arriving together all land, each with its own bytes; a failing one fails only its caller', async () => {
      const ids = Array.from({ length: 24 }, (_, i) => `GC-${i}`);
      for (const id of ids) await enrolled(id);
      for (const id of ids) await s.enqueue(cmd(`gc-${id}`), [id], AT);
      // Index 5's ErrorChain cannot be stored (a BigInt has no JSON); index 11's admission
      // decision throws: both inside writes that share their turn with the others.
      const chainOf = (i: number) => (i === 5 ? [{ ErrorCode: 1n }] : i % 3 === 0 ? [{ ErrorCode: i }] : null);
      const writes = ids.map((id, i) =>
        s.recordResult({ enrollmentId: id, commandUuid: `gc-${id}`, status: chainOf(i) ? 'Error' : 'Acknowledged', raw: bytes(`result of ${id}`), errorChain: chainOf(i), at: LATER }),
      );
      const refused = new Error('refused by the decision');
      const binding = (id: string): IdentityBinding => ({ fingerprint: `fp-${id}`, deviceId: id, subject: 'CN=x', notAfter: LATER, boundAt: AT, anchor: null });
      const admissions = ids.map((id, i) =>
        s.admitIdentity(binding(id), (f) => {
          if (i === 11) throw refused;
          return firstUse(f);
        }),
      );
      const settled = await Promise.allSettled([...writes, ...admissions]);
      const results = settled.slice(0, ids.length);
      const admitted = settled.slice(ids.length);
      for (const [i, id] of ids.entries()) {
        const target = (await s.getCommand(`gc-${id}`))!.targets[0]!;
        if (i === 5) {
          assert.equal(results[i]!.status, 'rejected');
          assert.ok((results[i] as PromiseRejectedResult).reason instanceof TypeError, String((results[i] as PromiseRejectedResult).reason));
          assert.equal(target.state, 'queued', 'the failed result changed nothing');
          assert.equal(target.result, null);
          assert.equal((await s.getEnrollment(id))?.lastStatus, 'TokenUpdate', 'not even last seen');
          continue;
        }
        assert.deepEqual(results[i], { status: 'fulfilled', value: { outcome: 'completed', requestType: 'ProfileList' } }, id);
        assert.equal(target.state, chainOf(i) ? 'error' : 'acknowledged', id);
        assert.deepEqual(Buffer.from(target.result!).toString(), `result of ${id}`);
        assert.deepEqual(target.errorChain, chainOf(i));
      }
      for (const [i, id] of ids.entries()) {
        if (i === 11) {
          assert.deepEqual(admitted[i], { status: 'rejected', reason: refused });
          assert.deepEqual(await s.listIdentityBindings(id), []);
        } else {
          assert.deepEqual(admitted[i], { status: 'fulfilled', value: { bind: true, consumeRenewal: false } }, id);
          assert.deepEqual((await s.listIdentityBindings(id)).map((b) => b.fingerprint), [`fp-${id}`]);
        }
      }
    });

    it('stores multi-megabyte results beside small ones, byte for byte, deciding as for any result', async () => {
      const ids = ['BIG-1', 'BIG-2', 'BIG-3'];
      for (const id of ids) await enrolled(id);
      for (const id of ids) await s.enqueue(cmd(`big-${id}`), [id], AT);
      const large = (n: number) => new Uint8Array(Buffer.alloc(4 * 1024 * 1024 + n, `<string>${n}</string>`));
      const raw = [large(1), bytes('small'), large(3)];
      const ack = (i: number) => ({ enrollmentId: ids[i]!, commandUuid: `big-${ids[i]}`, status: 'Acknowledged' as const, raw: raw[i]!, errorChain: null, at: LATER });
      const outcomes = await Promise.all(ids.map((_, i) => s.recordResult(ack(i))));
      assert.deepEqual(outcomes.map((o) => o.outcome), ['completed', 'completed', 'completed']);
      for (const [i, id] of ids.entries()) {
        assert.ok(Buffer.from((await s.getCommand(`big-${id}`))!.targets[0]!.result!).equals(Buffer.from(raw[i]!)), id);
        assert.equal(await s.nextCommand(id), undefined, 'dequeued when the result was answered');
      }
      assert.equal((await s.recordResult({ ...ack(0), raw: large(5) })).outcome, 'replayed');
      assert.equal((await s.recordResult({ ...ack(0), enrollmentId: 'NOPE', raw: large(5) })).outcome, 'unknown-enrollment');
      assert.ok(Buffer.from((await s.getCommand('big-BIG-1'))!.targets[0]!.result!).equals(Buffer.from(raw[0]!)), 'a replay changes nothing');
    });

    it('keeps everything committed across a reopen, and the last Idle seen', async () => {
      await enrolled('R1');
      const idleAt = '2026-01-03T00:00:00.000Z';
      assert.equal(await s.startSession('R1', idleAt), true);
      await s.enqueue(cmd('r-1'), ['R1'], AT);
      s = await backend.reopen();
      assert.equal((await s.getEnrollment('R1'))?.state, 'enrolled');
      assert.equal((await s.getEnrollment('R1'))?.lastSeenAt, idleAt);
      assert.equal((await s.nextCommand('R1'))?.uuid, 'r-1');
      assert.equal((await s.getEnrollment('Q1'))?.state, 'authenticated');
    });
  });
}
