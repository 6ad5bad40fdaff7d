import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { didYouMean, suggestions } from '../../src/protocol/suggest.ts';

describe('suggestions', () => {
  const names = ['DeviceInformation', 'DeviceLock', 'DeviceConfigured', 'EraseDevice', 'ProfileList', 'ProvisioningProfileList'];

  it('finds the same name in another case, a near typo and an unambiguous prefix', () => {
    assert.deepEqual(suggestions('devicelock', names), ['DeviceLock']);
    assert.deepEqual(suggestions('EraseDevise', names), ['EraseDevice']);
    assert.deepEqual(suggestions('DeviceLokc', names), ['DeviceLock'], 'a swap is one edit');
    assert.deepEqual(suggestions('DeviceInfo', names), ['DeviceInformation']);
    assert.deepEqual(suggestions('checked_out', ['authenticated', 'enrolled', 'checked-out']), ['checked-out']);
  });

  it('suggests nothing rather than something unlikely', () => {
    assert.deepEqual(suggestions('MakeCoffee', names), []);
    assert.deepEqual(suggestions('Device', names), [], 'a prefix of several names');
    assert.deepEqual(suggestions('x', ['y', 'z']), [], 'short names need an exact near miss');
  });

  it('words one or several suggestions', () => {
    assert.equal(didYouMean('ProfileLis', names), 'did you mean "ProfileList"?');
    assert.equal(didYouMean('Lock', ['Luck', 'Lack', 'Lick', 'Lunch'], (n) => n), 'did you mean Lack, Lick or Luck?');
    assert.equal(didYouMean('MakeCoffee', names), '');
  });
});
