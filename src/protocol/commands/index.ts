// Public API of MDM command validation and building; see README.md in this folder.
export { commandRegistry, createCommandRegistry, CommandRegistry } from './registry.ts';
export type { CommandDefinition, PlatformSupport, UserEnrollmentRule } from './registry.ts';
export type { ValueSpec, DictionarySpec, KeySpec, ScalarSpec, ArraySpec, VariantsSpec, AnySpec } from './spec.ts';
export { validateCommandJson, validateCommandDict, validateCommandPlist, CommandValidationError } from './validate.ts';
export type { CommandIssue, CommandValidation, CommandPlistValidation } from './validate.ts';
export { buildCommandPlist } from './build.ts';
export type { CommandToSend } from './build.ts';
export { commandAllowed, compareVersions } from './gate.ts';
export type { CommandTarget, GateResult } from './gate.ts';
export { detectPlatform, PLATFORMS } from './platform.ts';
export type { Platform } from './platform.ts';
export type { DeviceFacts } from './platform.ts';
export { toJsonSchema } from './json-schema.ts';
export type { JsonSchema } from './json-schema.ts';
export { describeCommand, VALUE_FORMS } from './describe.ts';
export type { CommandDescription, KeyDescription, PlatformDescription } from './describe.ts';
