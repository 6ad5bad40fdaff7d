// The DDM sub-store's contract (storage.declarations), for every backend: declarations, sets,
// assignments, the device path's reads, sync candidates, status reports with their bounded history,
// hosted assets, the coalescing enqueue the sync uses, and the decisions that read before they
// write, raced from two connections as two Aspen instances would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mergeStatusReport, parseStatusReport, serverToken, type StatusReport } from '../../src/ddm/index.ts';
import { STATUS_ERROR_HISTORY, STATUS_REPORT_HISTORY, type DeclarationStore, type NewDeclaration } from '../../src/storage/declarations.ts';
import type { Storage } from '../../src/storage/storage.ts';
import type { BackendUnderTest } from './contract.ts';

const AT = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-02T00:00:00.000Z';
const LATEST = '2026-01-03T00:00:00.000Z';

const passcode = (identifier: string, minLength = 6): NewDeclaration => ({
  type: 'com.apple.configuration.passcode.settings',
  identifier,
  payload: { MinimumLength: minLength },
});

function report(json: unknown): StatusReport {
  const parsed = parseStatusReport(JSON.stringify(json));
  assert.ok(parsed.ok);
  return parsed.report;
}

const declarationsReport = (token: string) => ({
  StatusItems: {
    management: {
      declarations: {
        configurations: [{ identifier: 'com.example.passcode', active: true, valid: 'valid', 'server-token': token }],
        activations: [{ identifier: 'aspen.activation.com.example.passcode', active: false, valid: 'invalid', 'server-token': 't', reasons: [{ code: 'Error.ConfigurationCannotBeApplied' }] }],
      },
      'client-capabilities': { 'supported-versions': ['1.0.0'], 'supported-payloads': { 'status-items': ['device.model.family', 'test.string-value'] } },
    },
    device: { model: { family: 'iPhone' } },
  },
  Errors: [{ StatusItem: 'device.battery-health', Reasons: [{ Code: 'Error.NotSupported' }] }],
});

export function declarationStoreContract(name: string, open: () => Promise<BackendUnderTest>, options: { skip?: string | false } = {}): void {
  describe(`declaration store contract: ${name}`, { skip: options.skip }, () => {
    let backend: BackendUnderTest;
    let s: Storage;
    let d: DeclarationStore;
    before(async () => {
      backend = await open();
      s = backend.storage;
      d = s.declarations;
    });
    after(() => backend.destroy());

    async function enrolled(id: string, awaiting = false): Promise<void> {
      await s.authenticate({ id, type: 'device', serialNumber: null, platform: 'iOS', osVersion: '18.1', facts: {}, topic: 't', keepPendingCommands: false, at: AT });
      const tokenUpdate = { id, deviceId: id, channel: 'device' as const, type: 'device' as const, userId: null, userShortName: null, userLongName: null };
      await s.tokenUpdate({ ...tokenUpdate, topic: 't', pushToken: new Uint8Array([1]), pushMagic: 'm', unlockToken: null, awaitingConfiguration: awaiting, at: AT });
    }

    it('stores a declaration, and tells an edit from the same content again', async () => {
      const p = passcode('com.example.passcode');
      assert.equal(await d.putDeclaration(p, serverToken, AT), 'created');
      assert.equal(await d.putDeclaration(p, serverToken, LATER), 'unchanged');
      const stored = await d.getDeclaration(p.identifier);
      assert.deepEqual(stored, { ...p, touches: 0, serverToken: serverToken(p), createdAt: AT, updatedAt: AT });
      const edited = passcode(p.identifier, 8);
      assert.equal(await d.putDeclaration(edited, serverToken, LATER), 'updated');
      assert.equal((await d.getDeclaration(p.identifier))?.serverToken, serverToken(edited));
      assert.deepEqual(await d.listDeclarations(), [p.identifier]);
      assert.equal(await d.getDeclaration('nope'), undefined);
    });

    it('counts touches into the token, and a PUT keeps the count', async () => {
      const p = passcode('com.example.touched');
      await d.putDeclaration(p, serverToken, AT);
      assert.equal(await d.touchDeclaration(p.identifier, serverToken, LATER), true);
      const touched = await d.getDeclaration(p.identifier);
      assert.equal(touched?.touches, 1);
      assert.equal(touched?.serverToken, serverToken(p, 1));
      assert.equal(touched?.updatedAt, LATER);
      assert.equal(await d.putDeclaration(p, serverToken, LATEST), 'unchanged', 'the same content under the same touch count');
      assert.equal(await d.touchDeclaration('nope', serverToken, LATER), false);
    });

    it('keeps sets of declarations; a set exists while it holds one; a declaration in a set cannot be deleted', async () => {
      assert.equal(await d.addToSet('phones', 'nope'), 'unknown-declaration');
      assert.equal(await d.addToSet('phones', 'com.example.passcode'), 'added');
      assert.equal(await d.addToSet('phones', 'com.example.passcode'), 'present');
      assert.equal(await d.addToSet('all', 'com.example.touched'), 'added');
      assert.deepEqual(await d.listSets(), ['all', 'phones']);
      assert.deepEqual(await d.setDeclarations('phones'), ['com.example.passcode']);
      assert.deepEqual(await d.declarationSets('com.example.passcode'), ['phones']);
      assert.deepEqual(await d.deleteDeclaration('com.example.passcode'), { outcome: 'in-sets', sets: ['phones'] });
      assert.deepEqual(await d.deleteDeclaration('nope'), { outcome: 'absent' });

      const gone = passcode('com.example.gone');
      await d.putDeclaration(gone, serverToken, AT);
      await d.addToSet('temporary', gone.identifier);
      assert.equal(await d.removeFromSet('temporary', gone.identifier), true);
      assert.equal(await d.removeFromSet('temporary', gone.identifier), false);
      assert.deepEqual(await d.listSets(), ['all', 'phones'], 'an emptied set is no longer listed');
      assert.deepEqual(await d.deleteDeclaration(gone.identifier), { outcome: 'deleted' });
    });

    it('assigns sets to enrollment ids, enrolled or not yet, and to every enrollment', async () => {
      assert.equal(await d.assignSet('DDM-1', 'phones'), true);
      assert.equal(await d.assignSet('DDM-1', 'phones'), false);
      assert.equal(await d.assignSet('NOT-YET', 'phones'), true);
      assert.deepEqual(await d.enrollmentSets('NOT-YET'), ['phones']);
      assert.equal(await d.unassignSet('NOT-YET', 'phones'), true);
      assert.equal(await d.unassignSet('NOT-YET', 'phones'), false);
      await d.assignSet('NOT-YET', 'a');
      await d.assignSet('NOT-YET', 'b');
      assert.equal(await d.unassignAllSets('NOT-YET'), 2);
      assert.deepEqual(await d.enrollmentSets('NOT-YET'), []);

      assert.equal(await d.assignGlobalSet('all'), true);
      assert.equal(await d.assignGlobalSet('all'), false);
      assert.deepEqual(await d.globalSets(), ['all']);
    });

    it("reads an enrollment's declarations from its sets and everyone's, each once", async () => {
      await enrolled('DDM-1');
      await d.addToSet('also-phones', 'com.example.passcode');
      await d.assignSet('DDM-1', 'also-phones');
      const read = await d.enrollmentDeclarations('DDM-1');
      assert.deepEqual(read.assigned.map((x) => x.identifier), ['com.example.passcode', 'com.example.touched']);
      assert.equal(read.statusItems, null);
      assert.equal(read.token, null);
      const everyone = await d.enrollmentDeclarations('SOMEONE-ELSE');
      assert.deepEqual(everyone.assigned.map((x) => x.identifier), ['com.example.touched']);
      const bySet = await d.declarationsOfSets(['phones', 'all', 'empty']);
      assert.deepEqual([...bySet].map(([set, list]) => [set, list.map((x) => x.identifier)]), [['phones', ['com.example.passcode']], ['all', ['com.example.touched']], ['empty', []]]);
    });

    it('records the token each enrollment is served, and when it last changed', async () => {
      const first = await d.recordTokens([{ enrollmentId: 'DDM-1', token: 'T1' }, { enrollmentId: 'NOBODY', token: 'T1' }], AT);
      assert.deepEqual([...first], [['DDM-1', AT]], 'unknown enrollments are left out');
      assert.deepEqual([...(await d.recordTokens([{ enrollmentId: 'DDM-1', token: 'T1' }], LATER))], [['DDM-1', AT]], 'the same token keeps its time');
      assert.deepEqual([...(await d.recordTokens([{ enrollmentId: 'DDM-1', token: 'T2' }], LATER))], [['DDM-1', LATER]]);
      assert.deepEqual((await d.enrollmentDeclarations('DDM-1')).token, { value: 'T2', changedAt: LATER });
    });

    it('finds the enrollments a change affects that a sync may be queued for', async () => {
      await enrolled('DDM-2');
      await enrolled('DDM-AWAITING', true);
      await enrolled('DDM-GONE');
      await s.checkOut('DDM-GONE', AT);
      await s.authenticate({ id: 'DDM-AUTH', type: 'device', serialNumber: null, platform: null, osVersion: null, facts: {}, topic: 't', keepPendingCommands: false, at: AT });
      await d.assignSet('DDM-2', 'phones');
      await d.assignSet('DDM-AWAITING', 'phones');
      await d.assignSet('DDM-GONE', 'phones');
      const ids = async (selector: Parameters<DeclarationStore['syncCandidates']>[0]) => (await d.syncCandidates(selector)).map((c) => c.enrollmentId);
      assert.deepEqual(await ids({ declarations: ['com.example.passcode'] }), ['DDM-1', 'DDM-2'], 'enrolled, not awaiting configuration, not checked out');
      assert.deepEqual(await ids({ sets: ['also-phones'] }), ['DDM-1']);
      assert.deepEqual(await ids({ enrollmentIds: ['DDM-2', 'NOBODY', 'DDM-AUTH'] }), ['DDM-2']);
      assert.deepEqual(await ids({ sets: ['all'] }), ['DDM-1', 'DDM-2'], 'a set of every enrollment reaches everyone');
      assert.deepEqual(await ids({ declarations: ['com.example.touched'] }), ['DDM-1', 'DDM-2']);
      assert.deepEqual(await ids({ all: true }), ['DDM-1', 'DDM-2']);
      assert.deepEqual(await ids({ sets: ['nothing'] }), []);
      const [one] = await d.syncCandidates({ enrollmentIds: ['DDM-1'] });
      assert.deepEqual(one, { enrollmentId: 'DDM-1', sets: ['also-phones', 'phones'], statusItems: null, token: 'T2' });
      assert.equal(await s.recordDeviceConfigured('DDM-AWAITING'), true);
      assert.equal((await s.getEnrollment('DDM-AWAITING'))?.awaitingConfiguration, false);
      assert.deepEqual(await ids({ enrollmentIds: ['DDM-AWAITING'] }), ['DDM-AWAITING'], 'released by DeviceConfigured');
      assert.equal(await s.recordDeviceConfigured('NOBODY'), false);
    });

    it('stores status reports: the merged snapshot, the raw reports and the errors, bounded', async () => {
      const first = report(declarationsReport('tok-1'));
      const raw = Buffer.from(JSON.stringify(declarationsReport('tok-1')));
      let seen: unknown = 'not called';
      const stored = await d.recordStatusReport(
        { enrollmentId: 'DDM-2', statusId: 'S-1', receivedAt: AT, raw, errors: [{ path: '.Errors', error: { StatusItem: 'device.battery-health' } }] },
        (previous) => {
          seen = previous;
          return mergeStatusReport(previous, first, new Date(AT));
        },
      );
      assert.equal(seen, undefined, 'the first report merges into nothing');
      assert.equal(stored?.previous, undefined);
      const snapshot = await d.statusSnapshot('DDM-2');
      assert.deepEqual(snapshot, { ...stored!.snapshot, declarations: { ...stored!.snapshot.declarations!, statuses: [...stored!.snapshot.declarations!.statuses].sort((a, b) => a.identifier.localeCompare(b.identifier)) } });
      assert.deepEqual(snapshot?.values['device.model.family'], { value: 'iPhone', reportedAt: AT });
      assert.deepEqual((await d.enrollmentDeclarations('DDM-2')).statusItems, ['device.model.family', 'test.string-value']);

      // An incremental report without declarations keeps them; the merge sees what was stored.
      const second = report({ StatusItems: { device: { model: { family: 'iPad' } } } });
      const again = await d.recordStatusReport({ enrollmentId: 'DDM-2', statusId: 'S-2', receivedAt: LATER, raw: Buffer.from('{}'), errors: [] }, (previous) => {
        assert.equal(previous?.declarations?.statuses.length, 2);
        return mergeStatusReport(previous, second, new Date(LATER));
      });
      assert.equal(again?.snapshot.declarations?.statuses.length, 2);
      assert.deepEqual((await d.statusSnapshot('DDM-2'))?.values['device.model.family'], { value: 'iPad', reportedAt: LATER });

      const newest = await d.statusReport('DDM-2', { index: 0 });
      assert.deepEqual({ ...newest, raw: Buffer.from(newest!.raw).toString() }, { statusId: 'S-2', receivedAt: LATER, raw: '{}', index: 0 });
      assert.equal(Buffer.from((await d.statusReport('DDM-2', { index: 1 }))!.raw).toString(), raw.toString());
      assert.equal((await d.statusReport('DDM-2', { statusId: 'S-1' }))?.index, 1);
      assert.equal(await d.statusReport('DDM-2', { index: 2 }), undefined);
      assert.equal(await d.statusReport('DDM-2', { statusId: 'nope' }), undefined);
      assert.deepEqual(await d.statusErrors('DDM-2'), [{ path: '.Errors', error: { StatusItem: 'device.battery-health' }, at: AT, statusId: 'S-1' }]);

      assert.equal(await d.recordStatusReport({ enrollmentId: 'NOBODY', statusId: 'x', receivedAt: AT, raw: Buffer.from('{}'), errors: [] }, () => assert.fail('not merged')), undefined);
      assert.equal(await d.statusSnapshot('NOBODY'), undefined);
    });

    it(`keeps the newest ${STATUS_REPORT_HISTORY} reports and ${STATUS_ERROR_HISTORY} errors`, async () => {
      await enrolled('DDM-CHATTY');
      const empty = report({ StatusItems: {} });
      for (let i = 0; i < STATUS_REPORT_HISTORY + 3; i++) {
        const errors = Array.from({ length: 5 }, (_, n) => ({ path: '.Errors', error: i * 5 + n }));
        await d.recordStatusReport({ enrollmentId: 'DDM-CHATTY', statusId: `S-${i}`, receivedAt: AT, raw: Buffer.from(String(i)), errors }, (p) => mergeStatusReport(p, empty, new Date(AT)));
      }
      const last = STATUS_REPORT_HISTORY + 2;
      assert.equal(Buffer.from((await d.statusReport('DDM-CHATTY', { index: 0 }))!.raw).toString(), String(last));
      assert.equal(Buffer.from((await d.statusReport('DDM-CHATTY', { index: STATUS_REPORT_HISTORY - 1 }))!.raw).toString(), '3');
      assert.equal(await d.statusReport('DDM-CHATTY', { index: STATUS_REPORT_HISTORY }), undefined);
      const errors = await d.statusErrors('DDM-CHATTY');
      assert.equal(errors.length, STATUS_ERROR_HISTORY);
      assert.deepEqual(errors.map((e) => e.error), Array.from({ length: STATUS_ERROR_HISTORY }, (_, i) => (last + 1) * 5 - STATUS_ERROR_HISTORY + i), 'the newest, oldest first');
    });

    it('tells, per declaration, which enrollments have it and what each reported', async () => {
      const reports = await d.declarationReports('com.example.passcode');
      assert.deepEqual(reports.map((r) => r.enrollmentId), ['DDM-1', 'DDM-2', 'DDM-AWAITING'], 'assigned through a set, not checked out');
      assert.equal(reports[0]!.status, undefined, 'DDM-1 has not reported: pending');
      assert.deepEqual(reports[1]!.status, { kind: 'configurations', identifier: 'com.example.passcode', serverToken: 'tok-1', active: true, valid: 'valid', reasons: [] });
      const everyone = await d.declarationReports('com.example.touched');
      assert.ok(everyone.length >= 4 && everyone.every((r) => r.enrollmentId !== 'DDM-GONE'), 'a set of every enrollment reaches everyone');
      assert.deepEqual(await d.declarationReports('nope'), []);
    });

    it('hosts data assets', async () => {
      const asset = { name: 'wallpaper.png', contentType: 'image/png', data: Buffer.from('png'), sha256: 'aa', size: 3 };
      assert.equal(await d.putAsset(asset, AT), 'created');
      assert.equal(await d.putAsset(asset, LATER), 'unchanged');
      assert.equal(await d.putAsset({ ...asset, data: Buffer.from('png2'), sha256: 'bb', size: 4 }, LATER), 'updated');
      const got = await d.getAsset('wallpaper.png');
      assert.deepEqual({ ...got, data: Buffer.from(got!.data).toString() }, { name: 'wallpaper.png', contentType: 'image/png', data: 'png2', sha256: 'bb', size: 4, updatedAt: LATER });
      assert.deepEqual(await d.listAssets(), [{ name: 'wallpaper.png', contentType: 'image/png', sha256: 'bb', size: 4, updatedAt: LATER }]);
      assert.equal(await d.deleteAsset('wallpaper.png'), true);
      assert.equal(await d.deleteAsset('wallpaper.png'), false);
      assert.equal(await d.getAsset('wallpaper.png'), undefined);
    });

    it('queues a command unless one of its RequestType is pending, and again once it is done', async () => {
      const sync = (uuid: string) => ({ uuid, requestType: 'DeclarativeManagement', payload: Buffer.from(uuid) });
      const first = await s.enqueue(sync('sync-1'), ['DDM-1', 'NOBODY'], AT, { unlessPending: true });
      assert.deepEqual([...first], [['DDM-1', 'queued'], ['NOBODY', 'unknown-enrollment']]);
      assert.deepEqual([...(await s.enqueue(sync('sync-2'), ['DDM-1'], AT, { unlessPending: true }))], [['DDM-1', 'already-pending']]);
      assert.equal(await s.getCommand('sync-2'), undefined, 'a command nobody took is not kept');
      await s.recordResult({ enrollmentId: 'DDM-1', commandUuid: 'sync-1', status: 'NotNow', raw: Buffer.from('n'), errorChain: null, at: AT });
      assert.deepEqual([...(await s.enqueue(sync('sync-3'), ['DDM-1'], AT, { unlessPending: true }))], [['DDM-1', 'already-pending']], 'deferred is pending');
      await s.recordResult({ enrollmentId: 'DDM-1', commandUuid: 'sync-1', status: 'Acknowledged', raw: Buffer.from('a'), errorChain: null, at: AT });
      assert.deepEqual([...(await s.enqueue(sync('sync-4'), ['DDM-1'], AT, { unlessPending: true }))], [['DDM-1', 'queued']]);
      assert.deepEqual([...(await s.enqueue({ ...sync('other'), requestType: 'ProfileList' }, ['DDM-1'], AT, { unlessPending: true }))], [['DDM-1', 'queued']], 'other RequestTypes do not count');
      await s.cancelPending('DDM-1', null, AT);
    });

    it('forgets an enrollment with its DDM state, but keeps its assignments for a re-enrollment', async () => {
      await enrolled('DDM-FORGET');
      await d.assignSet('DDM-FORGET', 'phones');
      await d.recordStatusReport({ enrollmentId: 'DDM-FORGET', statusId: 'S', receivedAt: AT, raw: Buffer.from('{}'), errors: [{ path: '.Errors', error: 1 }] }, (p) =>
        mergeStatusReport(p, report(declarationsReport('x')), new Date(AT)),
      );
      assert.equal(await s.deleteEnrollment('DDM-FORGET'), true);
      assert.equal(await d.statusSnapshot('DDM-FORGET'), undefined);
      assert.equal(await d.statusReport('DDM-FORGET', { index: 0 }), undefined);
      assert.deepEqual(await d.statusErrors('DDM-FORGET'), []);
      assert.deepEqual(await d.enrollmentSets('DDM-FORGET'), ['phones']);
    });

    describe('concurrency, from separate connections', () => {
      let t: Storage;
      before(async () => {
        t = await backend.second();
      });
      after(() => t.close());
      const ROUNDS = 12;

      it('two instances coalescing sync commands at once: exactly one is pending', async () => {
        const ids = Array.from({ length: 20 }, (_, i) => `RACE-SYNC-${i}`);
        for (const id of ids) await enrolled(id);
        for (let round = 0; round < ROUNDS; round++) {
          const sync = (who: string) => ({ uuid: `race-sync-${round}-${who}`, requestType: 'DeclarativeManagement', payload: Buffer.from(who) });
          // Opposite orders, so a backend that locked in argument order would deadlock.
          const [a, b] = await Promise.all([s.enqueue(sync('a'), ids, AT, { unlessPending: true }), t.enqueue(sync('b'), [...ids].reverse(), AT, { unlessPending: true })]);
          for (const id of ids) {
            assert.deepEqual([a.get(id), b.get(id)].sort(), ['already-pending', 'queued'], `round ${round}, ${id}`);
            assert.equal((await s.listQueue(id))?.length, 1);
          }
          for (const id of ids) await s.cancelPending(id, null, AT);
        }
      });

      it('the same new declaration from two instances at once: one creates it, the other finds it unchanged', async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const p = passcode(`com.example.race-${i}`);
          const outcomes = await Promise.all([d.putDeclaration(p, serverToken, AT), t.declarations.putDeclaration(p, serverToken, AT)]);
          assert.deepEqual(outcomes.sort(), ['created', 'unchanged'], `round ${i}`);
        }
      });

      it('touches from two instances at once both count', async () => {
        const p = passcode('com.example.race-touch');
        await d.putDeclaration(p, serverToken, AT);
        await Promise.all(Array.from({ length: ROUNDS }, (_, i) => (i % 2 ? d : t.declarations).touchDeclaration(p.identifier, serverToken, LATER)));
        const stored = await d.getDeclaration(p.identifier);
        assert.equal(stored?.touches, ROUNDS);
        assert.equal(stored?.serverToken, serverToken(p, ROUNDS));
      });

      it('a delete racing an addition to a set: deleted and not added, or added and not deleted', async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const p = passcode(`com.example.race-delete-${i}`);
          await d.putDeclaration(p, serverToken, AT);
          const [deletion, addition] = await Promise.all([d.deleteDeclaration(p.identifier), t.declarations.addToSet('race', p.identifier)]);
          const exists = (await d.getDeclaration(p.identifier)) !== undefined;
          if (deletion.outcome === 'deleted') {
            assert.equal(addition, 'unknown-declaration', `round ${i}`);
            assert.equal(exists, false);
          } else {
            assert.deepEqual([deletion, addition], [{ outcome: 'in-sets', sets: ['race'] }, 'added'], `round ${i}`);
            assert.equal(exists, true);
          }
        }
      });

      it('two reports of one device at once: the second merges into the first', async () => {
        await enrolled('RACE-STATUS');
        for (let i = 0; i < ROUNDS; i++) {
          const value = (key: string) => report({ StatusItems: { device: { [key]: `${key}-${i}` } } });
          const record = (store: DeclarationStore, key: string) =>
            store.recordStatusReport({ enrollmentId: 'RACE-STATUS', statusId: `${key}-${i}`, receivedAt: AT, raw: Buffer.from(key), errors: [] }, (p) => mergeStatusReport(p, value(key), new Date(AT)));
          await Promise.all([record(d, 'a'), record(t.declarations, 'b')]);
          const values = (await d.statusSnapshot('RACE-STATUS'))!.values;
          assert.deepEqual([values['device.a']?.value, values['device.b']?.value], [`a-${i}`, `b-${i}`], `round ${i}: neither report is lost`);
        }
      });
    });
  });
}
