// JSON Schema (draft 2020-12, as OpenAPI 3.1 uses) for the admin's JSON form of each command,
// generated from the same specs the validator walks, so the published API cannot drift from it.
import { commandRegistry } from './registry.ts';
import type { CommandRegistry } from './registry.ts';
import type { DictionarySpec, ValueSpec } from './spec.ts';

export type JsonSchema = { [keyword: string]: unknown };

/** The schema of one command's JSON `Command` object; undefined for an unknown RequestType. */
export function toJsonSchema(requestType: string, registry: CommandRegistry = commandRegistry): JsonSchema | undefined {
  const definition = registry.get(requestType);
  if (!definition) return undefined;
  return {
    title: definition.title,
    ...(definition.current ? {} : { deprecated: true }),
    ...valueSchema(definition.command),
  };
}

function valueSchema(spec: ValueSpec): JsonSchema {
  switch (spec.kind) {
    case 'any':
      return {};
    case 'dictionary':
      return dictionarySchema(spec);
    case 'variants':
      return { oneOf: [...spec.variants.values()].map(dictionarySchema) };
    case 'array':
      return { type: 'array', items: valueSchema(spec.items) };
    case 'data':
      return { type: 'string', contentEncoding: 'base64' };
    case 'date':
      return { type: 'string', format: 'date-time' };
    case 'real':
      return withEnum({ type: 'number' }, spec.allowedValues);
    default:
      return withEnum({ type: spec.kind }, spec.allowedValues);
  }
}

function dictionarySchema(spec: DictionarySpec): JsonSchema {
  const properties: { [key: string]: JsonSchema } = {};
  const required: string[] = [];
  for (const key of spec.keys.values()) {
    properties[key.name] = valueSchema(key.value);
    if (key.required) required.push(key.name);
  }
  return {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: spec.otherKeys ? valueSchema(spec.otherKeys) : false,
  };
}

/** A single allowed value is a `const` (a variant's discriminator reads better that way). */
function withEnum(schema: JsonSchema, allowedValues: readonly (string | number)[] | undefined): JsonSchema {
  if (!allowedValues) return schema;
  return allowedValues.length === 1 ? { ...schema, const: allowedValues[0] } : { ...schema, enum: allowedValues };
}
