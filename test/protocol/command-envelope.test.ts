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
  ] as const) {
    it(`refuses ${name}`, () => {
      assert.throws(() => prepareRawCommand(encodePlist(value as never)), PlistError);
    });
  }
});
