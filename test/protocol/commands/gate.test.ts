// The platform/channel gate and platform detection, checked against facts stated in commands.json.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { commandAllowed, commandRegistry, compareVersions, detectPlatform, PLATFORMS } from '../../../src/protocol/commands/index.ts';
import type { CommandTarget, Platform } from '../../../src/protocol/commands/index.ts';

const counts = (
  JSON.parse(readFileSync(new URL('../../../src/protocol/schema/commands.json', import.meta.url), 'utf8')) as {
    counts: {
      'by_platform_27.0': Record<Platform, number>;
      'macOS_user_channel_capable_27.0': string[];
      'iOS_sharedIPad_user_channel_capable_27.0': string[];
      'supervised_only_on_iOS_27.0': string[];
    };
  }
).counts;

const device = (platform: Platform | undefined, extra: Partial<CommandTarget> = {}): CommandTarget => ({
  platform,
  channel: 'device',
  userEnrollment: false,
  ...extra,
});

function denied(requestType: string, target: CommandTarget, reason: RegExp): void {
  const result = commandAllowed(requestType, target);
  assert.equal(result.ok, false, `${requestType} should be denied for ${JSON.stringify(target)}`);
  if (!result.ok) assert.match(result.reason, reason);
}

function allowed(requestType: string, target: CommandTarget): void {
  assert.deepEqual(commandAllowed(requestType, target), { ok: true }, `${requestType} for ${JSON.stringify(target)}`);
}

describe('commandAllowed', () => {
  test('macOS-only commands', () => {
    for (const requestType of ['SetFirmwarePassword', 'RotateFileVaultKey', 'SetAutoAdminPassword']) {
      assert.deepEqual(Object.keys(commandRegistry.get(requestType)!.platforms), ['macOS']);
      allowed(requestType, device('macOS'));
      for (const platform of ['iOS', 'tvOS', 'visionOS', 'watchOS'] as const) denied(requestType, device(platform), /not available on/);
    }
  });

  test('iOS-only commands', () => {
    for (const requestType of ['EnableLostMode', 'DisableLostMode', 'PlayLostModeSound', 'DeviceLocation']) {
      assert.deepEqual(Object.keys(commandRegistry.get(requestType)!.platforms), ['iOS']);
      allowed(requestType, device('iOS', { supervised: true }));
      denied(requestType, device('macOS'), /not available on macOS/);
    }
  });

  test('an unknown platform allows everything known, an unknown RequestType nothing', () => {
    for (const definition of commandRegistry.all()) allowed(definition.requestType, device(undefined));
    denied('NoSuchCommand', device(undefined), /unknown RequestType/);
  });

  test('a 27.0 device of each platform takes as many commands as commands.json counts', () => {
    for (const platform of PLATFORMS) {
      const on27 = device(platform, { osVersion: '27.0' });
      const available = commandRegistry
        .all()
        .filter((d) => commandAllowed(d.requestType, on27).ok || commandAllowed(d.requestType, { ...on27, channel: 'user' }).ok);
      assert.equal(available.length, counts['by_platform_27.0'][platform], platform);
    }
  });

  test('user-enrollment-forbidden commands', () => {
    for (const requestType of ['EraseDevice', 'RotateFileVaultKey', 'RestartDevice']) {
      assert.equal(commandRegistry.get(requestType)!.platforms.macOS?.userEnrollment, 'forbidden');
      allowed(requestType, device('macOS'));
      denied(requestType, device('macOS', { userEnrollment: true }), /not available under user enrollment/);
    }
    assert.equal(commandRegistry.get('ClearPasscode')!.platforms.iOS?.userEnrollment, 'forbidden');
    denied('ClearPasscode', device('iOS', { userEnrollment: true }), /user enrollment/);
    assert.equal(commandRegistry.get('InstallProfile')!.platforms.iOS?.userEnrollment, 'allowed');
    allowed('InstallProfile', device('iOS', { userEnrollment: true }));
  });

  test('the macOS 27.0 user channel takes exactly the commands commands.json lists as user-channel capable', () => {
    const capable = new Set(counts['macOS_user_channel_capable_27.0']);
    for (const definition of commandRegistry.all().filter((d) => d.platforms.macOS)) {
      const result = commandAllowed(definition.requestType, { platform: 'macOS', channel: 'user', userEnrollment: false, osVersion: '27.0' });
      assert.equal(result.ok, capable.has(definition.requestType), definition.requestType);
    }
    // Some run only there: the per-user agent handles them, not the daemon.
    allowed('InviteToProgram', { platform: 'macOS', channel: 'user', userEnrollment: false });
    denied('InviteToProgram', device('macOS'), /device channel/);
  });

  test('an iOS 27.0 Shared iPad user channel takes exactly the commands commands.json lists', () => {
    const capable = new Set(counts['iOS_sharedIPad_user_channel_capable_27.0']);
    for (const definition of commandRegistry.all().filter((d) => d.platforms.iOS)) {
      const result = commandAllowed(definition.requestType, { platform: 'iOS', channel: 'user', userEnrollment: false, osVersion: '27.0' });
      assert.equal(result.ok, capable.has(definition.requestType), definition.requestType);
    }
  });

  test('Shared iPad rules on the device channel', () => {
    assert.equal(commandRegistry.get('UserList')!.platforms.iOS?.sharedIPad?.mode, 'required');
    allowed('UserList', device('iOS', { sharedIPad: true }));
    denied('UserList', device('iOS', { sharedIPad: false }), /only available on Shared iPad/);
    allowed('UserList', device('iOS')); // unknown: let the device decide
    assert.equal(commandRegistry.get('ClearPasscode')!.platforms.iOS?.sharedIPad?.mode, 'forbidden');
    denied('ClearPasscode', device('iOS', { sharedIPad: true }), /not available on Shared iPad/);
    denied('InviteToProgram', device('iOS', { sharedIPad: true }), /device channel of a Shared iPad/);
    allowed('InviteToProgram', device('iOS', { sharedIPad: false }));
  });

  test('supervision, when known', () => {
    for (const requestType of counts['supervised_only_on_iOS_27.0']) {
      assert.equal(commandRegistry.get(requestType)!.platforms.iOS?.supervised, true, requestType);
      denied(requestType, device('iOS', { supervised: false }), /supervised/);
    }
    allowed('EnableLostMode', device('iOS', { supervised: true }));
    allowed('EnableLostMode', device('iOS'));
  });

  test('OS versions: introduced and removed', () => {
    denied('EnableLostMode', device('iOS', { osVersion: '9.2' }), /needs iOS 9.3 or later/);
    allowed('EnableLostMode', device('iOS', { osVersion: '9.3' }));
    allowed('ScheduleOSUpdate', device('iOS', { osVersion: '26.4' }));
    denied('ScheduleOSUpdate', device('iOS', { osVersion: '27.0' }), /removed in iOS 27.0/);
    denied('TriggerEnhancedLogCollection', device('iOS', { osVersion: '26.1' }), /needs iOS 27.0/);
    assert.equal(compareVersions('10.11.5', '10.11'), 1);
    assert.equal(compareVersions('10.9', '10.11'), -1);
    assert.equal(compareVersions('27', '27.0.0'), 0);
  });
});

describe('detectPlatform', () => {
  test('recognises product types from Authenticate', () => {
    const cases: [Record<string, string>, Platform | undefined][] = [
      [{ ProductName: 'iPhone14,2' }, 'iOS'],
      [{ ProductName: 'iPad13,18' }, 'iOS'],
      [{ ProductName: 'iPod9,1' }, 'iOS'],
      [{ ProductName: 'Mac14,7' }, 'macOS'],
      [{ ProductName: 'MacBookPro18,3' }, 'macOS'],
      [{ ProductName: 'iMac21,1' }, 'macOS'],
      [{ ProductName: 'Macmini9,1' }, 'macOS'],
      [{ ProductName: 'VirtualMac2,1' }, 'macOS'],
      [{ ProductName: 'AppleTV11,1' }, 'tvOS'],
      [{ ProductName: 'Watch6,1' }, 'watchOS'],
      [{ ProductName: 'RealityDevice14,1' }, 'visionOS'],
      [{ Model: 'MacBookAir10,1', OSVersion: '14.5' }, 'macOS'], // ProductName withheld, Model always sent by Macs
      [{ OSVersion: '17.4' }, undefined],
      [{ ProductName: 'AudioAccessory5,1' }, undefined],
    ];
    for (const [facts, expected] of cases) assert.equal(detectPlatform(facts), expected, JSON.stringify(facts));
  });
});
