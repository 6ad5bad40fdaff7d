// The pieces of access.ts the console builds on that need no server: the cookies it sets, the
// login form's double-submit CSRF check, and which commands take the admin's permission.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestTypeOf } from '../../src/http/admin/route-permissions.ts';
import { clearedSessionCookie, LOGIN_CSRF_COOKIE, loginCsrfCookie, loginCsrfMatches, secret, sessionCookie, sessionIdFromCookie } from '../../src/service/access.ts';
import { queuePermission, roleHolds } from '../../src/service/permissions.ts';
import { hashPassword, verifyPassword } from '../../src/service/passwords.ts';

describe('console cookies', () => {
  it('sets the session cookie HttpOnly and SameSite=Strict, Secure over TLS, ending with the session', () => {
    const expiresAt = new Date('2026-01-01T12:00:00Z');
    const plain = sessionCookie('abc', { expiresAt }, { secure: false });
    assert.equal(plain, 'aspen_session=abc; Path=/; HttpOnly; SameSite=Strict; Expires=Thu, 01 Jan 2026 12:00:00 GMT');
    assert.match(sessionCookie('abc', { expiresAt }, { secure: true }), /; Secure$/);
    assert.match(clearedSessionCookie({ secure: true }), /^aspen_session=; .*Max-Age=0; Secure$/);
    assert.equal(sessionIdFromCookie('theme=dark; aspen_session=s%2B1; x=y'), 's+1');
    assert.equal(sessionIdFromCookie('aspen_session=%E0%A4%A'), undefined, 'a malformed value is no session');
    assert.equal(sessionIdFromCookie(undefined), undefined);
  });

  it('accepts a login form only with the field matching its cookie', () => {
    const value = secret();
    assert.match(loginCsrfCookie(value, { secure: true }), new RegExp(`^${LOGIN_CSRF_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600; Secure$`));
    assert.equal(loginCsrfMatches(`${LOGIN_CSRF_COOKIE}=${value}`, value), true);
    assert.equal(loginCsrfMatches(`${LOGIN_CSRF_COOKIE}=${value}`, secret()), false);
    assert.equal(loginCsrfMatches(undefined, value), false);
    assert.equal(loginCsrfMatches(`${LOGIN_CSRF_COOKIE}=`, ''), false, 'an empty pair is no token');
  });
});

describe('permissions', () => {
  it('orders roles, and reads a command’s RequestType wherever it is to decide its permission', () => {
    assert.equal(roleHolds('viewer', 'read'), true);
    assert.equal(roleHolds('viewer', 'commands.queue'), false);
    assert.equal(roleHolds('operator', 'commands.queue'), true);
    assert.equal(roleHolds('operator', 'commands.destructive'), false);
    assert.equal(roleHolds('admin', 'accounts.manage'), true);
    assert.equal(queuePermission(requestTypeOf({ command: { RequestType: 'DeviceInformation' } })), 'commands.queue');
    assert.equal(queuePermission(requestTypeOf({ command: { RequestType: 'EraseDevice' } })), 'commands.destructive');
    const plist = '<plist version="1.0"><dict><key>Command</key><dict><key>RequestType</key><string>DeviceLock</string></dict></dict></plist>';
    assert.equal(requestTypeOf({ plist }), 'DeviceLock');
    assert.equal(requestTypeOf(Buffer.from(plist)), 'DeviceLock');
    assert.equal(queuePermission(requestTypeOf(Buffer.from('garbage'))), 'commands.destructive', 'unreadable: the admin’s');
  });
});

describe('passwords', () => {
  it('hashes with scrypt, salted, and verifies only the right password', async () => {
    const one = await hashPassword('correct horse battery staple');
    const two = await hashPassword('correct horse battery staple');
    assert.match(one, /^scrypt\$16384\$8\$1\$/);
    assert.notEqual(one, two, 'salted');
    assert.equal(await verifyPassword('correct horse battery staple', one), true);
    assert.equal(await verifyPassword('correct horse battery stapler', one), false);
    assert.equal(await verifyPassword('x', 'not a hash'), false);
  });
});
