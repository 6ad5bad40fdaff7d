// The CLI's plain-text formatting and the typing of `aspen send --Key value` flags.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandFromFlags } from '../../src/cli/command-input.ts';
import { UsageError } from '../../src/cli/errors.ts';
import { keyValues, shortTime, table } from '../../src/cli/table.ts';

describe('table and times', () => {
  it('aligns columns without trailing blanks', () => {
    assert.equal(table(['ID', 'STATE', 'X'], [['a-long-id', 'ok', ''], ['b', 'queued', 'last']]), 'ID         STATE   X\na-long-id  ok      \nb          queued  last');
    assert.equal(keyValues([['id', 'x'], ['skipped', undefined], ['longer', 'y']]), 'id      x\nlonger  y');
  });

  it('shortens times: the time of day for today, date and minutes otherwise', () => {
    const now = new Date(2025, 5, 15, 18, 0, 0);
    assert.equal(shortTime(new Date(2025, 5, 15, 9, 5, 7).toISOString(), now), '09:05:07');
    assert.equal(shortTime(new Date(2025, 5, 14, 23, 59, 59).toISOString(), now), '2025-06-14 23:59');
    assert.equal(shortTime(null, now), '-');
  });
});

describe('commandFromFlags', () => {
  it('types values by the command schema', async () => {
    assert.deepEqual(await commandFromFlags('DeviceInformation', [['Queries', 'SerialNumber, OSVersion']]), {
      RequestType: 'DeviceInformation',
      Queries: ['SerialNumber', 'OSVersion'],
    });
    assert.deepEqual(await commandFromFlags('InstallApplication', [['iTunesStoreID', '42'], ['InstallAsManaged', 'false'], ['Identifier', '42']]), {
      RequestType: 'InstallApplication',
      iTunesStoreID: 42,
      InstallAsManaged: false,
      Identifier: '42',
    });
    // Dictionaries (and arrays of them) as JSON.
    assert.deepEqual(await commandFromFlags('Settings', [['Settings', '[{"Item":"DeviceName","DeviceName":"Kiosk"}]']]), {
      RequestType: 'Settings',
      Settings: [{ Item: 'DeviceName', DeviceName: 'Kiosk' }],
    });
  });

  it('refuses RequestTypes and keys the schema does not know, naming the likely ones', async () => {
    await assert.rejects(commandFromFlags('NoSuchCommand', [['Flag', 'true']]), (err: Error) => err instanceof UsageError && err.message === 'unknown RequestType NoSuchCommand');
    await assert.rejects(commandFromFlags('profilelist', []), /^UsageError: unknown RequestType profilelist \(did you mean ProfileList\?\)$/);
    await assert.rejects(commandFromFlags('EraseDevise', []), /did you mean EraseDevice\?/);
    await assert.rejects(commandFromFlags('ProfileList', [['managedOnly', 'true']]), /ProfileList has no key managedOnly \(did you mean --ManagedOnly\?\)/);
    // Open dictionaries take any key: nothing to refuse.
    assert.deepEqual(await commandFromFlags('Settings', [['Settings', '[]']]), { RequestType: 'Settings', Settings: [] });
  });

  it('refuses values that do not fit the type', async () => {
    await assert.rejects(commandFromFlags('InstallApplication', [['iTunesStoreID', '4.5']]), UsageError);
    await assert.rejects(commandFromFlags('InstallApplication', [['Options', 'not json']]), /--Options expects JSON/);
    await assert.rejects(commandFromFlags('ProfileList', [['ManagedOnly', 'true'], ['ManagedOnly', 'false']]), /given twice/);
  });
});
