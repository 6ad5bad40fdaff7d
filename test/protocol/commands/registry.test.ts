// The registry covers every RequestType in commands.json, and each one's generated validator,
// builder and JSON Schema accept the fullest command its schema describes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodePlistDict } from '../../../src/protocol/plist.ts';
import {
  buildCommandPlist,
  commandRegistry,
  toJsonSchema,
  validateCommandJson,
  validateCommandPlist,
} from '../../../src/protocol/commands/index.ts';
import { sampleJson } from './samples.ts';

const file = JSON.parse(readFileSync(new URL('../../../src/protocol/schema/commands.json', import.meta.url), 'utf8')) as {
  counts: { total_request_types_in_repo_history_union: number; 'in_27.0_seed_schema': number; 'removed_from_27.0_seed': string[] };
  commands: { requestType: string }[];
};

describe('command registry', () => {
  test('holds every RequestType in commands.json: 68 in all, 64 current', () => {
    assert.equal(commandRegistry.all().length, file.commands.length);
    assert.equal(commandRegistry.all().length, file.counts.total_request_types_in_repo_history_union);
    assert.equal(commandRegistry.all().length, 68);
    assert.equal(commandRegistry.current().length, file.counts['in_27.0_seed_schema']);
    assert.equal(commandRegistry.current().length, 64);
    const removed = commandRegistry.all().filter((d) => !d.current).map((d) => d.requestType);
    assert.deepEqual(removed.sort(), [...file.counts['removed_from_27.0_seed']].sort());
  });

  test('knows nothing else', () => {
    assert.equal(commandRegistry.get('NoSuchCommand'), undefined);
    assert.equal(toJsonSchema('NoSuchCommand'), undefined);
  });

  test('variant items become a oneOf told apart by a const discriminator', () => {
    const schema = toJsonSchema('Settings') as { properties: { Settings: { items: { oneOf: { properties: { Item: unknown } }[] } } } };
    const variants = schema.properties.Settings.items.oneOf;
    assert.equal(variants.length, 20);
    assert.deepEqual(variants[0]!.properties.Item, { type: 'string', const: 'Wallpaper' });
  });

  for (const { requestType } of file.commands) {
    test(`${requestType}: fullest sample validates, builds, re-validates, and matches its JSON Schema's keys`, () => {
      const definition = commandRegistry.get(requestType);
      assert.ok(definition);
      const sample = sampleJson(definition.command);
      const validated = validateCommandJson(sample);
      assert.ok(validated.ok, validated.ok ? '' : JSON.stringify(validated.errors));
      assert.equal(validated.requestType, requestType);

      const xml = buildCommandPlist({ commandUuid: `test-${requestType}`, command: validated.command });
      const reparsed = validateCommandPlist(xml);
      assert.ok(reparsed.ok, reparsed.ok ? '' : JSON.stringify(reparsed.errors));
      assert.equal(reparsed.commandUuid, `test-${requestType}`);
      assert.deepEqual(reparsed.command, decodePlistDict(xml).Command);

      const schema = toJsonSchema(requestType);
      assert.ok(schema);
      assert.deepEqual(Object.keys(schema.properties as object), [...definition.command.keys.keys()]);
      assert.ok((schema.required as string[]).includes('RequestType'));
    });
  }
});
