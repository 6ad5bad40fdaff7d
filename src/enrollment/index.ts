// Public surface of the enrollment module: the SCEP server, the enrollment profile and its
// signature. Everything else in this folder is internal. See README.md here for how they fit.
export { handleScepRequest, MAX_SCEP_MESSAGE_BYTES, SCEP_CAPABILITIES, type ScepRequest, type ScepResponse } from './scep/scep-server.ts';
export {
  type PkiOperationOutcome,
  type ScepDependencies,
  type ScepIssuance,
  type ScepMessageType,
  type ScepVerdict,
} from './scep/pki-operation.ts';
export { scepCa, type ScepCa } from './scep/scep-ca.ts';
export { type ScepFailInfo } from './scep/failure.ts';
export { DEFAULT_VALIDITY_DAYS, type IssuedCertificate } from './scep/issue.ts';
export { timingSafeStringEqual } from './constant-time.ts';
export {
  accessRightsProblem,
  ALL_ACCESS_RIGHTS,
  buildEnrollmentProfile,
  EnrollmentProfileError,
  PROFILE_CONTENT_TYPE,
  type EnrollmentProfile,
  type EnrollmentProfileOptions,
  type SubjectAttribute,
} from './profile.ts';
export { profileSignerFromPem, signProfile, type ProfileSigner } from './profile-signing.ts';
