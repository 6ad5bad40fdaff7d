// Enrollment invites: a link (PUBLIC_URL/enroll/<token>) to a profile whose SCEP challenge is the
// invite's own. Downloading the profile uses nothing; each identity issued with the challenge uses
// one of the invite's uses (scep-service.ts).
//
// The token and the challenge are 256-bit secrets shown once, at creation. Storage keeps only their
// SHA-256 (a copy of the database gives neither away); the challenge is derived from the token, so
// the profile behind a link can be built again on every download.
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Invite, InviteAssignment, InviteState, IssuanceStore } from '../storage/issuance.ts';
import { EnrollmentUnavailableError } from './enrollment-profiles.ts';

export const DEFAULT_INVITE_DAYS = 7;
const DAY_MS = 86_400_000;
/** The longest an invite may live: a link valid for years is a standing password. */
export const MAX_INVITE_DAYS = 366;

export interface InviteRequest {
  label?: string;
  expiresAt?: Date;
  maxUses?: number;
  assign?: Partial<InviteAssignment>;
}

export interface CreatedInvite {
  invite: Invite;
  /** The secret in the URL. */
  token: string;
  /** The SCEP challenge the invite's profile carries. */
  challenge: string;
  url: string;
}

/** An invite request that cannot be met (an expiry in the past, or too far away). */
export class InviteRequestError extends Error {
  override readonly name = 'InviteRequestError';
}

export function secretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function challengeOf(token: string): string {
  return createHmac('sha256', token).update('aspen scep challenge').digest('base64url');
}

export class Invites {
  constructor(
    private readonly storage: IssuanceStore,
    /** PUBLIC_URL; undefined: enrollment is off. */
    private readonly publicUrl: string | undefined,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(request: InviteRequest): Promise<CreatedInvite> {
    const publicUrl = this.requirePublicUrl();
    const now = this.now();
    const expiresAt = request.expiresAt ?? new Date(now.getTime() + DEFAULT_INVITE_DAYS * DAY_MS);
    if (expiresAt.getTime() <= now.getTime()) throw new InviteRequestError('expires_at is not in the future');
    if (expiresAt.getTime() > now.getTime() + MAX_INVITE_DAYS * DAY_MS) throw new InviteRequestError(`expires_at is more than ${MAX_INVITE_DAYS} days away`);
    const token = randomBytes(32).toString('base64url');
    const challenge = challengeOf(token);
    const invite = await this.storage.createInvite({
      id: randomUUID(),
      tokenHash: secretHash(token),
      challengeHash: secretHash(challenge),
      label: request.label ?? null,
      createdAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
      maxUses: request.maxUses ?? 1,
      assign: request.assign === undefined ? null : { sets: request.assign.sets ?? [], tags: request.assign.tags ?? [] },
      renews: null,
    });
    return { invite, token, challenge, url: `${publicUrl}/enroll/${token}` };
  }

  /** A one-time challenge for renewing a device's identity (never listed; it expires with the
   *  identity it replaces, after which the device cannot speak to install it anyway). */
  async createRenewal(renews: { serial: string; deviceId: string }, expiresAt: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const challenge = challengeOf(token);
    await this.storage.createInvite({
      id: randomUUID(),
      tokenHash: secretHash(token),
      challengeHash: secretHash(challenge),
      label: null,
      createdAt: this.now().toISOString(),
      expiresAt,
      maxUses: 1,
      assign: null,
      renews,
    });
    return challenge;
  }

  list(state: InviteState | undefined, page: { before?: { createdAt: string; id: string }; limit: number }): Promise<Invite[]> {
    return this.storage.listInvites({ ...(state && { state }), at: this.now().toISOString() }, page);
  }

  revoke(id: string): Promise<Invite | undefined> {
    return this.storage.revokeInvite(id, this.now().toISOString());
  }

  /** The live invite behind a link, with its challenge; undefined for a link that is unknown,
   *  expired, used up or revoked (which are not told apart: the link is no good either way). */
  async forToken(token: string): Promise<{ invite: Invite; challenge: string } | undefined> {
    this.requirePublicUrl();
    const invite = await this.storage.inviteByTokenHash(secretHash(token));
    if (invite === undefined || invite.renews !== null || inviteState(invite, this.now()) !== 'live') return undefined;
    return { invite, challenge: challengeOf(token) };
  }

  private requirePublicUrl(): string {
    if (this.publicUrl === undefined) throw new EnrollmentUnavailableError();
    return this.publicUrl;
  }
}

export function inviteState(invite: Invite, now: Date): InviteState {
  if (invite.revokedAt !== null) return 'revoked';
  if (invite.uses >= invite.maxUses) return 'used';
  return Date.parse(invite.expiresAt) <= now.getTime() ? 'expired' : 'live';
}
