import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnrollmentIdError, resolveEnrollment, SHARED_IPAD_USER_ID } from '../../src/protocol/enrollment-id.ts';

describe('resolveEnrollment', () => {
  it('device channel of a device enrollment is the UDID', () => {
    assert.deepEqual(resolveEnrollment({ UDID: 'U1' }), { id: 'U1', deviceId: 'U1', channel: 'device', type: 'device' });
  });

  it('device channel of a user enrollment is the EnrollmentID', () => {
    assert.deepEqual(resolveEnrollment({ EnrollmentID: 'E1' }), {
      id: 'E1',
      deviceId: 'E1',
      channel: 'device',
      type: 'user-enrollment-device',
    });
  });

  it('macOS user channel is <UDID>:<UserID>', () => {
    assert.deepEqual(resolveEnrollment({ UDID: 'U1', UserID: 'G1', UserShortName: 'ann', UserLongName: 'Ann' }), {
      id: 'U1:G1',
      deviceId: 'U1',
      channel: 'user',
      type: 'user',
    });
  });

  it('user-enrolled Mac user channel is <EnrollmentID>:<EnrollmentUserID>', () => {
    assert.deepEqual(resolveEnrollment({ EnrollmentID: 'E1', EnrollmentUserID: 'EU1', UserLongName: 'x' }), {
      id: 'E1:EU1',
      deviceId: 'E1',
      channel: 'user',
      type: 'user-enrollment-user',
    });
  });

  it('Shared iPad users share the all-F UserID and are told apart by UserShortName', () => {
    const a = resolveEnrollment({ UDID: 'IPAD', UserID: SHARED_IPAD_USER_ID, UserShortName: 'a@x.org' });
    const b = resolveEnrollment({ UDID: 'IPAD', UserID: SHARED_IPAD_USER_ID.toLowerCase(), UserShortName: 'b@x.org' });
    assert.deepEqual(a, { id: 'IPAD:a@x.org', deviceId: 'IPAD', channel: 'user', type: 'shared-ipad-user' });
    assert.equal(b.id, 'IPAD:b@x.org');
  });

  it('prefers the UDID when a message carries both UDID and EnrollmentID', () => {
    assert.equal(resolveEnrollment({ UDID: 'U1', EnrollmentID: 'E1' }).id, 'U1');
  });

  it('treats empty strings as absent', () => {
    assert.equal(resolveEnrollment({ UDID: 'U1', UserID: '' }).channel, 'device');
  });

  for (const [name, msg] of [
    ['no device id', {}],
    ['an empty UDID and no EnrollmentID', { UDID: '' }],
    ['a non-string UDID', { UDID: 5 }],
    ['a UDID containing the separator', { UDID: 'a:b' }],
    ['a Shared iPad user without UserShortName', { UDID: 'IPAD', UserID: SHARED_IPAD_USER_ID }],
    ['a user name without a UserID', { UDID: 'U1', UserShortName: 'ann' }],
  ] as const) {
    it(`refuses ${name}`, () => {
      assert.throws(() => resolveEnrollment(msg as Record<string, unknown>), EnrollmentIdError);
    });
  }
});
