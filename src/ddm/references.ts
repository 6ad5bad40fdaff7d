// Declarations that name other declarations: activations list configurations, and configurations
// name their assets (`...AssetReference` keys, from the schema's `assettypes`). A device given a
// dangling reference reports Error.MissingConfigurations / Error.MissingAssets; these checks let the
// admin API warn before a device fails.
import type { Declaration } from './declaration.ts';
import { isJsonObject } from './json.ts';
import type { JsonValue } from './json.ts';
import { declarationRegistry } from './registry.ts';
import type { DeclarationRegistry } from './registry.ts';

export interface DeclarationReference {
  /** Key path of the reference, e.g. `Payload.IncomingServer.AuthenticationCredentialsAssetReference`. */
  path: string;
  identifier: string;
  targetKind: 'asset' | 'configuration';
  allowedTypes?: readonly string[];
}

export interface ReferenceIssue {
  /** The declaration holding the reference. */
  identifier: string;
  path: string;
  message: string;
}

/** Every identifier a declaration's payload names. */
export function declarationReferences(declaration: Declaration, registry: DeclarationRegistry = declarationRegistry): DeclarationReference[] {
  const definition = registry.type(declaration.type);
  if (!definition) return [];
  return definition.references.flatMap((key) =>
    collect(declaration.payload, key.path, 'Payload').map(({ path, identifier }) => {
      const reference: DeclarationReference = { path, identifier, targetKind: key.targetKind };
      if (key.allowedTypes) reference.allowedTypes = key.allowedTypes;
      return reference;
    }),
  );
}

function collect(value: JsonValue | undefined, path: readonly string[], at: string): { path: string; identifier: string }[] {
  const [step, ...rest] = path;
  if (step === undefined) return typeof value === 'string' ? [{ path: at, identifier: value }] : [];
  if (step === '[]') return Array.isArray(value) ? value.flatMap((item, i) => collect(item, rest, `${at}[${i}]`)) : [];
  if (!isJsonObject(value)) return [];
  if (step === '*') return Object.entries(value).flatMap(([key, item]) => collect(item, rest, `${at}.${key}`));
  return collect(value[step], rest, `${at}.${step}`);
}

/**
 * References in `declarations` that name nothing in the same set, or a declaration of the wrong
 * kind or type. The set is what one device receives, so this is checked per effective set.
 */
export function referenceIssues(declarations: readonly Declaration[], registry: DeclarationRegistry = declarationRegistry): ReferenceIssue[] {
  const byIdentifier = new Map(declarations.map((d) => [d.identifier, d]));
  return declarations.flatMap((declaration) =>
    declarationReferences(declaration, registry).flatMap((reference): ReferenceIssue[] => {
      const target = byIdentifier.get(reference.identifier);
      const where = { identifier: declaration.identifier, path: reference.path };
      if (!target) return [{ ...where, message: `names ${reference.targetKind} "${reference.identifier}", which is not in the set` }];
      if (reference.allowedTypes && !reference.allowedTypes.includes(target.type)) {
        return [{ ...where, message: `names "${reference.identifier}" of type ${target.type} (expected ${reference.allowedTypes.join(' or ')})` }];
      }
      const targetKind = registry.type(target.type)?.kind;
      if (targetKind !== reference.targetKind) {
        return [{ ...where, message: `names "${reference.identifier}", which is of kind ${targetKind ?? 'unknown'}, not ${reference.targetKind}` }];
      }
      return [];
    }),
  );
}
