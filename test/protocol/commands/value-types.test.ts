// Date and real payload keys. Apple's current command schema declares none, so a small synthetic
// commands.json exercises them: that is exactly how a future schema release would add some.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodePlistDict, plistToJson } from '../../../src/protocol/plist.ts';
import type { PlistDict } from '../../../src/protocol/plist.ts';
import {
  buildCommandPlist,
  createCommandRegistry,
  toJsonSchema,
  validateCommandJson,
  validateCommandPlist,
} from '../../../src/protocol/commands/index.ts';
import type { CommandIssue } from '../../../src/protocol/commands/index.ts';
import { readTypedPlist } from './typed-plist.ts';

const registry = createCommandRegistry({
  envelope: { serverToDevice: { Command: { keys: { RequestType: { type: 'string', required: true }, '...': 'payload' } } } },
  commands: [
    {
      requestType: 'TypesProbe',
      title: 'Types Probe',
      status: 'current',
      platforms: { iOS: { introduced: '1.0', channels: { device: true } } },
      payloadKeys: [
        { name: 'When', type: 'date', required: true },
        { name: 'Ratio', type: 'real', required: false },
        { name: 'Ratios', type: 'array', items: { name: 'RatioItem', type: 'real' } },
        { name: 'Count', type: 'integer' },
        { name: 'Label', type: 'string' },
        { name: 'Extra', type: 'dictionary', keys: [] },
      ],
    },
  ],
});

function errorsAt(result: { ok: true } | { ok: false; errors: CommandIssue[] }, path: string): string[] {
  assert.equal(result.ok, false);
  return result.ok ? [] : result.errors.filter((e) => e.path === path).map((e) => e.message);
}

describe('dates and reals', () => {
  test('integral reals are written as <real>, integers as <integer>, dates as <date>', () => {
    const json = { RequestType: 'TypesProbe', When: '2024-05-06T09:08:09+02:00', Ratio: 1, Ratios: [2, 2.5], Count: 3, Label: 'a < b & c\r\n' };
    const validated = validateCommandJson(json, registry);
    assert.ok(validated.ok, JSON.stringify(validated));
    assert.deepEqual(validated.command.When, new Date('2024-05-06T07:08:09Z'));

    const xml = buildCommandPlist({ commandUuid: 'types-1', command: validated.command }, registry);
    assert.match(xml, /<key>Ratio<\/key>\s*<real>1\.0<\/real>/);
    assert.match(xml, /<key>Count<\/key>\s*<integer>3<\/integer>/);
    assert.match(xml, /<date>2024-05-06T07:08:09Z<\/date>/);
    const typed = readTypedPlist(xml);
    assert.equal(typed.kind, 'dict');
    const command = typed.kind === 'dict' ? typed.entries.Command : undefined;
    assert.deepEqual(command?.kind === 'dict' && command.entries.Ratios, {
      kind: 'array',
      items: [
        { kind: 'real', number: 2 },
        { kind: 'real', number: 2.5 },
      ],
    });

    // And back: the raw plist validates to the same tree, and its JSON form to the same XML.
    const reparsed = validateCommandPlist(xml, registry);
    assert.ok(reparsed.ok);
    assert.deepEqual(reparsed.command, validated.command);
    assert.equal((decodePlistDict(xml).Command as PlistDict).Label, 'a < b & c\r\n'); // escaped, CR kept
    const again = validateCommandJson(plistToJson(reparsed.command), registry);
    assert.ok(again.ok);
    assert.equal(buildCommandPlist({ commandUuid: 'types-1', command: again.command }, registry), xml);
  });

  test('dates must be ISO 8601 with a timezone', () => {
    for (const bad of ['2024-05-06', '2024-05-06T07:08:09', 'yesterday', '2024-13-45T07:08:09Z', 1714979289]) {
      assert.match(errorsAt(validateCommandJson({ RequestType: 'TypesProbe', When: bad }, registry), 'Command.When')[0] ?? '', /ISO 8601/, String(bad));
    }
  });

  test('reals take any finite number; integers only integers', () => {
    assert.match(errorsAt(validateCommandJson({ RequestType: 'TypesProbe', When: '2024-05-06T07:08:09Z', Ratio: '1.5' }, registry), 'Command.Ratio')[0] ?? '', /expected a number/);
    assert.match(errorsAt(validateCommandJson({ RequestType: 'TypesProbe', When: '2024-05-06T07:08:09Z', Count: 1.5 }, registry), 'Command.Count')[0] ?? '', /expected an integer/);
    assert.match(errorsAt(validateCommandJson({ RequestType: 'TypesProbe', When: '2024-05-06T07:08:09Z', Ratios: [1, 'x'] }, registry), 'Command.Ratios[1]')[0] ?? '', /expected a number/);
  });

  test('in plist form a date must be a <date>', () => {
    const xml = '<plist version="1.0"><dict><key>Command</key><dict><key>RequestType</key><string>TypesProbe</string><key>When</key><string>2024-05-06T07:08:09Z</string></dict></dict></plist>';
    assert.match(errorsAt(validateCommandPlist(xml, registry), 'Command.When')[0] ?? '', /expected <date>/);
  });

  test('a dictionary without declared keys is open', () => {
    const result = validateCommandJson({ RequestType: 'TypesProbe', When: '2024-05-06T07:08:09Z', Extra: { anything: [1, { x: 'y' }] } }, registry);
    assert.ok(result.ok);
  });

  test('JSON Schema marks dates, data and reals', () => {
    const schema = toJsonSchema('TypesProbe', registry) as { properties: Record<string, unknown>; required: string[] };
    assert.deepEqual(schema.properties.When, { type: 'string', format: 'date-time' });
    assert.deepEqual(schema.properties.Ratio, { type: 'number' });
    assert.deepEqual(schema.properties.Extra, { type: 'object', properties: {}, additionalProperties: {} });
    assert.deepEqual(schema.required, ['RequestType', 'When']);
  });

  test('a commands.json with a shape we do not understand fails at load', () => {
    assert.throws(() => createCommandRegistry({ commands: [] }));
    assert.throws(
      () =>
        createCommandRegistry({
          envelope: { serverToDevice: { Command: { keys: {} } } },
          commands: [{ requestType: 'X', title: 'X', status: 'current', platforms: {}, payloadKeys: [{ name: 'K', type: 'uuid' }] }],
        }),
      /unsupported type "uuid" at Command\.K/,
    );
  });
});
