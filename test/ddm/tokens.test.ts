import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, declarationsToken, serverToken } from '../../src/ddm/index.ts';
import type { Declaration } from '../../src/ddm/index.ts';

const passcode: Declaration = {
  type: 'com.apple.configuration.passcode.settings',
  identifier: 'com.example.passcode',
  payload: { RequirePasscode: true, MinimumLength: 6, CustomRegex: { Regex: '^.{6,}$', Description: { default: 'six' } } },
};

describe('canonical JSON', () => {
  it('sorts keys at every depth and drops formatting, keeping array order', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ z: true, y: null }, 'x'] }), '{"a":[{"y":null,"z":true},"x"],"b":1}');
    assert.equal(canonicalJson(JSON.parse('{ "a" : 1.0 }')), canonicalJson({ a: 1 }));
    assert.equal(canonicalJson('é"\n'), JSON.stringify('é"\n'));
  });
});

describe('ServerToken', () => {
  const token = serverToken(passcode);

  it('is a 32-hex-digit digest, the same for the same content however its keys are ordered', () => {
    assert.match(token, /^[0-9a-f]{32}$/);
    const reordered: Declaration = {
      identifier: passcode.identifier,
      payload: { CustomRegex: { Description: { default: 'six' }, Regex: '^.{6,}$' }, MinimumLength: 6, RequirePasscode: true },
      type: passcode.type,
    };
    assert.equal(serverToken(reordered), token);
    assert.equal(serverToken(JSON.parse(JSON.stringify(passcode)) as Declaration), token);
  });

  it('changes when the Type, the Identifier or any part of the Payload changes', () => {
    const variants: Declaration[] = [
      { ...passcode, type: 'com.apple.configuration.management.test' },
      { ...passcode, identifier: 'com.example.passcode2' },
      { ...passcode, payload: { ...passcode.payload, MinimumLength: 7 } },
      { ...passcode, payload: { ...passcode.payload, MinimumLength: '6' } },
      { ...passcode, payload: { ...passcode.payload, CustomRegex: { Regex: '^.{6,}$', Description: { default: 'Six' } } } },
      { ...passcode, payload: { RequirePasscode: true, MinimumLength: 6 } },
      { ...passcode, payload: {} },
    ];
    const tokens = new Set([token, ...variants.map((v) => serverToken(v))]);
    assert.equal(tokens.size, variants.length + 1);
  });

  it('changes with each touch while the content stays the same, and only then', () => {
    assert.equal(serverToken(passcode, 0), token);
    const touched = [1, 2, 3].map((n) => serverToken(passcode, n));
    assert.equal(new Set([token, ...touched]).size, 4);
    assert.equal(serverToken(passcode, 2), touched[1]);
  });

  it('keeps the boundary between identifier and payload (no concatenation collisions)', () => {
    const a: Declaration = { type: 'com.apple.management.properties', identifier: 'ab', payload: { c: 'd' } };
    const b: Declaration = { type: 'com.apple.management.properties', identifier: 'a', payload: { bc: 'd' } };
    assert.notEqual(serverToken(a), serverToken(b));
  });
});

describe('DeclarationsToken', () => {
  const set = [
    { identifier: 'com.example.a', serverToken: '1111' },
    { identifier: 'com.example.b', serverToken: '2222' },
    { identifier: 'com.example.c', serverToken: '3333' },
  ];
  const token = declarationsToken(set);

  it('does not depend on the order the set is listed in', () => {
    assert.equal(declarationsToken([...set].reverse()), token);
    assert.equal(declarationsToken([set[1], set[2], set[0]] as typeof set), token);
  });

  it('changes when a declaration is added, removed, or served under a new token', () => {
    const variants = [
      [...set, { identifier: 'com.example.d', serverToken: '4444' }],
      set.slice(1),
      set.map((d) => (d.identifier === 'com.example.b' ? { ...d, serverToken: '2223' } : d)),
      set.map((d) => (d.identifier === 'com.example.b' ? { ...d, identifier: 'com.example.B' } : d)),
      [],
    ];
    assert.equal(new Set([token, ...variants.map((v) => declarationsToken(v))]).size, variants.length + 1);
  });

  it('cannot be forged by moving text between identifier and token', () => {
    assert.notEqual(declarationsToken([{ identifier: 'ab', serverToken: 'c' }]), declarationsToken([{ identifier: 'a', serverToken: 'bc' }]));
  });
});
