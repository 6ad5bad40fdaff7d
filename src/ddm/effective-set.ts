// The declarations one enrollment is served: what its sets assign, plus what Aspen generates so that
// an admin does not have to write the plumbing declarations by hand.
//
// - A configuration takes effect only through an activation. Every configuration that no assigned
//   activation lists gets its own generated com.apple.activation.simple. One per configuration keeps
//   each generated activation's content (and token) fixed for as long as the configuration is
//   assigned: adding or removing another configuration changes nothing about it.
// - Status subscriptions: unless the admin assigns a status-subscriptions configuration, one is
//   generated subscribing to every status item the client reports it supports.
//
// Generated identifiers live under GENERATED_IDENTIFIER_PREFIX, which admins cannot use, and their
// tokens are content-derived like any other, so the set's token is stable until the inputs change.
import { declarationKind, GENERATED_IDENTIFIER_PREFIX } from './declaration.ts';
import type { Declaration, TokenedDeclaration } from './declaration.ts';
import type { DeclarationKind } from './registry.ts';
import { serverToken } from './tokens.ts';

export interface EffectiveDeclaration extends TokenedDeclaration {
  kind: DeclarationKind;
  /** Made by Aspen rather than assigned through a set. */
  generated: boolean;
}

export interface EffectiveSetInput {
  /** The declarations the enrollment's sets assign (duplicates across sets are fine). */
  assigned: readonly TokenedDeclaration[];
  /**
   * The status items the client reported it supports (`management.client-capabilities`
   * `supported-payloads.status-items`); undefined until its first status report.
   */
  supportedStatusItems?: readonly string[] | undefined;
}

export const ACTIVATION_TYPE = 'com.apple.activation.simple';
export const STATUS_SUBSCRIPTIONS_TYPE = 'com.apple.configuration.management.status-subscriptions';
export const GENERATED_STATUS_SUBSCRIPTIONS_IDENTIFIER = `${GENERATED_IDENTIFIER_PREFIX}status-subscriptions`;
const GENERATED_ACTIVATION_PREFIX = `${GENERATED_IDENTIFIER_PREFIX}activation.`;

/** The identifier of the activation generated for a configuration. */
export function generatedActivationIdentifier(configurationIdentifier: string): string {
  return `${GENERATED_ACTIVATION_PREFIX}${configurationIdentifier}`;
}

/**
 * Apple's test items (test.string-value, test.error-value, ...) exist to exercise the protocol:
 * subscribing to them would put fake values, and a deliberate error, into every report.
 */
function worthSubscribing(item: string): boolean {
  return !item.startsWith('test.');
}

export function effectiveDeclarations(input: EffectiveSetInput): EffectiveDeclaration[] {
  const assigned = uniqueByIdentifier(input.assigned).flatMap((d): EffectiveDeclaration[] => {
    const kind = declarationKind(d.type);
    return kind ? [{ ...d, kind, generated: false }] : [];
  });
  const generated: EffectiveDeclaration[] = [];

  const subscriptions = generatedSubscriptions(assigned, input.supportedStatusItems);
  if (subscriptions) generated.push(subscriptions);

  const activated = new Set(assigned.filter((d) => d.type === ACTIVATION_TYPE).flatMap((d) => standardConfigurations(d)));
  for (const configuration of [...assigned, ...generated]) {
    if (configuration.kind !== 'configuration' || activated.has(configuration.identifier)) continue;
    generated.push(
      generate({
        type: ACTIVATION_TYPE,
        identifier: generatedActivationIdentifier(configuration.identifier),
        payload: { StandardConfigurations: [configuration.identifier] },
      }),
    );
  }
  return [...assigned, ...generated];
}

function generatedSubscriptions(assigned: readonly EffectiveDeclaration[], supported: readonly string[] | undefined): EffectiveDeclaration | undefined {
  if (!supported || assigned.some((d) => d.type === STATUS_SUBSCRIPTIONS_TYPE)) return undefined;
  const items = [...new Set(supported.filter(worthSubscribing))].sort();
  if (items.length === 0) return undefined;
  return generate({
    type: STATUS_SUBSCRIPTIONS_TYPE,
    identifier: GENERATED_STATUS_SUBSCRIPTIONS_IDENTIFIER,
    payload: { StatusItems: items.map((Name) => ({ Name })) },
  });
}

function generate(declaration: Declaration): EffectiveDeclaration {
  return { ...declaration, serverToken: serverToken(declaration), kind: declarationKind(declaration.type) as DeclarationKind, generated: true };
}

function standardConfigurations(activation: Declaration): string[] {
  const list = activation.payload.StandardConfigurations;
  return Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : [];
}

/** A declaration in several of the enrollment's sets is served once. */
function uniqueByIdentifier<T extends { identifier: string }>(declarations: readonly T[]): T[] {
  const byIdentifier = new Map<string, T>();
  for (const d of declarations) if (!byIdentifier.has(d.identifier)) byIdentifier.set(d.identifier, d);
  return [...byIdentifier.values()];
}
