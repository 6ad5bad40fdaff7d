import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { declarationStates, effectiveDeclarations, mergeStatusReport, parseStatusReport } from '../../src/ddm/index.ts';
import type { StatusReport, StatusSnapshot } from '../../src/ddm/index.ts';
import { tokened } from './tokened.ts';

function fixture(name: string): Buffer {
  return readFileSync(new URL(`./fixtures/status/${name}`, import.meta.url));
}

function parsed(data: Uint8Array | string): StatusReport {
  const result = parseStatusReport(data);
  assert.ok(result.ok, !result.ok ? result.reason : '');
  return result.report;
}

function valueOf(report: StatusReport, item: string): unknown {
  return report.values.find((v) => v.item === item)?.value;
}

describe('status report: a realistic full report', () => {
  const report = parsed(fixture('macos-full.json'));

  it('reads every declaration status with its list, token, state and reasons', () => {
    assert.equal(report.fullReport, true);
    assert.deepEqual(
      report.declarations?.map((d) => [d.kind, d.identifier, d.serverToken, d.active, d.valid, d.reasons.map((r) => r.code)]),
      [
        ['activations', 'aspen.activation.com.example.passcode', '9f1c0d2e7a4b3c5d6e7f8091a2b3c4d5', true, 'valid', []],
        ['configurations', 'com.example.passcode', '0a1b2c3d4e5f60718293a4b5c6d7e8f9', true, 'valid', []],
        ['configurations', 'com.example.echo', '11112222333344445555666677778888', false, 'unknown', ['Info.NotReferencedByActivation']],
        ['configurations', 'com.example.caldav', 'aaaabbbbccccddddeeeeffff00001111', true, 'invalid', ['Error.ConfigurationCannotBeApplied']],
        ['management', 'com.example.org', '22223333444455556666777788889999', true, 'valid', []],
      ],
    );
    assert.deepEqual(report.declarations?.[3]?.reasons[0], {
      code: 'Error.ConfigurationCannotBeApplied',
      description: 'Configuration cannot be applied',
      details: { Error: 'The account could not be verified.' },
    });
  });

  it('flattens status items by their item path, whole values for known items', () => {
    assert.deepEqual(
      report.values.map((v) => v.item),
      [
        'management.client-capabilities',
        'device.identifier.serial-number',
        'device.identifier.udid',
        'device.model.family',
        'device.operating-system.version',
        'device.operating-system.build-version',
        'device.power.battery-health',
        'diskmanagement.filevault.enabled',
        'softwareupdate.pending-version',
        'account.list.caldav',
        'security.certificate.list',
      ],
    );
    assert.equal(valueOf(report, 'device.identifier.serial-number'), 'C02XK0ABCDEF');
    assert.equal(valueOf(report, 'diskmanagement.filevault.enabled'), true);
    assert.deepEqual(valueOf(report, 'softwareupdate.pending-version'), { 'os-version': '15.5', 'build-version': '24F74' });
    assert.equal((valueOf(report, 'account.list.caldav') as unknown[]).length, 2);
  });

  it('reads the client capabilities', () => {
    const capabilities = report.clientCapabilities;
    assert.ok(capabilities);
    assert.deepEqual(capabilities.supportedVersions, ['1.0.0']);
    assert.deepEqual(capabilities.declarationTypes.activations, ['com.apple.activation.simple']);
    assert.equal(capabilities.declarationTypes.configurations.length, 5);
    assert.ok(capabilities.statusItems.includes('softwareupdate.pending-version'));
    assert.equal(capabilities.statusItems.length, 14);
  });

  it('reads the report\'s own errors, keeping each entry as sent', () => {
    assert.deepEqual(report.errors.map((e) => [e.statusItem, e.reasons.map((r) => r.code)]), [['device.identifier.udid', ['Error.StatusItemNotSupported']]]);
    assert.equal((report.errors[0]?.raw as { StatusItem: string }).StatusItem, 'device.identifier.udid');
    assert.deepEqual(report.problems, []);
  });

  it('feeds the generated status subscription from what the client supports', () => {
    const set = effectiveDeclarations({ assigned: [], supportedStatusItems: report.clientCapabilities?.statusItems });
    const subscribed = (set[0]?.payload.StatusItems as { Name: string }[]).map((s) => s.Name);
    assert.equal(subscribed.length, 12);
    assert.ok(!subscribed.some((name) => name.startsWith('test.')));
  });
});

describe('status report: items this schema does not know', () => {
  it('keeps them, named by their path, and descends only dictionaries', () => {
    const report = parsed(
      JSON.stringify({
        StatusItems: {
          device: { system: { health: { 'battery-cycles': 12, status: 'ok' } } },
          mdm: { 'enrollment-type': 'device', 'is-shared-ipad': false, apps: [] },
          security: { 'lockdown-mode': { enabled: {} } },
        },
      }),
    );
    assert.deepEqual(report.values, [
      { item: 'device.system.health.battery-cycles', value: 12 },
      { item: 'device.system.health.status', value: 'ok' },
      { item: 'mdm.enrollment-type', value: 'device' },
      { item: 'mdm.is-shared-ipad', value: false },
      { item: 'mdm.apps', value: [] },
      { item: 'security.lockdown-mode.enabled', value: {} },
    ]);
    assert.equal(report.declarations, undefined);
    assert.equal(report.fullReport, false);
  });
});

describe('status report: garbage is reported, never thrown', () => {
  it('refuses what is not a JSON object at all', () => {
    for (const data of ['', 'not json', '[]', 'null', '"status"', '42', new Uint8Array([0xc3, 0x28])]) {
      const result = parseStatusReport(data);
      assert.equal(result.ok, false, String(data));
      assert.ok(!result.ok && result.reason.length > 0);
    }
    const deep = parseStatusReport(`{"StatusItems":${'{"a":'.repeat(100000)}1${'}'.repeat(100000)}}`);
    assert.deepEqual(deep, { ok: false, reason: 'nested deeper than 64 levels' });
  });

  it('reads what it can and lists every unexpected shape with its key path', () => {
    const report = parsed(
      JSON.stringify({
        StatusItems: {
          management: {
            declarations: {
              activations: 'none',
              configurations: [
                7,
                { 'server-token': 't' },
                { identifier: 'ok', 'server-token': 't1', active: 'yes', valid: 'maybe', reasons: [{ description: 'no code' }, { code: 'Info.X' }] },
                { identifier: 'no-token', active: true, valid: 'valid', reasons: {} },
              ],
            },
            'client-capabilities': { 'supported-versions': '1.0', 'supported-payloads': { 'status-items': ['a', 3] } },
          },
        },
        Errors: [{ Reasons: 'x' }, 'oops'],
        FullReport: 'yes',
      }),
    );
    assert.deepEqual(
      report.declarations?.map((d) => [d.identifier, d.serverToken, d.active, d.valid, d.reasons.map((r) => r.code)]),
      [
        ['ok', 't1', false, 'unknown', ['Info.X']],
        ['no-token', '', true, 'valid', []],
      ],
    );
    assert.deepEqual(report.clientCapabilities?.statusItems, ['a']);
    assert.equal(report.errors.length, 2);
    assert.equal(report.fullReport, false);
    assert.deepEqual(
      report.problems.map((p) => p.path),
      [
        'FullReport',
        'StatusItems.management.declarations.activations',
        'StatusItems.management.declarations.configurations[0]',
        'StatusItems.management.declarations.configurations[1].identifier',
        'StatusItems.management.declarations.configurations[2].active',
        'StatusItems.management.declarations.configurations[2].valid',
        'StatusItems.management.declarations.configurations[2].reasons[0]',
        'StatusItems.management.declarations.configurations[3].server-token',
        'StatusItems.management.declarations.configurations[3].reasons',
        'StatusItems.management.client-capabilities.supported-versions',
        'StatusItems.management.client-capabilities.supported-payloads.status-items',
        'Errors[0].StatusItem',
        'Errors[0].Reasons',
        'Errors[1]',
      ],
    );
  });

  it('notes a missing or malformed StatusItems and Errors', () => {
    assert.deepEqual(parsed('{}').problems, [{ path: 'StatusItems', message: 'missing' }]);
    assert.deepEqual(parsed('{"StatusItems":[],"Errors":{}}').problems.map((p) => p.path), ['StatusItems', 'Errors']);
    assert.deepEqual(parsed('{"StatusItems":{"management":{"declarations":[]}}}').problems.map((p) => p.path), ['StatusItems.management.declarations']);
  });
});

describe('status snapshot across reports', () => {
  const first = parsed(fixture('macos-full.json'));
  const later = parsed(fixture('macos-incremental.json'));
  const t1 = new Date('2026-01-01T10:00:00Z');
  const t2 = new Date('2026-01-02T10:00:00Z');
  const afterFirst = mergeStatusReport(undefined, first, t1);
  const afterSecond = mergeStatusReport(afterFirst, later, t2);

  it('keeps the declaration status of the last report that carried one', () => {
    assert.equal(afterSecond.declarations?.statuses.length, 5);
    assert.equal(afterSecond.declarations?.reportedAt, t1.toISOString());
    assert.deepEqual(afterSecond.clientCapabilities, first.clientCapabilities);
  });

  it('replaces changed items, keeps unchanged ones, and applies list changes by identifier', () => {
    const values = afterSecond.values;
    assert.deepEqual(values['device.operating-system.version'], { value: '15.5', reportedAt: t2.toISOString() });
    assert.deepEqual(values['device.identifier.serial-number'], { value: 'C02XK0ABCDEF', reportedAt: t1.toISOString() });
    assert.deepEqual(values['account.list.caldav']?.value, [
      { identifier: 'ACC-1', 'declaration-identifier': 'com.example.caldav', 'visible-name': 'Work Calendar (new)', hostname: 'caldav.example.com' },
    ]);
    assert.equal((afterFirst.values['account.list.caldav']?.value as unknown[]).length, 2, 'the earlier snapshot is not modified');
    assert.equal(afterSecond.updatedAt, t2.toISOString());
  });

  it('lets a full report replace every value', () => {
    const full = parsed(JSON.stringify({ StatusItems: { device: { model: { family: 'Mac' } } }, Errors: [], FullReport: true }));
    const snapshot = mergeStatusReport(afterSecond, full, t2);
    assert.deepEqual(Object.keys(snapshot.values), ['device.model.family']);
    assert.equal(snapshot.declarations?.statuses.length, 5, 'declaration status is not a value: it stays');
  });

  it('drops removed entries from a list it sees for the first time', () => {
    const report = parsed(JSON.stringify({ StatusItems: { mdm: { app: [{ identifier: 'a', _removed: true }, { identifier: 'b', name: 'B' }] } } }));
    assert.deepEqual(mergeStatusReport(undefined, report, t1).values['mdm.app']?.value, [{ identifier: 'b', name: 'B' }]);
  });

  it('takes an item named __proto__ as an item', () => {
    const report = parsed('{"StatusItems":{"__proto__":{"polluted":true}}}');
    const snapshot: StatusSnapshot = mergeStatusReport(undefined, report, t1);
    assert.deepEqual(Object.keys(snapshot.values), ['__proto__.polluted']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('declaration states', () => {
  const passcode = { ...tokened({ type: 'com.apple.configuration.passcode.settings', identifier: 'com.example.passcode', payload: {} }), serverToken: '00000000000000000000000000000002' };
  const update = {
    ...tokened({ type: 'com.apple.configuration.softwareupdate.enforcement.specific', identifier: 'com.example.update', payload: { TargetOSVersion: '18.5', TargetLocalDateTime: '2026-01-01T00:00:00' } }),
    serverToken: '44445555666677778888999900001111',
  };
  const fresh = tokened({ type: 'com.apple.configuration.management.test', identifier: 'com.example.fresh', payload: { Echo: 'x' } });
  const activation = tokened({
    type: 'com.apple.activation.simple',
    identifier: 'com.example.act',
    payload: { StandardConfigurations: ['com.example.passcode', 'com.example.update', 'com.example.fresh'] },
  });
  const effective = effectiveDeclarations({ assigned: [passcode, update, fresh, activation] });

  it('tells pending, out-of-date, failed and the unassigned ones the device still holds', () => {
    const report = parsed(fixture('ios-declarations.json'));
    const { declarations, unassigned } = declarationStates(effective, report.declarations);
    assert.deepEqual(
      declarations.map((s) => [s.declaration.identifier, s.state]),
      [
        ['com.example.passcode', 'out-of-date'],
        ['com.example.update', 'failed'],
        ['com.example.fresh', 'pending'],
        ['com.example.act', 'pending'],
      ],
    );
    assert.deepEqual(declarations[1]?.reported?.reasons.map((r) => r.code), ['Error.InvalidPayload']);
    assert.equal(declarations[0]?.reported?.serverToken, '00000000000000000000000000000001');
    assert.deepEqual(unassigned.map((s) => s.identifier), ['com.example.removed']);
  });

  it('tells active from inactive and failed when the tokens are current', () => {
    const report = parsed(fixture('macos-full.json'));
    const served = effectiveDeclarations({
      assigned: (report.declarations ?? [])
        .filter((d) => !d.identifier.startsWith('aspen.'))
        .map((d) => ({ type: d.kind === 'management' ? 'com.apple.management.organization-info' : 'com.apple.configuration.management.test', identifier: d.identifier, payload: {}, serverToken: d.serverToken })),
    });
    const states = Object.fromEntries(declarationStates(served, report.declarations).declarations.map((s) => [s.declaration.identifier, s.state]));
    assert.equal(states['com.example.passcode'], 'active');
    assert.equal(states['com.example.echo'], 'inactive');
    assert.equal(states['com.example.caldav'], 'failed');
    assert.equal(states['com.example.org'], 'active');
  });

  it('is all pending before any report', () => {
    const { declarations, unassigned } = declarationStates(effective, undefined);
    assert.ok(declarations.every((s) => s.state === 'pending' && s.reported === undefined));
    assert.deepEqual(unassigned, []);
  });

  it('counts an active declaration with an Error reason as failed', () => {
    const [state] = declarationStates([{ ...fresh, kind: 'configuration', generated: false }], [
      { kind: 'configurations', identifier: fresh.identifier, serverToken: fresh.serverToken, active: true, valid: 'valid', reasons: [{ code: 'Error.MissingAssets' }] },
    ]).declarations;
    assert.equal(state?.state, 'failed');
  });
});
