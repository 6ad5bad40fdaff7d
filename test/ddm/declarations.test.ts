import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import {
  createDeclarationRegistry,
  declarationKind,
  declarationRegistry,
  GENERATED_IDENTIFIER_PREFIX,
  parseDeclaration,
  validateDeclaration,
} from '../../src/ddm/index.ts';
import type { DeclarationIssue, DeclarationValidation } from '../../src/ddm/index.ts';
import { MINIMAL_PAYLOADS } from './minimal-declarations.ts';

const EXAMPLES = new URL('./fixtures/apple-examples/declarations/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

function errorsOf(result: DeclarationValidation): DeclarationIssue[] {
  assert.equal(result.ok, false, 'expected the declaration to be refused');
  return result.ok ? [] : result.errors;
}

function assertIssue(errors: DeclarationIssue[], path: string, message: RegExp): void {
  const hit = errors.find((e) => e.path === path);
  assert.ok(hit, `no issue at ${path}; got ${JSON.stringify(errors)}`);
  assert.match(hit.message, message);
}

function declaration(type: string, payload: unknown, identifier = 'com.example.test'): unknown {
  return { Type: type, Identifier: identifier, Payload: payload };
}

describe('declaration registry', () => {
  it('has the 38 declaration types and 44 status items of declarations.json, each with its manifest kind', () => {
    const types = declarationRegistry.types();
    assert.equal(types.length, 38);
    assert.equal(declarationRegistry.statusItems().length, 44);
    const byKind: Record<string, number> = {};
    for (const t of types) byKind[t.kind] = (byKind[t.kind] ?? 0) + 1;
    assert.deepEqual(byKind, { activation: 1, asset: 7, configuration: 27, management: 3 });
    for (const t of types) assert.equal(declarationKind(t.type), t.kind, t.type);
  });

  it('gives per-platform availability, leaving out platforms the schema marks n/a', () => {
    const background = declarationRegistry.type('com.apple.configuration.services.background-tasks');
    assert.deepEqual(Object.keys(background?.platforms ?? {}), ['macOS']);
    assert.deepEqual(background?.platforms.macOS, { introduced: '15.0', allowedEnrollments: ['supervised'], allowedScopes: ['system'] });
    const passcode = declarationRegistry.type('com.apple.configuration.passcode.settings');
    assert.equal(passcode?.platforms.iOS?.introduced, '15.0');
    assert.equal(passcode?.apply, 'combined');
    assert.equal(declarationRegistry.type('com.apple.configuration.app.managed')?.beta, true);
    assert.deepEqual(Object.keys(declarationRegistry.statusItem('diskmanagement.filevault.enabled')?.platforms ?? {}), ['macOS']);
  });

  it('refuses a schema file whose layout it does not understand', () => {
    assert.throws(() => createDeclarationRegistry({ declarations: { x: { kind: 'widget' } }, statusItems: {} }));
  });
});

describe('declaration validation: examples', () => {
  // Apple's examples are newer than the schema; these fail for the reasons in the fixtures' README.
  const KNOWN_FAILURES: Record<string, string[]> = {
    'configurations/account.ldap/example1.json': ['Payload.SearchSettings[0].VisibleName'],
    'configurations/app.managed/example2.json': [
      'Payload.InstallBehavior.AllowDownloadsOverCellular',
      'Payload.UpdateBehavior',
      'Payload.Attributes.Hideable',
      'Payload.Attributes.Lockable',
    ],
    'configurations/app.managed/example3.json': ['Payload.AppComposedIdentifier'],
    'configurations/app.managed/example4.json': [
      'Payload.InstallBehavior.AllowDownloadsOverCellular',
      'Payload.UpdateBehavior',
      'Payload.AppConfig',
      'Payload.ExtensionConfigs',
    ],
    'configurations/legacy/example2.json': ['Payload.ProfileAssetReference', 'Payload.ProfileURL'],
    'configurations/legacy.interactive/example2.json': ['Payload.ProfileAssetReference', 'Payload.ProfileURL'],
  };

  const examples = files(EXAMPLES);

  it('has an Apple example for every declaration type', () => {
    const types = new Set(examples.map((path) => (JSON.parse(readFileSync(path, 'utf8')) as { Type: string }).Type));
    assert.deepEqual([...types].sort(), declarationRegistry.types().map((t) => t.type).sort());
  });

  for (const path of examples) {
    const name = relative(EXAMPLES, path);
    const expectedFailures = KNOWN_FAILURES[name];
    it(`${name} is ${expectedFailures ? 'refused exactly at the keys newer than the schema' : 'accepted'}`, () => {
      const result = parseDeclaration(readFileSync(path));
      if (!expectedFailures) {
        assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
        return;
      }
      assert.deepEqual(errorsOf(result).map((e) => e.path).sort(), [...expectedFailures].sort());
    });
  }

  it('accepts the minimal payload of every type, and covers every type', () => {
    assert.deepEqual(Object.keys(MINIMAL_PAYLOADS).sort(), declarationRegistry.types().map((t) => t.type).sort());
    for (const [type, payload] of Object.entries(MINIMAL_PAYLOADS)) {
      const result = validateDeclaration(declaration(type, payload));
      assert.ok(result.ok, `${type}: ${JSON.stringify(!result.ok && result.errors)}`);
      assert.deepEqual(result.declaration, { type, identifier: 'com.example.test', payload });
      assert.equal(result.definition.type, type);
    }
  });

  it('refuses every minimal payload missing any one of its required keys, at that key', () => {
    let checked = 0;
    for (const [type, payload] of Object.entries(MINIMAL_PAYLOADS)) {
      for (const key of Object.keys(payload)) {
        const { [key]: _removed, ...rest } = payload;
        assertIssue(errorsOf(validateDeclaration(declaration(type, rest))), `Payload.${key}`, /^missing required key/);
        checked++;
      }
    }
    assert.ok(checked >= 40, `only ${checked} required keys checked`);
  });
});

describe('declaration validation: mistakes are refused with key paths', () => {
  const passcode = 'com.apple.configuration.passcode.settings';

  it('names a wrong value type, an out-of-range number, and a misspelt enumeration', () => {
    const errors = errorsOf(
      validateDeclaration(declaration(passcode, { RequirePasscode: 'yes', MinimumLength: 17, MaximumFailedAttempts: 1.5, MaximumInactivityInMinutes: 10 })),
    );
    assertIssue(errors, 'Payload.RequirePasscode', /expected a boolean, got string "yes"/);
    assertIssue(errors, 'Payload.MinimumLength', /expected a number from 0 to 16, got number 17/);
    assertIssue(errors, 'Payload.MaximumFailedAttempts', /expected an integer/);
    assert.equal(errors.length, 3);

    const update = errorsOf(
      validateDeclaration(declaration('com.apple.configuration.softwareupdate.settings', { AutomaticActions: { Download: 'alwayson' } })),
    );
    assertIssue(update, 'Payload.AutomaticActions.Download', /expected one of "Allowed", "AlwaysOn", "AlwaysOff", got string "alwayson"/);
  });

  it('names keys inside arrays and open dictionaries', () => {
    const tasks = errorsOf(
      validateDeclaration(
        declaration('com.apple.configuration.services.background-tasks', {
          TaskType: 't',
          LaunchdConfigurations: [{ FileAssetReference: 'a', Context: 'daemon' }, { FileAssetReference: 'b', Context: 'root' }, { Context: 'agent' }],
        }),
      ),
    );
    assertIssue(tasks, 'Payload.LaunchdConfigurations[1].Context', /expected one of "daemon", "agent"/);
    assertIssue(tasks, 'Payload.LaunchdConfigurations[2].FileAssetReference', /missing required key/);
    assert.equal(tasks.length, 2);

    const safari = errorsOf(
      validateDeclaration(declaration('com.apple.configuration.safari.extensions.settings', { ManagedExtensions: { 'com.example.ext (TEAM)': { State: 'On' } } })),
    );
    assertIssue(safari, 'Payload.ManagedExtensions.com.example.ext (TEAM).State', /expected one of/);
  });

  it('suggests the intended key when only its case is wrong, and lists the allowed keys otherwise', () => {
    const errors = errorsOf(validateDeclaration(declaration(passcode, { minimumLength: 4, Colour: 'red' })));
    assertIssue(errors, 'Payload.minimumLength', /did you mean "MinimumLength"\?/);
    assertIssue(errors, 'Payload.Colour', /allowed: RequirePasscode, /);
  });

  it('reports every envelope problem at once', () => {
    const errors = errorsOf(validateDeclaration({ Type: 'com.apple.configuration.passcode.setting', Payload: [], Extra: 1 }));
    assertIssue(errors, 'Identifier', /missing required key/);
    assertIssue(errors, 'Type', /unknown declaration type "com\.apple\.configuration\.passcode\.setting"/);
    assertIssue(errors, 'Payload', /expected a dictionary/);
    assertIssue(errors, 'Extra', /unknown key \(allowed: Type, Identifier, Payload, ServerToken\)/);
  });

  it('refuses unknown types, with a hint when the case or the com.apple. prefix is off', () => {
    assertIssue(errorsOf(validateDeclaration(declaration('com.example.custom', {}))), 'Type', /unknown declaration type "com\.example\.custom" \(38 types are known\)/);
    assertIssue(errorsOf(validateDeclaration(declaration('Com.Apple.Management.Properties', {}))), 'Type', /did you mean "com\.apple\.management\.properties"/);
    assertIssue(errorsOf(validateDeclaration(declaration('management.properties', {}))), 'Type', /did you mean "com\.apple\.management\.properties"/);
  });

  it('requires a Payload, as Apple does', () => {
    assertIssue(errorsOf(validateDeclaration({ Type: 'com.apple.management.properties', Identifier: 'p' })), 'Payload', /missing required key \(dictionary\)/);
  });

  it('applies the identifier rules', () => {
    const problem = (identifier: unknown): string | undefined => {
      const result = validateDeclaration(declaration('com.apple.management.properties', {}, identifier as string));
      return result.ok ? undefined : result.errors.find((e) => e.path === 'Identifier')?.message;
    };
    assert.equal(problem('com.example.ok-1_A:B'), undefined);
    assert.equal(problem('5D9502B9-9676-42D1-B094-A919DAFFB504'), undefined);
    assert.match(problem('') ?? '', /non-empty/);
    assert.match(problem('a/b') ?? '', /must not contain "\/"/);
    assert.match(problem('a b') ?? '', /whitespace/);
    assert.match(problem('a\u0000b') ?? '', /control/);
    assert.match(problem('x'.repeat(201)) ?? '', /at most 200 characters/);
    assert.match(problem(`${GENERATED_IDENTIFIER_PREFIX}activation.x`) ?? '', /reserved/);
    assert.match(problem(7) ?? '', /expected a string/);
  });

  it('accepts and ignores a ServerToken the client sends', () => {
    const result = validateDeclaration({ ...(declaration('com.apple.management.properties', { a: 1 }) as object), ServerToken: 'stale' });
    assert.ok(result.ok);
    assert.deepEqual(result.declaration, { type: 'com.apple.management.properties', identifier: 'com.example.test', payload: { a: 1 } });
  });

  it('reads a JSON body, refusing what is not JSON or not an object at $', () => {
    assert.ok(parseDeclaration(Buffer.from('{"Type":"com.apple.management.properties","Identifier":"p","Payload":{}}')).ok);
    assertIssue(errorsOf(parseDeclaration('{"Type":')), '$', /not valid JSON/);
    assertIssue(errorsOf(parseDeclaration(new Uint8Array([0xff, 0xfe]))), '$', /not valid UTF-8/);
    assertIssue(errorsOf(parseDeclaration('[1]')), '$', /expected a JSON object/);
    assertIssue(errorsOf(parseDeclaration('null')), '$', /expected a JSON object/);
  });

  it('keeps free-form payloads free-form, but refuses JSON null inside them (a device cannot use it)', () => {
    assert.ok(validateDeclaration(declaration('com.apple.management.properties', { shard: 7, tags: ['a'], nested: { x: true } })).ok);
    assertIssue(errorsOf(validateDeclaration(declaration('com.apple.management.properties', { shard: null }))), 'Payload.shard', /without nulls/);
  });

  it('treats a __proto__ key as a key, not as a prototype', () => {
    const result = parseDeclaration('{"Type":"com.apple.management.properties","Identifier":"p","Payload":{"__proto__":{"polluted":true}}}');
    assert.ok(result.ok);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(result.declaration.payload), ['__proto__']);
  });
});
