// The accounts and audit sub-stores' contract (storage.accounts, storage.audit), for every
// backend: accounts with their tokens and sessions, liveness of sessions and tokens, the login
// limit raced from two connections as two Aspen instances would, and the audit log's filters and
// paging.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AccountStore, StoredAccount } from '../../src/storage/accounts.ts';
import type { NewAuditEntry } from '../../src/storage/audit.ts';
import type { Storage } from '../../src/storage/storage.ts';
import type { BackendUnderTest } from './contract.ts';

const T0 = '2026-01-01T00:00:00.000Z';
const iso = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

const account = (name: string, role: StoredAccount['role'] = 'viewer'): StoredAccount => ({
  id: `id-${name}`,
  name,
  role,
  passwordHash: `scrypt$hash-of-${name}`,
  createdAt: T0,
  updatedAt: T0,
  passwordChangedAt: T0,
});

const live = (at: string) => ({ at, idleSince: iso(Date.parse(at) - Date.parse(T0) - 3600_000), touchBefore: iso(Date.parse(at) - Date.parse(T0) - 60_000) });

export function accountsContract(name: string, open: () => Promise<BackendUnderTest>, options: { skip?: string | false } = {}): void {
  describe(`accounts and audit store contract: ${name}`, { skip: options.skip }, () => {
    let backend: BackendUnderTest;
    let s: Storage;
    let a: AccountStore;
    before(async () => {
      backend = await open();
      s = backend.storage;
      a = s.accounts;
    });
    after(() => backend?.destroy());

    it('keeps accounts by unique name, changes role and password, and removes them with their tokens and sessions', async () => {
      assert.equal(await a.createAccount(account('ann', 'admin')), true);
      assert.equal(await a.createAccount({ ...account('ann'), id: 'other' }), false, 'the name is taken');
      assert.equal(await a.createAccount(account('bob')), true);
      assert.equal((await a.accountByName('ann'))?.passwordHash, 'scrypt$hash-of-ann');
      assert.equal((await a.accountById('id-bob'))?.name, 'bob');
      assert.deepEqual((await a.listAccounts()).map((x) => [x.name, x.role]), [['ann', 'admin'], ['bob', 'viewer']]);
      assert.equal('passwordHash' in (await a.listAccounts())[0]!, false, 'a listing holds no hash');

      await a.createSession({ tokenHash: 'bob-s1', accountId: 'id-bob', createdAt: T0, expiresAt: iso(86_400_000), clientAddress: '192.0.2.1' });
      const promoted = await a.updateAccount('id-bob', { role: 'operator', at: iso(1000) });
      assert.equal(promoted?.role, 'operator');
      assert.equal(promoted?.passwordChangedAt, T0, 'a role change is no password change');
      assert.ok(await a.session('bob-s1', live(iso(2000))), 'a role change keeps the sessions');
      const repassworded = await a.updateAccount('id-bob', { passwordHash: 'scrypt$new', at: iso(3000) });
      assert.equal(repassworded?.passwordChangedAt, iso(3000));
      assert.equal((await a.accountByName('bob'))?.passwordHash, 'scrypt$new');
      assert.equal(await a.session('bob-s1', live(iso(4000))), undefined, 'a new password ends the sessions');
      assert.equal(await a.updateAccount('nobody', { role: 'admin', at: T0 }), undefined);

      await a.createToken({ id: 'tok-bob', accountId: 'id-bob', name: null, tokenHash: 'h-bob', createdAt: T0, createdBy: 'ann', expiresAt: null });
      await a.createSession({ tokenHash: 'bob-s2', accountId: 'id-bob', createdAt: T0, expiresAt: iso(86_400_000), clientAddress: null });
      assert.equal(await a.removeAccount('id-bob'), true);
      assert.equal(await a.removeAccount('id-bob'), false);
      assert.equal(await a.tokenById('tok-bob'), undefined, 'its tokens went with it');
      assert.equal(await a.session('bob-s2', live(iso(1000))), undefined, 'and its sessions');
    });

    it('finds a token by its hash while unexpired, with its account, refreshing its last use at most once a minute', async () => {
      await a.createAccount(account('cat', 'operator'));
      const made = await a.createToken({ id: 'tok-1', accountId: 'id-cat', name: 'ci', tokenHash: 'h1', createdAt: T0, createdBy: 'api-key', expiresAt: iso(3600_000) });
      assert.deepEqual([made.accountName, made.name, made.lastUsedAt], ['cat', 'ci', null]);
      const found = await a.tokenByHash('h1', { at: iso(1000), touchBefore: iso(-59_000) });
      assert.equal(found?.account.role, 'operator');
      assert.equal(found?.token.lastUsedAt, iso(1000));
      await a.tokenByHash('h1', { at: iso(30_000), touchBefore: iso(-30_000) });
      assert.equal((await a.tokenById('tok-1'))?.lastUsedAt, iso(1000), 'not written again within the minute');
      await a.tokenByHash('h1', { at: iso(70_000), touchBefore: iso(10_000) });
      assert.equal((await a.tokenById('tok-1'))?.lastUsedAt, iso(70_000));
      assert.equal(await a.tokenByHash('h1', { at: iso(3600_000), touchBefore: T0 }), undefined, 'expired');
      assert.equal(await a.tokenByHash('nope', { at: T0, touchBefore: T0 }), undefined);

      await a.createToken({ id: 'tok-2', accountId: 'id-cat', name: null, tokenHash: 'h2', createdAt: iso(5000), createdBy: 'cat', expiresAt: null });
      await a.createAccount(account('dan'));
      await a.createToken({ id: 'tok-3', accountId: 'id-dan', name: null, tokenHash: 'h3', createdAt: iso(6000), createdBy: 'dan', expiresAt: null });
      assert.deepEqual((await a.listTokens({ accountId: 'id-cat' })).map((t) => t.id), ['tok-2', 'tok-1'], 'newest first');
      assert.deepEqual((await a.listTokens({})).map((t) => t.id).slice(0, 3), ['tok-3', 'tok-2', 'tok-1']);
      assert.equal((await a.removeToken('tok-2'))?.id, 'tok-2');
      assert.equal(await a.removeToken('tok-2'), undefined);
      assert.equal(await a.tokenByHash('h2', { at: iso(7000), touchBefore: T0 }), undefined, 'a revoked token is gone');
    });

    it('keeps a session alive until its absolute limit or too long idle, and ends one or all of an account', async () => {
      await a.createAccount(account('eve'));
      await a.createSession({ tokenHash: 'eve-1', accountId: 'id-eve', createdAt: T0, expiresAt: iso(4 * 3600_000), clientAddress: null });
      await a.createSession({ tokenHash: 'eve-2', accountId: 'id-eve', createdAt: T0, expiresAt: iso(4 * 3600_000), clientAddress: null });
      const seen = await a.session('eve-1', live(iso(3000_000)));
      assert.equal(seen?.account.name, 'eve');
      assert.equal(seen?.lastSeenAt, iso(3000_000), 'its last use refreshed');
      // eve-2 was last seen at T0: idle for more than the hour `live` allows.
      assert.equal(await a.session('eve-2', live(iso(3700_000))), undefined, 'idle too long');
      assert.ok(await a.session('eve-1', live(iso(3700_000))), 'used within the hour');
      assert.equal(await a.session('eve-1', live(iso(4 * 3600_000))), undefined, 'past its absolute limit');
      await a.createSession({ tokenHash: 'eve-3', accountId: 'id-eve', createdAt: T0, expiresAt: iso(86_400_000), clientAddress: null });
      assert.equal(await a.removeSession('eve-3'), true);
      assert.equal(await a.removeSession('eve-3'), false);
      assert.equal(await a.removeSessions('id-eve'), 2);
      const pruned = await a.prune({ at: iso(86_400_000), failuresBefore: T0 });
      assert.equal(pruned.sessions, 0, 'nothing left to prune');
    });

    it('refuses an attempt once a key has the limit of failures in the window, until the oldest leaves it; a success takes its failure back', async () => {
      const attempt = (n: number, keys = ['name:fay', 'address:192.0.2.9'], atMs = n * 1000) =>
        a.beginLoginAttempt({ attempt: `fay-${n}-${keys.join()}`, keys, at: iso(atMs), windowStart: iso(atMs - 60_000), limit: 10 });
      for (let n = 1; n <= 9; n++) assert.deepEqual(await attempt(n), { allowed: true });
      assert.deepEqual(await attempt(10), { allowed: true });
      await a.forgetLoginAttempt('fay-10-name:fay,address:192.0.2.9');
      assert.deepEqual(await attempt(11), { allowed: true }, 'the success before did not count');
      assert.deepEqual(await attempt(12), { allowed: false, retryAt: iso(61_000) }, 'the 11th failure in a minute is refused until the first leaves');
      assert.deepEqual(await attempt(13, ['name:other', 'address:192.0.2.9']), { allowed: false, retryAt: iso(61_000) }, 'the address is at its limit for any name');
      assert.deepEqual(await attempt(14, ['name:fay']), { allowed: false, retryAt: iso(61_000) }, 'the name is at its limit from any address');
      assert.deepEqual(await attempt(15, ['name:other', 'address:192.0.2.10']), { allowed: true });
      assert.deepEqual(await attempt(61, ['name:fay'], 61_500), { allowed: true }, 'the first failure left the window');
      const pruned = await a.prune({ at: iso(61_500), failuresBefore: iso(5_500) });
      assert.equal(pruned.loginFailures, 10, 'failures 1 to 5, of both keys');
    });

    it('counts racing attempts from two connections one after the other', async (t) => {
      const other = await backend.second();
      t.after(() => other.close());
      const at = iso(10 * 60_000);
      const race = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          (i % 2 === 0 ? a : other.accounts).beginLoginAttempt({ attempt: `race-${i}`, keys: ['name:race'], at, windowStart: iso(9 * 60_000), limit: 10 }),
        ),
      );
      assert.equal(race.filter((r) => r.allowed).length, 10);
    });

    it('appends audit entries with their targets and lists them newest first, filtered and paged', async () => {
      const entry = (n: number, over: Partial<NewAuditEntry> = {}): NewAuditEntry => ({
        at: iso(n * 1000),
        actor: 'ann',
        via: 'token',
        accountId: 'id-ann',
        credential: 'tok-1',
        action: 'command.queue',
        method: 'POST',
        path: '/v1/commands',
        status: 201,
        outcome: 'ok',
        targets: [{ kind: 'enrollment', id: `E${n}` }, { kind: 'command', id: `C${n}` }],
        details: { request_type: 'DeviceInformation' },
        clientAddress: '192.0.2.1',
        ...over,
      });
      const seqs: number[] = [];
      for (let n = 1; n <= 5; n++) seqs.push(await s.audit.append(entry(n)));
      seqs.push(await s.audit.append(entry(6, { actor: 'bob', via: 'session', action: 'webhook.create', status: 403, outcome: 'refused', targets: [], details: null })));
      assert.ok(seqs.every((q, i) => i === 0 || q > seqs[i - 1]!), 'seq increases');

      const all = await s.audit.list({}, { limit: 100 });
      assert.deepEqual(all.map((e) => e.seq), [...seqs].reverse());
      assert.deepEqual(all[1], { ...entry(5), seq: seqs[4] }, 'an entry reads back as written, targets in order');
      assert.deepEqual((await s.audit.list({ actor: 'bob' }, { limit: 10 })).map((e) => [e.action, e.outcome, e.targets, e.details]), [['webhook.create', 'refused', [], null]]);
      assert.equal((await s.audit.list({ action: 'command.queue' }, { limit: 10 })).length, 5);
      assert.deepEqual((await s.audit.list({ target: 'C3' }, { limit: 10 })).map((e) => e.seq), [seqs[2]]);
      assert.deepEqual((await s.audit.list({ since: iso(2000), until: iso(4000) }, { limit: 10 })).map((e) => e.seq), [seqs[2], seqs[1]], 'since inclusive, until exclusive');
      const first = await s.audit.list({ action: 'command.queue' }, { limit: 2 });
      const second = await s.audit.list({ action: 'command.queue' }, { before: first.at(-1)!.seq, limit: 2 });
      assert.deepEqual([...first, ...second].map((e) => e.seq), [seqs[4], seqs[3], seqs[2], seqs[1]]);
      assert.equal(await s.audit.prune(iso(3000)), 2);
      assert.equal((await s.audit.list({}, { limit: 100 })).length, 4);
    });
  });
}
