// `aspen help <RequestType>`: what an admin reads before sending a command, from the schema; and
// "did you mean" wherever a name is mistyped.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aspen } from './run-cli.ts';

describe('aspen help <RequestType>', () => {
  it("lists a command's keys with their types, required keys, allowed values and platforms", async () => {
    const run = await aspen(['help', 'DeviceInformation']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^DeviceInformation: Device Information Command$/m);
    assert.match(run.stdout, /^ {2}PLATFORM\s+OS\s+RUNS$/m);
    assert.match(run.stdout, /^ {2}macOS\s+10\.7\+\s+device channel and user channel; user enrollment: allowed; access right: per query$/m);
    assert.match(run.stdout, /^ {2}Queries\s+array of string {3}required$/m);
    assert.match(run.stdout, /^\s+one of: UDID, ProvisioningUDID, .*$/m);
    assert.match(run.stdout, /\bSerialNumber\b/);
    assert.match(run.stdout, /^Send it: aspen send <id\.\.\.> DeviceInformation --Queries a,b,\.\.\.$/m);
  });

  it('shows nested keys, defaults, the OS versions a key needs, access rights and enrollment conditions', async () => {
    const erase = (await aspen(['help', 'EraseDevice'])).stdout;
    assert.match(erase, /^ {2}iOS\s+4\.0\+\s+device channel; user enrollment: forbidden; access right: AllowDeviceErase \(8\)$/m);
    assert.match(erase, /^ {2}PIN\s+string\n\s+on: macOS 10\.8\+$/m);
    assert.match(erase, /^ {2}ReturnToService\s+dictionary\n\s+on: iOS 17\.0\+, tvOS 18\.0\+, visionOS 26\.0\+\n {4}Enabled\s+boolean {3}required$/m);
    assert.match(erase, /^ {2}PreserveDataPlan\s+boolean\n\s+default: false\n/m);
    assert.match(erase, /^Send it: aspen send <id\.\.\.> EraseDevice$/m);

    const configured = (await aspen(['help', 'DeviceConfigured'])).stdout;
    assert.match(configured, /^ {2}iOS\s+.*Automated Device Enrollment only/m);
    const lostMode = (await aspen(['help', 'EnableLostMode'])).stdout;
    assert.match(lostMode, /^ {2}iOS\s+.*supervised only/m);
    const settings = (await aspen(['help', 'Settings'])).stdout;
    assert.match(settings, /^ {2}Settings\s+array of dictionary \(one kind per Item\) {3}required\n {4}Item = "Wallpaper"\n {6}Image\s+data {3}required$/m);
  });

  it('says what replaces a removed command', async () => {
    const run = await aspen(['help', 'ScheduleOSUpdate']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^ScheduleOSUpdate: Schedule OS Update Command \(removed from the current schema\)$/m);
    assert.match(run.stdout, /Use DDM\s+softwareupdate\.enforcement\.specific/);
    assert.match(run.stdout, /^ {2}iOS\s+9\.0\+, deprecated 26\.0, removed 27\.0\s/m);
  });

  it('suggests the name that was meant, for RequestTypes and commands', async () => {
    const typo = await aspen(['help', 'DeviceInfo']);
    assert.equal(typo.code, 2);
    assert.equal(typo.stderr, 'aspen: help: no command or RequestType DeviceInfo (did you mean DeviceInformation?)\n');
    assert.match((await aspen(['help', 'erasedevice'])).stderr, /did you mean EraseDevice\?/);
    assert.equal((await aspen(['help', 'sned'])).stderr, 'aspen: help: no command or RequestType sned (did you mean aspen help send?)\n');
    const command = await aspen(['identites', 'list', 'X']);
    assert.equal(command.code, 2);
    assert.match(command.stderr, /^aspen: unknown command identites list X \(did you mean aspen identities list\?\)\n/);
  });
});
