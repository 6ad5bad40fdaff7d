// Validation failures name the key path and what was expected, and all of them are reported.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildCommandPlist,
  CommandValidationError,
  validateCommandJson,
  validateCommandPlist,
} from '../../../src/protocol/commands/index.ts';
import type { CommandIssue } from '../../../src/protocol/commands/index.ts';

/** The errors of a validation that must fail. */
function errorsOf(result: { ok: true } | { ok: false; errors: CommandIssue[] }): CommandIssue[] {
  assert.equal(result.ok, false, 'expected validation to fail');
  return result.ok ? [] : result.errors;
}

function assertIssue(errors: CommandIssue[], path: string, message: RegExp): void {
  const atPath = errors.filter((e) => e.path === path);
  assert.ok(atPath.length > 0, `no error at ${path}; got ${JSON.stringify(errors)}`);
  assert.ok(atPath.some((e) => message.test(e.message)), `error at ${path} does not match ${message}: ${JSON.stringify(atPath)}`);
}

const commandPlist = (inner: string, uuid = '<key>CommandUUID</key><string>u-1</string>') =>
  `<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>${uuid}<key>Command</key><dict>${inner}</dict></dict></plist>`;

describe('validateCommandJson', () => {
  test('accepts a valid command and returns the plist value tree', () => {
    const result = validateCommandJson({ RequestType: 'InstallProfile', Payload: 'aGVsbG8=' });
    assert.ok(result.ok);
    assert.equal(result.requestType, 'InstallProfile');
    assert.deepEqual(result.command, { RequestType: 'InstallProfile', Payload: new Uint8Array(Buffer.from('hello')) });
  });

  test('rejects a non-object, a missing RequestType and an unknown RequestType', () => {
    assertIssue(errorsOf(validateCommandJson(['DeviceLock'])), 'Command', /expected a dictionary/);
    assertIssue(errorsOf(validateCommandJson({ Queries: [] })), 'Command.RequestType', /missing/);
    assertIssue(errorsOf(validateCommandJson({ RequestType: 'DeviceUnlock' })), 'Command.RequestType', /unknown RequestType "DeviceUnlock"/);
  });

  test('wrong types name the path and the expected type', () => {
    const errors = errorsOf(validateCommandJson({ RequestType: 'InstallApplication', iTunesStoreID: '361309726', Options: { PurchaseMethod: 0.5 } }));
    assertIssue(errors, 'Command.iTunesStoreID', /expected an integer, got string "361309726"/);
    assertIssue(errors, 'Command.Options.PurchaseMethod', /expected an integer, got number 0.5/);
    assertIssue(errorsOf(validateCommandJson({ RequestType: 'DeviceLock', Message: 42 })), 'Command.Message', /expected a string/);
    assertIssue(errorsOf(validateCommandJson({ RequestType: 'EraseDevice', PreserveDataPlan: 'yes' })), 'Command.PreserveDataPlan', /expected a boolean/);
    assertIssue(errorsOf(validateCommandJson({ RequestType: 'DeviceInformation', Queries: 'UDID' })), 'Command.Queries', /expected an array/);
  });

  test('missing required keys are named, with their type', () => {
    assertIssue(errorsOf(validateCommandJson({ RequestType: 'InstallProfile' })), 'Command.Payload', /missing required key \(data\)/);
    assertIssue(errorsOf(validateCommandJson({ RequestType: 'DeviceInformation' })), 'Command.Queries', /missing required key \(array\)/);
  });

  test('bad base64 is rejected', () => {
    assertIssue(errorsOf(validateCommandJson({ RequestType: 'InstallProfile', Payload: 'not base64!' })), 'Command.Payload', /expected base64 string/);
    assertIssue(errorsOf(validateCommandJson({ RequestType: 'InstallProfile', Payload: 'abc' })), 'Command.Payload', /expected base64 string/);
  });

  test('wrapped base64 is accepted', () => {
    const result = validateCommandJson({ RequestType: 'InstallProfile', Payload: 'aGVs\nbG8=' });
    assert.ok(result.ok);
    assert.deepEqual(result.command.Payload, new Uint8Array(Buffer.from('hello')));
  });

  test('unknown keys are errors, with a suggestion for a near miss', () => {
    const errors = errorsOf(validateCommandJson({ RequestType: 'DeviceLock', message: 'hi', Colour: 'red' }));
    assertIssue(errors, 'Command.message', /unknown key \(did you mean "Message"\?\)/);
    assertIssue(errors, 'Command.Colour', /unknown key \(allowed: .*PIN/);
  });

  test('enumerated values are enforced, short lists spelled out, long ones summarised', () => {
    assertIssue(
      errorsOf(validateCommandJson({ RequestType: 'EraseDevice', ObliterationBehavior: 'Sometimes' })),
      'Command.ObliterationBehavior',
      /expected one of "Default", "DoNotObliterate", "ObliterateWithWarning", "Always", got string "Sometimes"/,
    );
    assertIssue(
      errorsOf(validateCommandJson({ RequestType: 'DeviceInformation', Queries: ['UDID', 'serialnumber'] })),
      'Command.Queries[1]',
      /did you mean "SerialNumber"\?/,
    );
  });

  test('errors inside nested arrays and variant dictionaries carry the item index', () => {
    const errors = errorsOf(
      validateCommandJson({
        RequestType: 'Settings',
        Settings: [
          { Item: 'DeviceName', DeviceName: 'ok' },
          { Item: 'Wallpaper', Image: 'AAAA', Where: 4 },
          { Item: 'NoSuchSetting' },
          { DeviceName: 'no Item' },
          { Item: 'DataRoaming' },
        ],
      }),
    );
    assertIssue(errors, 'Command.Settings[1].Where', /expected one of 1, 2, 3, got number 4/);
    assertIssue(errors, 'Command.Settings[2].Item', /expected one of 20 allowed values/);
    assertIssue(errors, 'Command.Settings[3].Item', /missing required key/);
    assertIssue(errors, 'Command.Settings[4].Enabled', /missing required key \(boolean\)/);
    assert.equal(errors.length, 4);

    const accounts = errorsOf(
      validateCommandJson({ RequestType: 'AccountConfiguration', AutoSetupAdminAccounts: [{ shortName: 'admin' }, { fullName: 'No Short Name', hidden: 1 }] }),
    );
    assertIssue(accounts, 'Command.AutoSetupAdminAccounts[1].shortName', /missing required key \(string\)/);
    assertIssue(accounts, 'Command.AutoSetupAdminAccounts[1].hidden', /expected a boolean/);
    assert.equal(accounts.length, 2);
  });

  test('free-form (any) values take any JSON except null', () => {
    const configuration = { ServerURL: 'https://example.com', Retries: 3, Nested: { List: [true, 1.5, 'x'] } };
    const installed = validateCommandJson({ RequestType: 'InstallApplication', Identifier: 'com.example.app', Configuration: configuration });
    assert.ok(installed.ok);
    assert.deepEqual(installed.command.Configuration, configuration);
    assertIssue(
      errorsOf(validateCommandJson({ RequestType: 'InstallApplication', Configuration: { Broken: null } })),
      'Command.Configuration.Broken',
      /without nulls/,
    );
  });

  test('"__proto__" in a free-form dictionary stays an ordinary key', () => {
    const input = JSON.parse('{"RequestType":"InstallApplication","Configuration":{"__proto__":{"polluted":true}}}') as unknown;
    const result = validateCommandJson(input);
    assert.ok(result.ok);
    const configuration = result.command.Configuration as object;
    assert.equal(Object.getPrototypeOf(configuration), Object.prototype);
    assert.deepEqual(Object.keys(configuration), ['__proto__']);
    assert.match(buildCommandPlist({ commandUuid: 'p', command: result.command }), /<key>__proto__<\/key>\s*<dict>\s*<key>polluted<\/key>/);
  });

  test('strings XML cannot carry are rejected rather than sent broken', () => {
    assertIssue(errorsOf(validateCommandJson({ RequestType: 'DeviceLock', Message: 'bell\u0007' })), 'Command.Message', /XML cannot carry/);
  });
});

describe('validateCommandPlist', () => {
  test('returns CommandUUID, RequestType and the command', () => {
    const result = validateCommandPlist(commandPlist('<key>RequestType</key><string>InstallProfile</string><key>Payload</key><data>aGVsbG8=</data>'));
    assert.ok(result.ok);
    assert.equal(result.commandUuid, 'u-1');
    assert.equal(result.requestType, 'InstallProfile');
    assert.deepEqual(result.command.Payload, new Uint8Array(Buffer.from('hello')));
  });

  test('CommandUUID is optional; when present it must be a string of the admin CommandUUID rule', () => {
    const without = validateCommandPlist(commandPlist('<key>RequestType</key><string>ProfileList</string>', ''));
    assert.ok(without.ok);
    assert.equal(without.commandUuid, undefined);
    const numeric = validateCommandPlist(commandPlist('<key>RequestType</key><string>ProfileList</string>', '<key>CommandUUID</key><integer>1</integer>'));
    assertIssue(errorsOf(numeric), 'CommandUUID', /expected a string/);
    const slashed = validateCommandPlist(commandPlist('<key>RequestType</key><string>ProfileList</string>', '<key>CommandUUID</key><string>a/b</string>'));
    assertIssue(errorsOf(slashed), 'CommandUUID', /1 to 200 characters/);
  });

  test('in plist form, data must be <data>, not a base64 string', () => {
    assertIssue(
      errorsOf(validateCommandPlist(commandPlist('<key>RequestType</key><string>InstallProfile</string><key>Payload</key><string>aGVsbG8=</string>'))),
      'Command.Payload',
      /expected <data>, got string/,
    );
  });

  test('rejects malformed XML, a missing Command and stray top-level keys', () => {
    assertIssue(errorsOf(validateCommandPlist('<plist><dict><key>Command</key>')), '$', /malformed plist/);
    assertIssue(errorsOf(validateCommandPlist('{"RequestType":"ProfileList"}')), '$', /not an XML plist/);
    const bare = errorsOf(validateCommandPlist('<plist version="1.0"><dict><key>RequestType</key><string>ProfileList</string></dict></plist>'));
    assertIssue(bare, 'Command', /missing required key/);
    assertIssue(bare, 'RequestType', /unknown key/);
  });

  test('reports envelope and command errors together', () => {
    const errors = errorsOf(
      validateCommandPlist(commandPlist('<key>RequestType</key><string>EraseDevice</string><key>PIN</key><integer>123456</integer>', '<key>CommandUUID</key><string></string>')),
    );
    assertIssue(errors, 'CommandUUID', /1 to 200 characters/);
    assertIssue(errors, 'Command.PIN', /expected a string, got number 123456/);
  });
});

describe('buildCommandPlist', () => {
  test('refuses an invalid command or an empty CommandUUID', () => {
    assert.throws(() => buildCommandPlist({ commandUuid: 'x', command: { RequestType: 'InstallProfile' } }), (err) => {
      assert.ok(err instanceof CommandValidationError);
      assert.deepEqual(err.errors.map((e) => e.path), ['Command.Payload']);
      return true;
    });
    assert.throws(() => buildCommandPlist({ commandUuid: '', command: { RequestType: 'ProfileList' } }), CommandValidationError);
  });
});
