import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prepareRawCommand } from '../../src/protocol/command-envelope.ts';
import { decodePlistDict, encodePlist, PlistError } from '../../src/protocol/plist.ts';
import { fixture } from '../helpers/device.ts';

describe('prepareRawCommand', () => {
  it('keeps a command that has a CommandUUID byte for byte', () => {
    const body = fixture('micromdm/mdm/mdm/testdata/InstallProfile.plist');
    const env = prepareRawCommand(body);
    assert.equal(env.requestType, 'InstallProfile');
    assert.deepEqual(Buffer.from(env.payload), body);
  });

  it('adds a CommandUUID to a command without one and changes nothing else', () => {
    const body = encodePlist({ Command: { RequestType: 'DeviceInformation', Queries: ['UDID'] } });
    const env = prepareRawCommand(body, () => 'fixed-uuid');
    assert.equal(env.uuid, 'fixed-uuid');
    assert.deepEqual(decodePlistDict(env.payload), { CommandUUID: 'fixed-uuid', Command: { RequestType: 'DeviceInformation', Queries: ['UDID'] } });
  });

  for (const [name, value] of [
    ['no Command', { CommandUUID: 'a' }],
    ['no RequestType', { CommandUUID: 'a', Command: {} }],
    ['a non-string CommandUUID', { CommandUUID: 5, Command: { RequestType: 'ProfileList' } }],
    ['an empty CommandUUID', { CommandUUID: '', Command: { RequestType: 'ProfileList' } }],
    ['a CommandUUID longer than 200 characters', { CommandUUID: 'a'.repeat(201), Command: { RequestType: 'ProfileList' } }],
    ['a CommandUUID with a slash', { CommandUUID: 'a/b', Command: { RequestType: 'ProfileList' } }],
    ['a CommandUUID with a space', { CommandUUID: 'a b', Command: { RequestType: 'ProfileList' } }],
  ] as const) {
    it(`refuses ${name}`, () => {
      assert.throws(() => prepareRawCommand(encodePlist(value as never)), PlistError);
    });
  }

  it('accepts a CommandUUID of 200 URL-safe characters', () => {
    const uuid = `0001_Device.Information~${'-'.repeat(176)}`;
    assert.equal(uuid.length, 200);
    assert.equal(prepareRawCommand(encodePlist({ CommandUUID: uuid, Command: { RequestType: 'ProfileList' } })).uuid, uuid);
  });

  it('refuses a value the device could not read either, naming its key path', () => {
    const body = '<plist><dict><key>CommandUUID</key><string>d-1</string><key>Command</key><dict><key>RequestType</key><string>Settings</string>' +
      '<key>Settings</key><array><dict><key>Date</key><date>2024-13-45T25:61:61Z</date></dict></array></dict></dict></plist>';
    assert.throws(() => prepareRawCommand(body), (err: unknown) => err instanceof PlistError && err.keyPath === 'Command.Settings[0].Date');
  });
});
