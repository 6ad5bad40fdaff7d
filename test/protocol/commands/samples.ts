// Test helper: the fullest JSON command a spec admits — every declared key, every variant — so a
// generated command exercises the whole key tree of every RequestType.
import type { DictionarySpec, ValueSpec } from '../../../src/protocol/commands/index.ts';

type Json = string | number | boolean | Json[] | { [key: string]: Json };

export function sampleJson(spec: ValueSpec): Json {
  switch (spec.kind) {
    case 'dictionary':
      return sampleDictionary(spec);
    case 'variants':
      return sampleDictionary(spec.variants.values().next().value!);
    case 'array':
      return spec.items.kind === 'variants'
        ? [...spec.items.variants.values()].map(sampleDictionary)
        : [sampleJson(spec.items)];
    case 'any':
      return { free: ['form', 1, true] };
    case 'string':
    case 'integer':
    case 'real':
      return spec.allowedValues?.[0] ?? (spec.kind === 'string' ? 'sample' : spec.kind === 'integer' ? 7 : 2.5);
    case 'boolean':
      return true;
    case 'date':
      return '2024-05-06T07:08:09Z';
    case 'data':
      return 'AAECAwQ=';
  }
}

function sampleDictionary(spec: DictionarySpec): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const key of spec.keys.values()) out[key.name] = sampleJson(key.value);
  if (spec.otherKeys) out.AnyOtherKey = sampleJson(spec.otherKeys);
  return out;
}
