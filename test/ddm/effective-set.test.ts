import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  declarationItemsResponse,
  declarationReferences,
  effectiveDeclarations,
  generatedActivationIdentifier,
  GENERATED_STATUS_SUBSCRIPTIONS_IDENTIFIER,
  referenceIssues,
  serverToken,
  validateDeclaration,
} from '../../src/ddm/index.ts';
import type { Declaration, EffectiveDeclaration } from '../../src/ddm/index.ts';
import { tokened } from './tokened.ts';

const passcode = tokened({ type: 'com.apple.configuration.passcode.settings', identifier: 'com.example.passcode', payload: { MinimumLength: 6 } });
const echo = tokened({ type: 'com.apple.configuration.management.test', identifier: 'com.example.echo', payload: { Echo: 'hi' } });
const org = tokened({ type: 'com.apple.management.organization-info', identifier: 'com.example.org', payload: { Name: 'Example' } });
const user = tokened({ type: 'com.apple.asset.useridentity', identifier: 'com.example.user', payload: {} });
const explicitActivation = tokened({
  type: 'com.apple.activation.simple',
  identifier: 'com.example.act',
  payload: { StandardConfigurations: ['com.example.echo'], Predicate: "@status(device.model.family) == 'iPhone'" },
});

function identifiers(set: readonly EffectiveDeclaration[]): string[] {
  return set.map((d) => d.identifier);
}

function generatedOnes(set: readonly EffectiveDeclaration[]): EffectiveDeclaration[] {
  return set.filter((d) => d.generated);
}

describe('effective set: generated activations', () => {
  it('activates each configuration no assigned activation lists, one activation per configuration', () => {
    const set = effectiveDeclarations({ assigned: [passcode, echo, org, user, explicitActivation] });
    assert.deepEqual(identifiers(generatedOnes(set)), [generatedActivationIdentifier('com.example.passcode')]);
    const [activation] = generatedOnes(set);
    assert.deepEqual(activation, {
      type: 'com.apple.activation.simple',
      identifier: 'aspen.activation.com.example.passcode',
      payload: { StandardConfigurations: ['com.example.passcode'] },
      serverToken: serverToken({
        type: 'com.apple.activation.simple',
        identifier: 'aspen.activation.com.example.passcode',
        payload: { StandardConfigurations: ['com.example.passcode'] },
      }),
      kind: 'activation',
      generated: true,
    });
    assert.deepEqual(
      set.filter((d) => !d.generated).map((d) => [d.identifier, d.kind]),
      [['com.example.passcode', 'configuration'], ['com.example.echo', 'configuration'], ['com.example.org', 'management'], ['com.example.user', 'asset'], ['com.example.act', 'activation']],
    );
  });

  it('generates valid declarations (they pass the same schema validation as an admin\'s)', () => {
    const set = effectiveDeclarations({ assigned: [passcode, echo], supportedStatusItems: ['device.operating-system.version'] });
    for (const d of generatedOnes(set)) {
      const result = validateDeclaration({ Type: d.type, Identifier: 'as-admin', Payload: d.payload });
      assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
    }
  });

  it('keeps each generated activation, and its token, unchanged when other configurations come and go', () => {
    const before = effectiveDeclarations({ assigned: [passcode] });
    const after = effectiveDeclarations({ assigned: [echo, passcode] });
    const forPasscode = (set: EffectiveDeclaration[]) => set.find((d) => d.identifier === 'aspen.activation.com.example.passcode');
    assert.deepEqual(forPasscode(after), forPasscode(before));
    assert.equal(generatedOnes(after).length, 2);
    // The set token does change: the device must learn about the new configuration.
    assert.notEqual(declarationItemsResponse(after).DeclarationsToken, declarationItemsResponse(before).DeclarationsToken);
  });

  it('gives the same set, token for token, for the same inputs in any order or with duplicates from several sets', () => {
    const a = effectiveDeclarations({ assigned: [passcode, echo, org], supportedStatusItems: ['b.item', 'a.item'] });
    const b = effectiveDeclarations({ assigned: [org, echo, passcode, echo, org], supportedStatusItems: ['a.item', 'b.item', 'a.item'] });
    assert.equal(b.length, a.length);
    assert.deepEqual(declarationItemsResponse(b), declarationItemsResponse(a));
  });

  it('stops generating an activation once an assigned activation lists the configuration', () => {
    const listing = tokened({ type: 'com.apple.activation.simple', identifier: 'com.example.act2', payload: { StandardConfigurations: ['com.example.passcode'] } });
    const set = effectiveDeclarations({ assigned: [passcode, echo, explicitActivation, listing] });
    assert.deepEqual(generatedOnes(set), []);
  });

  it('generates nothing for a set without configurations', () => {
    assert.deepEqual(effectiveDeclarations({ assigned: [] }), []);
    assert.deepEqual(generatedOnes(effectiveDeclarations({ assigned: [org, user] })), []);
  });
});

describe('effective set: status subscriptions', () => {
  const supported = ['management.declarations', 'device.operating-system.version', 'test.string-value', 'test.error-value', 'passcode.is-compliant', 'device.system.health'];

  it('subscribes to every supported item except Apple\'s test items, and activates the subscription', () => {
    const set = effectiveDeclarations({ assigned: [org], supportedStatusItems: supported });
    const subscription = set.find((d) => d.identifier === GENERATED_STATUS_SUBSCRIPTIONS_IDENTIFIER);
    assert.ok(subscription);
    assert.equal(subscription.type, 'com.apple.configuration.management.status-subscriptions');
    assert.deepEqual(subscription.payload, {
      StatusItems: [
        { Name: 'device.operating-system.version' },
        { Name: 'device.system.health' },
        { Name: 'management.declarations' },
        { Name: 'passcode.is-compliant' },
      ],
    });
    assert.ok(set.some((d) => d.identifier === generatedActivationIdentifier(GENERATED_STATUS_SUBSCRIPTIONS_IDENTIFIER)));
  });

  it('waits for the client to report what it supports', () => {
    assert.deepEqual(generatedOnes(effectiveDeclarations({ assigned: [org] })), []);
    assert.deepEqual(generatedOnes(effectiveDeclarations({ assigned: [org], supportedStatusItems: ['test.string-value'] })), []);
  });

  it('leaves status subscriptions to the admin when one is assigned', () => {
    const own = tokened({
      type: 'com.apple.configuration.management.status-subscriptions',
      identifier: 'com.example.subscriptions',
      payload: { StatusItems: [{ Name: 'device.identifier.serial-number' }] },
    });
    const set = effectiveDeclarations({ assigned: [own], supportedStatusItems: supported });
    assert.deepEqual(identifiers(set), ['com.example.subscriptions', generatedActivationIdentifier('com.example.subscriptions')]);
  });

  it('changes the subscription, and so the set token, exactly when the supported items change', () => {
    const token = (items: string[]) => declarationItemsResponse(effectiveDeclarations({ assigned: [], supportedStatusItems: items })).DeclarationsToken;
    assert.equal(token(['a.x', 'b.y']), token(['b.y', 'a.x']));
    assert.notEqual(token(['a.x', 'b.y']), token(['a.x']));
  });
});

describe('references between declarations', () => {
  const mail = tokened({
    type: 'com.apple.configuration.account.mail',
    identifier: 'com.example.mail',
    payload: {
      UserIdentityAssetReference: 'com.example.user',
      IncomingServer: { ServerType: 'IMAP', HostName: 'imap', AuthenticationMethod: 'Password', AuthenticationCredentialsAssetReference: 'com.example.creds' },
      OutgoingServer: { HostName: 'smtp', AuthenticationMethod: 'Password', AuthenticationCredentialsAssetReference: 'com.example.user' },
    },
  });

  it('finds every identifier a payload names, with its key path, from the schema', () => {
    assert.deepEqual(
      declarationReferences(mail).map((r) => [r.path, r.identifier, r.allowedTypes]),
      [
        ['Payload.UserIdentityAssetReference', 'com.example.user', ['com.apple.asset.useridentity']],
        ['Payload.IncomingServer.AuthenticationCredentialsAssetReference', 'com.example.creds', ['com.apple.asset.credential.userpassword']],
        ['Payload.OutgoingServer.AuthenticationCredentialsAssetReference', 'com.example.user', ['com.apple.asset.credential.userpassword']],
      ],
    );
    const tasks: Declaration = {
      type: 'com.apple.configuration.services.background-tasks',
      identifier: 't',
      payload: { TaskType: 't', LaunchdConfigurations: [{ FileAssetReference: 'p1', Context: 'daemon' }, { FileAssetReference: 'p2', Context: 'agent' }] },
    };
    assert.deepEqual(declarationReferences(tasks).map((r) => r.path), ['Payload.LaunchdConfigurations[0].FileAssetReference', 'Payload.LaunchdConfigurations[1].FileAssetReference']);
    assert.deepEqual(declarationReferences(explicitActivation).map((r) => [r.path, r.targetKind]), [['Payload.StandardConfigurations[0]', 'configuration']]);
  });

  it('reports references to nothing, to the wrong type, and to the wrong kind', () => {
    const strayActivation = tokened({ type: 'com.apple.activation.simple', identifier: 'com.example.stray', payload: { StandardConfigurations: ['com.example.user', 'com.example.none'] } });
    const issues = referenceIssues([mail, user, strayActivation]);
    assert.deepEqual(
      issues.map((i) => [i.identifier, i.path]),
      [
        ['com.example.mail', 'Payload.IncomingServer.AuthenticationCredentialsAssetReference'],
        ['com.example.mail', 'Payload.OutgoingServer.AuthenticationCredentialsAssetReference'],
        ['com.example.stray', 'Payload.StandardConfigurations[0]'],
        ['com.example.stray', 'Payload.StandardConfigurations[1]'],
      ],
    );
    assert.match(issues[0]?.message ?? '', /names asset "com\.example\.creds", which is not in the set/);
    assert.match(issues[1]?.message ?? '', /of type com\.apple\.asset\.useridentity \(expected com\.apple\.asset\.credential\.userpassword\)/);
    assert.match(issues[2]?.message ?? '', /which is of kind asset, not configuration/);
  });

  it('finds nothing wrong in a consistent set, generated activations included', () => {
    assert.deepEqual(referenceIssues(effectiveDeclarations({ assigned: [passcode, echo, explicitActivation, org] })), []);
  });
});
