import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  kmfddmChangeStatus,
  kmfddmDeclarationStatus,
  kmfddmEnrollmentIds,
  kmfddmFlag,
  kmfddmInvalidDeclaration,
  kmfddmNotifyTargets,
  kmfddmPathMatcher,
  kmfddmShouldNotify,
  kmfddmStatusErrors,
  kmfddmStatusReportHeaders,
  kmfddmStatusReportQuery,
  kmfddmStatusValues,
  mergeStatusReport,
  parseDeclaration,
  parseStatusReport,
} from '../../src/ddm/index.ts';
import type { StatusReport, TokenedDeclaration } from '../../src/ddm/index.ts';

function report(name: string): StatusReport {
  const result = parseStatusReport(readFileSync(new URL(`./fixtures/status/${name}`, import.meta.url)));
  assert.ok(result.ok);
  return result.report;
}

const received = new Date('2026-02-03T04:05:06.000Z');

describe('KMFDDM conventions', () => {
  it('answers 204 for a change and 304 for none', () => {
    assert.equal(kmfddmChangeStatus(true), 204);
    assert.equal(kmfddmChangeStatus(false), 304);
  });

  it('reads flags as KMFDDM does, and notifies unless nonotify is set', () => {
    for (const off of [undefined, '', '0', 'false', 'FALSE', 'no', 'Off']) assert.equal(kmfddmFlag(off), false, String(off));
    for (const on of ['1', 'true', 'yes', 'on', 'y', 'anything']) assert.equal(kmfddmFlag(on), true, on);
    assert.equal(kmfddmFlag(['0', '1']), false, 'the first of a repeated parameter counts');
    assert.equal(kmfddmShouldNotify(undefined), true);
    assert.equal(kmfddmShouldNotify('1'), false);
    assert.equal(kmfddmShouldNotify('0'), true);
  });

  it('answers a refused declaration with KMFDDM\'s error string and every key-path problem', () => {
    const result = parseDeclaration('{"Type":"com.apple.configuration.passcode.settings","Identifier":"p","Payload":{"MinimumLength":99,"Bogus":1}}');
    assert.ok(!result.ok);
    const body = kmfddmInvalidDeclaration(result.errors);
    assert.match(body.error, /^invalid declaration: Payload\.MinimumLength: expected a number from 0 to 16, got number 99; Payload\.Bogus: unknown key/);
    assert.deepEqual(body.errors.map((e) => e.path), ['Payload.MinimumLength', 'Payload.Bogus']);
  });

  it('splits comma-separated enrollment ids', () => {
    assert.deepEqual(kmfddmEnrollmentIds('A,B,,C'), ['A', 'B', 'C']);
    assert.deepEqual(kmfddmEnrollmentIds('UDID-1'), ['UDID-1']);
  });

  it('collects notify targets, repeatable, and refuses a notify without any', () => {
    assert.deepEqual(kmfddmNotifyTargets({ declaration: ['d1', 'd2'], set: 's', id: undefined }), { ok: true, targets: { declarations: ['d1', 'd2'], sets: ['s'], ids: [] } });
    assert.deepEqual(kmfddmNotifyTargets({}), { ok: false, error: 'no parameters provided (declaration, set or id)' });
    assert.equal(kmfddmNotifyTargets({ id: '' }).ok, false);
  });
});

describe('KMFDDM declaration-status', () => {
  const ios = report('ios-declarations.json');
  const snapshot = mergeStatusReport(undefined, ios, received);
  const served: TokenedDeclaration[] = [
    { type: 'com.apple.configuration.passcode.settings', identifier: 'com.example.passcode', payload: {}, serverToken: '00000000000000000000000000000002' },
    { type: 'com.apple.configuration.management.test', identifier: 'com.example.update', payload: {}, serverToken: '44445555666677778888999900001111' },
  ];

  it('lists what the device reported with current against what is served now', () => {
    assert.ok(snapshot.declarations);
    const entries = kmfddmDeclarationStatus(snapshot.declarations, served, 'report-7');
    assert.deepEqual(entries, [
      {
        identifier: 'com.example.passcode',
        active: true,
        valid: 'valid',
        'server-token': '00000000000000000000000000000001',
        current: false,
        status_received: '2026-02-03T04:05:06.000Z',
        status_id: 'report-7',
      },
      {
        identifier: 'com.example.update',
        active: false,
        valid: 'invalid',
        'server-token': '44445555666677778888999900001111',
        current: true,
        status_received: '2026-02-03T04:05:06.000Z',
        status_id: 'report-7',
        reasons: [{ code: 'Error.InvalidPayload', description: 'The payload is invalid.', details: { Identifier: 'com.example.update', ServerToken: '44445555666677778888999900001111' } }],
      },
      {
        identifier: 'com.example.removed',
        active: true,
        valid: 'valid',
        'server-token': '55556666777788889999000011112222',
        current: false,
        status_received: '2026-02-03T04:05:06.000Z',
        status_id: 'report-7',
      },
    ]);
    assert.equal('status_id' in (kmfddmDeclarationStatus(snapshot.declarations, served)[0] ?? {}), false);
  });
});

describe('KMFDDM status-errors', () => {
  it('takes declarations neither active nor valid, and the report\'s Errors verbatim', () => {
    const errors = kmfddmStatusErrors(report('ios-declarations.json'), received, 'r1');
    assert.deepEqual(errors, [
      {
        path: '.StatusItems.management.declarations.configurations',
        error: {
          identifier: 'com.example.update',
          active: false,
          valid: 'invalid',
          'server-token': '44445555666677778888999900001111',
          reasons: [{ code: 'Error.InvalidPayload', description: 'The payload is invalid.', details: { Identifier: 'com.example.update', ServerToken: '44445555666677778888999900001111' } }],
        },
        timestamp: '2026-02-03T04:05:06.000Z',
        status_id: 'r1',
      },
    ]);
    const mac = kmfddmStatusErrors(report('macos-full.json'), received);
    // The inactive-but-"unknown" echo configuration counts (not active, not valid); the failed caldav one is active, so it does not.
    assert.deepEqual(mac.map((e) => e.path), ['.StatusItems.management.declarations.configurations', '.Errors']);
    assert.deepEqual((mac[1]?.error as { StatusItem: string }).StatusItem, 'device.identifier.udid');
  });
});

describe('KMFDDM status-values', () => {
  const snapshot = mergeStatusReport(undefined, report('macos-full.json'), received);
  const values = kmfddmStatusValues(snapshot.values, 'r1');

  it('flattens every leaf under .StatusItems with its key path, as text', () => {
    const find = (path: string) => values.filter((v) => v.path === path).map((v) => v.value);
    assert.deepEqual(find('.StatusItems.device.identifier.serial-number'), ['C02XK0ABCDEF']);
    assert.deepEqual(find('.StatusItems.diskmanagement.filevault.enabled'), ['true']);
    assert.deepEqual(find('.StatusItems.account.list.caldav.port'), ['443']);
    assert.deepEqual(find('.StatusItems.account.list.caldav.identifier'), ['ACC-1', 'ACC-2']);
    assert.deepEqual(find('.StatusItems.management.client-capabilities.supported-versions'), ['1.0.0']);
    assert.equal(values.some((v) => v.path.startsWith('.StatusItems.management.declarations')), false);
    assert.deepEqual(values[0], { path: '.StatusItems.management.client-capabilities.supported-versions', value: '1.0.0', timestamp: '2026-02-03T04:05:06.000Z', status_id: 'r1' });
  });

  it('filters paths like SQL LIKE: % and _ wildcards, escapes, any case, whole-path match', () => {
    const device = kmfddmPathMatcher('.StatusItems.device.%');
    assert.ok(device('.StatusItems.device.identifier.serial-number'));
    assert.ok(!device('.StatusItems.diskmanagement.filevault.enabled'));
    assert.ok(kmfddmPathMatcher('.statusitems.DEVICE.%')('.StatusItems.device.model.family'));
    assert.ok(kmfddmPathMatcher('%serial%')('.StatusItems.device.identifier.serial-number'));
    assert.ok(kmfddmPathMatcher('.StatusItems.device.model.famil_')('.StatusItems.device.model.family'));
    assert.ok(!kmfddmPathMatcher('.StatusItems.device')('.StatusItems.device.model.family'), 'no wildcard: the whole path');
    assert.ok(kmfddmPathMatcher('a\\%b')('a%b'));
    assert.ok(!kmfddmPathMatcher('a\\%b')('axxb'));
    assert.ok(kmfddmPathMatcher('(.*)[x]')('(.*)[x]'), 'regular-expression characters are literal');
    assert.ok(kmfddmPathMatcher(undefined)('anything'));
    assert.ok(kmfddmPathMatcher('')('anything'));
    assert.equal(values.filter((v) => device(v.path)).length, 6);
  });
});

describe('KMFDDM status-report', () => {
  it('reads index (default 0, the newest) and status_id, refusing a bad index', () => {
    assert.deepEqual(kmfddmStatusReportQuery({}), { ok: true, index: 0 });
    assert.deepEqual(kmfddmStatusReportQuery({ index: '2', status_id: 'abc' }), { ok: true, index: 2, statusId: 'abc' });
    for (const bad of ['-1', 'x', '1.5', '', '99999999999']) assert.equal(kmfddmStatusReportQuery({ index: bad }).ok, false, bad);
  });

  it('answers with Last-Modified, the index and the report id', () => {
    assert.deepEqual(kmfddmStatusReportHeaders({ receivedAt: received, index: 0, statusId: 'r1' }), {
      'Last-Modified': 'Tue, 03 Feb 2026 04:05:06 GMT',
      'X-Status-Report-Index': '0',
      'X-Status-Report-ID': 'r1',
    });
    assert.deepEqual(Object.keys(kmfddmStatusReportHeaders({ receivedAt: received, index: 3 })), ['Last-Modified', 'X-Status-Report-Index']);
  });
});
