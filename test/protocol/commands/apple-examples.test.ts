// Apple's example command requests: each must validate and survive the admin round trip
// (plist → JSON → validateCommandJson → buildCommandPlist) with its element kinds intact. The ones
// the fixtures README flags as defective requests must be exactly the ones that fail.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodePlistDict, plistToJson } from '../../../src/protocol/plist.ts';
import { buildCommandPlist, validateCommandJson, validateCommandPlist } from '../../../src/protocol/commands/index.ts';
import { readTypedPlist } from './typed-plist.ts';

const FIXTURES = new URL('../../fixtures/', import.meta.url);
const readme = readFileSync(new URL('apple-examples/README.md', FIXTURES), 'utf8');

/** Index rows: `| RequestType | tab | \`request path\` | \`response path\` |`. */
const requestExamples = [...readme.matchAll(/^\| (\w+) \| [^|]*\| `([^`]+)` \|/gm)].map(([, requestType, file]) => ({
  requestType: requestType!,
  file: file!,
}));

/** Defect bullets (`* **Name**: ...`) that speak about the example request. */
const defectiveRequests = new Set(
  [...readme.matchAll(/^\* \*\*(\w+)\*\*: (.*)$/gm)].filter(([, , text]) => /Example request/.test(text!)).map(([, name]) => name!),
);

const expectedFailures = defectiveRequests;

/** A request passes when it validates and carries the CommandUUID a device needs. */
function check(xml: string): { ok: true; commandUuid: string; command: ReturnType<typeof decodePlistDict> } | { ok: false; why: string } {
  const result = validateCommandPlist(xml);
  if (!result.ok) return { ok: false, why: result.errors.map((e) => `${e.path}: ${e.message}`).join('; ') };
  if (result.commandUuid === undefined) return { ok: false, why: 'no CommandUUID' };
  return { ok: true, commandUuid: result.commandUuid, command: result.command };
}

describe('Apple example requests', () => {
  test('the README index and defect list were read', () => {
    assert.equal(requestExamples.length, 63);
    assert.deepEqual([...defectiveRequests].sort(), [
      'DeclarativeManagement',
      'DeviceInformation',
      'LOMDeviceRequest',
      'RemoveMedia',
      'SetRecoveryLock',
      'VerifyRecoveryLock',
    ]);
  });

  test('exactly the requests known to be defective fail', () => {
    const failing = requestExamples.filter(({ file }) => !check(readFileSync(new URL(file, FIXTURES), 'utf8')).ok);
    assert.deepEqual(new Set(failing.map((e) => e.requestType)), expectedFailures);
  });

  for (const { requestType, file } of requestExamples) {
    if (expectedFailures.has(requestType)) continue;
    test(`${requestType} (${file.split('/').slice(-2).join('/')}) round-trips through JSON`, () => {
      const original = readFileSync(new URL(file, FIXTURES), 'utf8');
      const checked = check(original);
      assert.ok(checked.ok, checked.ok ? '' : checked.why);

      const json: unknown = JSON.parse(JSON.stringify(plistToJson(checked.command)));
      const fromJson = validateCommandJson(json);
      assert.ok(fromJson.ok, fromJson.ok ? '' : JSON.stringify(fromJson.errors));
      assert.equal(fromJson.requestType, requestType);

      const built = buildCommandPlist({ commandUuid: checked.commandUuid, command: fromJson.command });
      assert.deepEqual(decodePlistDict(built), decodePlistDict(original));
      assert.deepEqual(readTypedPlist(built), readTypedPlist(original));
    });
  }
});
