// What the admin side needs from push: wake enrollments by id and learn each outcome. The APNs
// module implements it; without a push certificate there is none, and queueing still works.
export type PushStatus = 'pushed' | 'failed' | 'skipped';

export interface EnrollmentPushResult {
  status: PushStatus;
  /** Why it failed or was skipped (an APNs reason such as Unregistered, or e.g. "not enrolled"). */
  reason?: string;
  apnsId?: string;
}

export interface PushGateway {
  /** False until a push certificate is loaded (here or by another instance). */
  configured(): Promise<boolean>;
  /** Pushes each enrollment's channel; never throws for a single target's failure. */
  push(enrollmentIds: string[]): Promise<Map<string, EnrollmentPushResult>>;
}
