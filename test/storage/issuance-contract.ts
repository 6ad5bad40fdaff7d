// The issuance store's contract (storage.issuance): invites, issued identities, revocation and
// renewal, the same on every backend, races across connections included.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NewInvite, NewIssuedIdentity } from '../../src/storage/issuance.ts';
import type { AdmissionFacts, IdentityBinding, Storage } from '../../src/storage/storage.ts';
import { tokenUpdate, type BackendUnderTest } from './contract.ts';

const AT = '2026-03-01T00:00:00.000Z';
const at = (days: number) => new Date(Date.parse(AT) + days * 86_400_000).toISOString();

let counter = 0;

function invite(extra: Partial<NewInvite> = {}): NewInvite {
  const n = ++counter;
  return {
    id: `invite-${n}`,
    tokenHash: `token-${n}`,
    challengeHash: `challenge-${n}`,
    label: `label ${n}`,
    createdAt: at(n / 1000),
    expiresAt: at(7),
    maxUses: 1,
    assign: null,
    renews: null,
    ...extra,
  };
}

function identity(extra: Partial<NewIssuedIdentity> = {}): NewIssuedIdentity {
  const n = ++counter;
  return {
    serial: `5E${n.toString(16).toUpperCase().padStart(6, '0')}`,
    fingerprint: `fp-${n}`,
    subject: `CN=device ${n}`,
    notBefore: AT,
    notAfter: at(365),
    issuedAt: AT,
    anchor: 'ca-fingerprint',
    ...extra,
  };
}

/** The certificate is bound when the device has none yet, and never when it was revoked. */
const firstUse = (f: AdmissionFacts) => ({ bind: !f.revoked && f.boundTo === undefined && f.deviceBindings.length === 0, consumeRenewal: false, revoked: f.revoked });

const binding = (fingerprint: string, deviceId: string, notAfter = at(365)): IdentityBinding => ({
  fingerprint,
  deviceId,
  subject: 'CN=x',
  notAfter,
  boundAt: AT,
  anchor: 'ca-fingerprint',
});

export function issuanceContract(name: string, open: () => Promise<BackendUnderTest>, options: { skip?: string | false } = {}): void {
  describe(`issuance contract: ${name}`, { skip: options.skip }, () => {
    let backend: BackendUnderTest;
    let s: Storage;
    before(async () => {
      backend = await open();
      s = backend.storage;
    });
    after(() => backend.destroy());

    async function enrolled(id: string): Promise<void> {
      await s.authenticate({ id, type: 'device', serialNumber: null, platform: 'iOS', osVersion: '18.1', facts: {}, topic: 't', keepPendingCommands: false, at: AT });
      assert.equal(await s.tokenUpdate(tokenUpdate(id, { at: AT })), 'newly-enrolled');
    }

    /** An identity issued through a fresh invite and bound to `deviceId` (as its Authenticate would). */
    async function boundIdentity(deviceId: string, extra: Partial<NewIssuedIdentity> = {}) {
      const created = await s.issuance.createInvite(invite());
      const issued = identity(extra);
      const outcome = await s.issuance.issueWithChallenge(`challenge-${created.id.slice('invite-'.length)}`, issued);
      assert.ok('issued' in outcome, JSON.stringify(outcome));
      const decision = await s.admitIdentity(binding(issued.fingerprint, deviceId, issued.notAfter), (f) => ({ bind: f.boundTo === undefined, consumeRenewal: false }));
      assert.equal(decision.bind, true);
      return { invite: created, issued };
    }

    it('creates invites and lists admins’ ones newest first, by state, page by page', async () => {
      const live = await s.issuance.createInvite(invite({ label: 'lab', assign: { sets: ['staff'], tags: ['ipad'] }, maxUses: 3 }));
      assert.deepEqual(
        { ...live, createdAt: undefined },
        { id: live.id, label: 'lab', createdAt: undefined, expiresAt: at(7), maxUses: 3, uses: 0, revokedAt: null, assign: { sets: ['staff'], tags: ['ipad'] }, renews: null },
      );
      const expired = await s.issuance.createInvite(invite({ expiresAt: at(-1) }));
      const revoked = await s.issuance.createInvite(invite());
      assert.equal((await s.issuance.revokeInvite(revoked.id, at(1)))?.revokedAt, at(1));
      assert.equal((await s.issuance.revokeInvite(revoked.id, at(2)))?.revokedAt, at(1), 'revoking again keeps the first time');
      assert.equal(await s.issuance.revokeInvite('nobody', AT), undefined);
      const renewal = await s.issuance.createInvite(invite({ renews: { serial: 'AA', deviceId: 'D' } }));

      const all = await s.issuance.listInvites({ at: AT }, { limit: 100 });
      const ids = all.map((i) => i.id);
      assert.deepEqual(ids.slice(0, 3), [revoked.id, expired.id, live.id], 'newest first');
      assert.ok(!ids.includes(renewal.id), 'renewal invites are not listed');
      const state = async (st: 'live' | 'expired' | 'revoked' | 'used') => (await s.issuance.listInvites({ state: st, at: AT }, { limit: 100 })).map((i) => i.id);
      assert.ok((await state('live')).includes(live.id));
      assert.ok(!(await state('live')).includes(expired.id));
      assert.ok((await state('expired')).includes(expired.id));
      assert.deepEqual((await state('revoked')).filter((id) => [live.id, expired.id, revoked.id].includes(id)), [revoked.id]);
      const first = await s.issuance.listInvites({ at: AT }, { limit: 2 });
      const next = await s.issuance.listInvites({ at: AT }, { before: { createdAt: first[1]!.createdAt, id: first[1]!.id }, limit: 2 });
      assert.deepEqual([...first, ...next].map((i) => i.id), ids.slice(0, 4));
      assert.equal((await s.issuance.inviteByTokenHash(`token-${live.id.slice(7)}`))?.id, live.id);
      assert.equal(await s.issuance.inviteByTokenHash('no-such-token'), undefined);
    });

    it('takes one use of a live invite per issuance, and refuses a used, expired, revoked or unknown one', async () => {
      const two = await s.issuance.createInvite(invite({ maxUses: 2 }));
      const hash = `challenge-${two.id.slice(7)}`;
      const a = await s.issuance.issueWithChallenge(hash, identity());
      assert.ok('issued' in a);
      assert.equal(a.issued.inviteId, two.id);
      assert.equal(a.issued.deviceId, null);
      assert.ok('issued' in (await s.issuance.issueWithChallenge(hash, identity())));
      const third = identity();
      assert.deepEqual(await s.issuance.issueWithChallenge(hash, third), { refused: 'used' });
      assert.equal(await s.issuance.getIssued(third.serial), undefined, 'a refused certificate is not recorded');

      const expired = await s.issuance.createInvite(invite({ expiresAt: at(-1) }));
      assert.deepEqual(await s.issuance.issueWithChallenge(`challenge-${expired.id.slice(7)}`, identity()), { refused: 'expired' });
      const revoked = await s.issuance.createInvite(invite());
      await s.issuance.revokeInvite(revoked.id, AT);
      assert.deepEqual(await s.issuance.issueWithChallenge(`challenge-${revoked.id.slice(7)}`, identity()), { refused: 'revoked' });
      assert.deepEqual(await s.issuance.issueWithChallenge('no-such-challenge', identity()), { refused: 'unknown' });

      const fixed = await s.issuance.issueWithStaticChallenge(identity());
      assert.equal(fixed.inviteId, null);
      assert.deepEqual(await s.issuance.getIssued(fixed.serial), fixed);
    });

    it('writes an identity event with the issuance or revocation it describes, and none for a refusal or a second revocation', async () => {
      await s.events.createEndpoint({ id: 'identity-events', url: 'http://127.0.0.1:1/', secret: 's', format: 'micromdm', topics: ['identity.issued', 'identity.revoked'], includeSecrets: false, enabled: true, disabledReason: null, source: 'api', createdAt: AT, updatedAt: AT });
      const topics = async () => (await s.events.listDeliveries('identity-events', {}, { limit: 50 })).map((d) => d.topic).reverse();
      let n = 0;
      const eventOf = (topic: string) => (issued: { serial: string; deviceId: string | null }) => ({ id: `identity-event-${++n}`, topic, chain: issued.deviceId, at: AT, data: { serial: issued.serial }, raw: null, redacted: null });
      const one = await s.issuance.createInvite(invite());
      const hash = `challenge-${one.id.slice(7)}`;
      const issued = await s.issuance.issueWithChallenge(hash, identity(), eventOf('identity.issued'));
      assert.ok('issued' in issued);
      assert.deepEqual(await s.issuance.issueWithChallenge(hash, identity(), eventOf('identity.issued')), { refused: 'used' });
      await s.issuance.issueWithStaticChallenge(identity(), eventOf('identity.issued'));
      assert.deepEqual(await s.issuance.issueRenewal('unknown-fingerprint', identity(), eventOf('identity.issued')), { refused: 'unknown' });
      assert.ok('issued' in (await s.issuance.issueRenewal(issued.issued.fingerprint, identity(), eventOf('identity.issued'))));
      await s.issuance.revokeIssued(issued.issued.serial, at(1), eventOf('identity.revoked'));
      await s.issuance.revokeIssued(issued.issued.serial, at(2), eventOf('identity.revoked'));
      assert.deepEqual(await topics(), ['identity.issued', 'identity.issued', 'identity.issued', 'identity.revoked']);
      assert.equal(await s.events.deleteEndpoint('identity-events'), true);
    });

    it('binding an issued certificate records its device; revoking it unbinds it and admission then sees it revoked', async () => {
      await enrolled('ISS-D1');
      const { invite: brought, issued } = await boundIdentity('ISS-D1');
      assert.equal((await s.issuance.getIssued(issued.serial))?.deviceId, 'ISS-D1');
      assert.equal((await s.issuance.inviteOfDevice('ISS-D1'))?.id, brought.id);
      assert.equal(await s.issuance.inviteOfDevice('ISS-NOBODY'), undefined);

      const revoked = await s.issuance.revokeIssued(issued.serial, at(1));
      assert.equal(revoked?.revokedAt, at(1));
      assert.equal((await s.issuance.revokeIssued(issued.serial, at(2)))?.revokedAt, at(1));
      assert.equal(await s.issuance.revokeIssued('00', AT), undefined);
      assert.deepEqual(await s.listIdentityBindings('ISS-D1'), [], 'its binding is gone');
      const again = await s.admitIdentity(binding(issued.fingerprint, 'ISS-D1'), firstUse);
      assert.deepEqual(again, { bind: false, consumeRenewal: false, revoked: true });
      const stranger = await s.admitIdentity(binding('not-issued-by-aspen', 'ISS-D1-OTHER'), firstUse);
      assert.equal(stranger.revoked, false);
    });

    it('a renewal (RenewalReq) keeps the invite and speaks for the device at once; a revoked, expired or unknown signer is refused', async () => {
      await enrolled('ISS-D2');
      const { invite: brought, issued } = await boundIdentity('ISS-D2');
      const next = identity({ notAfter: at(730) });
      const renewed = await s.issuance.issueRenewal(issued.fingerprint, next);
      assert.ok('issued' in renewed, JSON.stringify(renewed));
      assert.deepEqual(
        { inviteId: renewed.issued.inviteId, renewalOf: renewed.issued.renewalOf, deviceId: renewed.issued.deviceId },
        { inviteId: brought.id, renewalOf: issued.serial, deviceId: 'ISS-D2' },
      );
      assert.deepEqual((await s.listIdentityBindings('ISS-D2')).map((b) => b.fingerprint).sort(), [issued.fingerprint, next.fingerprint].sort());
      const bound = await s.getIdentityBinding(next.fingerprint);
      assert.equal(bound?.anchor, 'ca-fingerprint');

      assert.deepEqual(await s.issuance.issueRenewal('unknown-fingerprint', identity()), { refused: 'unknown' });
      assert.deepEqual(await s.issuance.issueRenewal(next.fingerprint, identity({ issuedAt: at(731) })), { refused: 'expired' });
      await s.issuance.revokeIssued(next.serial, at(1));
      assert.deepEqual(await s.issuance.issueRenewal(next.fingerprint, identity()), { refused: 'revoked' });
    });

    it('lists issued identities by expiry, device and revocation, page by page', async () => {
      await enrolled('ISS-D3');
      const soon = await boundIdentity('ISS-D3', { notAfter: at(10) });
      const late = await s.issuance.issueWithStaticChallenge(identity({ notAfter: at(11) }));
      const listed = await s.issuance.listIssued({ expiringBefore: at(12) }, { limit: 1000 });
      const serials = listed.map((i) => i.serial);
      assert.ok(serials.indexOf(soon.issued.serial) < serials.indexOf(late.serial));
      assert.ok(listed.every((i) => i.notAfter < at(12)));
      assert.deepEqual((await s.issuance.listIssued({ deviceId: 'ISS-D3' }, { limit: 10 })).map((i) => i.serial), [soon.issued.serial]);
      await s.issuance.revokeIssued(late.serial, AT);
      assert.ok((await s.issuance.listIssued({ revoked: true }, { limit: 1000 })).some((i) => i.serial === late.serial));
      assert.ok(!(await s.issuance.listIssued({ revoked: false }, { limit: 1000 })).some((i) => i.serial === late.serial));
      const all = await s.issuance.listIssued({}, { limit: 1000 });
      const firstPage = await s.issuance.listIssued({}, { limit: 3 });
      const last = firstPage.at(-1)!;
      const secondPage = await s.issuance.listIssued({}, { after: { notAfter: last.notAfter, serial: last.serial }, limit: 3 });
      assert.deepEqual([...firstPage, ...secondPage].map((i) => i.serial), all.slice(0, 6).map((i) => i.serial));
    });

    it('finds the current identities due for renewal, and reports where each renewal stands', async () => {
      await enrolled('ISS-R1');
      await enrolled('ISS-R2');
      const r1 = await boundIdentity('ISS-R1', { notAfter: at(20) });
      const r2 = await boundIdentity('ISS-R2', { notAfter: at(25) });
      const window = { now: at(0), before: at(30) };
      const due = async () => (await s.issuance.renewalCandidates(window.now, window.before, 100)).filter((c) => c.deviceId.startsWith('ISS-R'));
      assert.deepEqual((await due()).map((c) => [c.deviceId, c.identity.serial]), [['ISS-R1', r1.issued.serial], ['ISS-R2', r2.issued.serial]]);

      // R1's renewal is queued: no longer a candidate, and the report shows its command's state.
      await s.enqueue({ uuid: 'renew-r1', requestType: 'InstallProfile', payload: new Uint8Array([1]) }, ['ISS-R1'], AT);
      await s.issuance.markRenewalQueued(r1.issued.serial, 'renew-r1', AT);
      assert.deepEqual((await due()).map((c) => c.deviceId), ['ISS-R2']);
      const report = (await s.issuance.renewalReport(window.before)).filter((r) => r.deviceId.startsWith('ISS-R'));
      assert.deepEqual(report.map((r) => [r.deviceId, r.identity.renewalCommand, r.commandState]), [['ISS-R1', 'renew-r1', 'queued'], ['ISS-R2', null, null]]);

      // R1 installs the renewal profile: the identity issued through its renewal invite keeps the
      // original invite, and once bound it is R1's current one, due much later.
      const renewal = await s.issuance.createInvite(invite({ renews: { serial: r1.issued.serial, deviceId: 'ISS-R1' } }));
      const fresh = identity({ notAfter: at(385) });
      const issued = await s.issuance.issueWithChallenge(`challenge-${renewal.id.slice(7)}`, fresh);
      assert.ok('issued' in issued);
      assert.deepEqual({ inviteId: issued.issued.inviteId, renewalOf: issued.issued.renewalOf }, { inviteId: r1.invite.id, renewalOf: r1.issued.serial });
      await s.admitIdentity(binding(fresh.fingerprint, 'ISS-R1', fresh.notAfter), () => ({ bind: true, consumeRenewal: false }));
      assert.deepEqual((await s.issuance.renewalReport(window.before)).filter((r) => r.deviceId.startsWith('ISS-R')).map((r) => r.deviceId), ['ISS-R2']);
      assert.equal((await s.issuance.inviteOfDevice('ISS-R1'))?.id, r1.invite.id);

      // A checked-out device needs no renewal; an expired identity is no candidate but is reported.
      await s.checkOut('ISS-R2', AT);
      assert.deepEqual(await due(), []);
      await enrolled('ISS-R3');
      await boundIdentity('ISS-R3', { notAfter: at(-1) });
      assert.deepEqual((await s.issuance.renewalCandidates(window.now, window.before, 100)).filter((c) => c.deviceId === 'ISS-R3'), []);
      assert.ok((await s.issuance.renewalReport(window.before)).some((r) => r.deviceId === 'ISS-R3'));
    });

    describe('concurrency, from separate connections', () => {
      let t: Storage;
      before(async () => {
        t = await backend.second();
      });
      after(() => t.close());

      it('two requests racing for the last use of an invite: exactly one is issued', async () => {
        for (let round = 0; round < 12; round++) {
          const created = await s.issuance.createInvite(invite());
          const hash = `challenge-${created.id.slice(7)}`;
          const outcomes = await Promise.all([s.issuance.issueWithChallenge(hash, identity()), t.issuance.issueWithChallenge(hash, identity())]);
          assert.equal(outcomes.filter((o) => 'issued' in o).length, 1, `round ${round}: ${JSON.stringify(outcomes)}`);
          assert.deepEqual(outcomes.filter((o) => 'refused' in o), [{ refused: 'used' }]);
        }
      });

      it('a revocation racing an admission of the same certificate: it ends unbound and revoked', async () => {
        for (let round = 0; round < 12; round++) {
          const device = `ISS-RACE-${round}`;
          await enrolled(device);
          const issued = await s.issuance.issueWithStaticChallenge(identity());
          const [, decision] = await Promise.all([s.issuance.revokeIssued(issued.serial, AT), t.admitIdentity(binding(issued.fingerprint, device), firstUse)]);
          assert.deepEqual(await s.listIdentityBindings(device), [], `round ${round}: ${JSON.stringify(decision)}`);
          assert.equal((await t.issuance.getIssued(issued.serial))?.revokedAt, AT);
        }
      });
    });
  });
}
