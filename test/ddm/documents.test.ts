import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  declarationDocument,
  declarationItemsResponse,
  declarationsToken,
  findDeclaration,
  parseEndpoint,
  tokensResponse,
} from '../../src/ddm/index.ts';
import type { TokenedDeclaration } from '../../src/ddm/index.ts';
import { tokened } from './tokened.ts';

const set: TokenedDeclaration[] = [
  tokened({ type: 'com.apple.configuration.passcode.settings', identifier: 'com.example.passcode', payload: { MinimumLength: 6 } }),
  tokened({ type: 'com.apple.activation.simple', identifier: 'com.example.act', payload: { StandardConfigurations: ['com.example.passcode'] } }),
  tokened({ type: 'com.apple.asset.useridentity', identifier: 'com.example.user', payload: { FullName: 'A User' } }),
  tokened({ type: 'com.apple.management.organization-info', identifier: 'com.example.org', payload: { Name: 'Example' } }),
  tokened({ type: 'com.apple.configuration.management.test', identifier: 'com.example.echo', payload: { Echo: 'hi' } }),
];

describe('device documents', () => {
  it('TokensResponse carries the set token and the time the set last changed', () => {
    const response = tokensResponse(set, new Date('2026-03-04T05:06:07.890Z'));
    assert.deepEqual(response, { SyncTokens: { DeclarationsToken: declarationsToken(set), Timestamp: '2026-03-04T05:06:07Z' } });
  });

  it('DeclarationItemsResponse lists each declaration under its kind, sorted, with the same token as TokensResponse', () => {
    const response = declarationItemsResponse([...set].reverse());
    const item = (d: TokenedDeclaration | undefined) => ({ Identifier: d?.identifier, ServerToken: d?.serverToken });
    assert.deepEqual(response, {
      Declarations: {
        Activations: [item(set[1])],
        Assets: [item(set[2])],
        Configurations: [item(set[4]), item(set[0])],
        Management: [item(set[3])],
      },
      DeclarationsToken: tokensResponse(set, new Date(0)).SyncTokens.DeclarationsToken,
    });
    assert.equal(JSON.stringify(declarationItemsResponse(set)), JSON.stringify(response));
  });

  it('an empty set has all four lists, empty, and a stable token', () => {
    const response = declarationItemsResponse([]);
    assert.deepEqual(response.Declarations, { Activations: [], Assets: [], Configurations: [], Management: [] });
    assert.equal(response.DeclarationsToken, declarationItemsResponse([]).DeclarationsToken);
  });

  it('serves a declaration as {Type, Identifier, ServerToken, Payload}', () => {
    const passcode = set[0] as TokenedDeclaration;
    assert.deepEqual(declarationDocument(passcode), {
      Type: 'com.apple.configuration.passcode.settings',
      Identifier: 'com.example.passcode',
      ServerToken: passcode.serverToken,
      Payload: { MinimumLength: 6 },
    });
  });

  it('finds a declaration only under its own kind, so a wrong kind is a 404', () => {
    assert.equal(findDeclaration(set, 'configuration', 'com.example.passcode'), set[0]);
    assert.equal(findDeclaration(set, 'activation', 'com.example.passcode'), undefined);
    assert.equal(findDeclaration(set, 'configuration', 'com.example.gone'), undefined);
  });
});

describe('DeclarativeManagement Endpoint', () => {
  it('recognises the fixed endpoints', () => {
    assert.deepEqual(parseEndpoint('tokens'), { endpoint: 'tokens' });
    assert.deepEqual(parseEndpoint('declaration-items'), { endpoint: 'declaration-items' });
    assert.deepEqual(parseEndpoint('status'), { endpoint: 'status' });
  });

  it('reads declaration/<kind>/<identifier> for the four kinds', () => {
    for (const kind of ['activation', 'asset', 'configuration', 'management'] as const) {
      assert.deepEqual(parseEndpoint(`declaration/${kind}/5D9502B9-9676-42D1-B094-A919DAFFB504`), {
        endpoint: 'declaration',
        kind,
        identifier: '5D9502B9-9676-42D1-B094-A919DAFFB504',
      });
    }
    assert.deepEqual(parseEndpoint('declaration/configuration/a/b'), { endpoint: 'declaration', kind: 'configuration', identifier: 'a/b' });
  });

  it('answers anything else with a reason, never a throw', () => {
    for (const endpoint of ['', 'Tokens', 'declaration', 'declaration/', 'declaration/configuration/', 'declaration/profile/x', 'declarations/configuration/x', 'status/1']) {
      const parsed = parseEndpoint(endpoint);
      assert.equal(parsed.endpoint, 'invalid', endpoint);
      assert.ok(parsed.endpoint === 'invalid' && parsed.reason.length > 0);
    }
    const wrongKind = parseEndpoint('declaration/profile/x');
    assert.match(wrongKind.endpoint === 'invalid' ? wrongKind.reason : '', /unknown declaration kind "profile"/);
  });
});
