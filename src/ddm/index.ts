// Public API of Declarative Device Management; see README.md in this folder.
export { declarationRegistry, createDeclarationRegistry, DeclarationRegistry, DECLARATION_KINDS } from './registry.ts';
export type { DeclarationKind, DeclarationTypeDefinition, DeclarationReferenceKey, PlatformAvailability, StatusItemDefinition } from './registry.ts';
export { validateDeclaration, parseDeclaration, identifierProblem, declarationKind, GENERATED_IDENTIFIER_PREFIX, MAX_IDENTIFIER_LENGTH } from './declaration.ts';
export type { Declaration, TokenedDeclaration, DeclarationIssue, DeclarationValidation } from './declaration.ts';
export { serverToken, declarationsToken } from './tokens.ts';
export { canonicalJson, parseJson, isJsonObject } from './json.ts';
export type { JsonValue, JsonObject } from './json.ts';
export { tokensResponse, declarationItemsResponse, declarationDocument, findDeclaration, parseEndpoint } from './documents.ts';
export type { TokensResponse, DeclarationItemsResponse, DeclarationItem, DeclarationDocument, DeclarativeEndpoint } from './documents.ts';
export { effectiveDeclarations, generatedActivationIdentifier, ACTIVATION_TYPE, STATUS_SUBSCRIPTIONS_TYPE, GENERATED_STATUS_SUBSCRIPTIONS_IDENTIFIER } from './effective-set.ts';
export type { EffectiveDeclaration, EffectiveSetInput } from './effective-set.ts';
export { declarationReferences, referenceIssues } from './references.ts';
export type { DeclarationReference, ReferenceIssue } from './references.ts';
export { parseStatusReport, STATUS_DECLARATION_KINDS } from './status-report.ts';
export type {
  StatusReport,
  StatusReportParse,
  DeclarationStatus,
  StatusDeclarationKind,
  StatusReason,
  StatusReportError,
  StatusItemValue,
  StatusProblem,
  ClientCapabilities,
  Validity,
} from './status-report.ts';
export { mergeStatusReport } from './status-snapshot.ts';
export type { StatusSnapshot, ReportedValue } from './status-snapshot.ts';
export { declarationStates } from './declaration-state.ts';
export type { DeclarationState, DeclarationStateName, DeclarationStates } from './declaration-state.ts';
export {
  kmfddmChangeStatus,
  kmfddmInvalidDeclaration,
  kmfddmFlag,
  kmfddmShouldNotify,
  kmfddmEnrollmentIds,
  kmfddmNotifyTargets,
  kmfddmDeclarationStatus,
  kmfddmStatusErrors,
  kmfddmStatusValues,
  kmfddmPathMatcher,
  kmfddmStatusReportQuery,
  kmfddmStatusReportHeaders,
} from './kmfddm.ts';
export type {
  KmfddmChangeStatus,
  KmfddmError,
  KmfddmInvalidDeclaration,
  KmfddmNotifyTargets,
  KmfddmDeclarationStatus,
  KmfddmStatusError,
  KmfddmStatusValue,
  KmfddmStatusReportQuery,
  QueryValue,
} from './kmfddm.ts';
