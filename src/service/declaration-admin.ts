// Managing declarations, sets and assignments (KMFDDM's model: docs/ddm-kmfddm-compat.md). Every
// change says whether it changed anything (KMFDDM's 204 or 304), and one that did notifies the
// enrollments whose effective sets it changed (declarative-sync.ts), unless `notify` is false
// (KMFDDM's nonotify, for tools that batch changes and notify once).
import { declarationDocument, parseDeclaration, serverToken, type DeclarationDocument, type DeclarationIssue, type KmfddmNotifyTargets } from '../ddm/index.ts';
import type { AffectedSelector, DeclarationDeletion, DeclarationStore, NewDeclaration, SetAddition } from '../storage/declarations.ts';
import type { DeclarativeSync } from './declarative-sync.ts';

export type DeclarationPut = { ok: false; errors: DeclarationIssue[] } | { ok: true; identifier: string; changed: boolean };

export class DeclarationAdmin {
  constructor(
    private readonly store: DeclarationStore,
    private readonly sync: DeclarativeSync,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private at(): string {
    return this.now().toISOString();
  }

  private async notifyIf(changed: boolean, notify: boolean, selector: AffectedSelector): Promise<boolean> {
    if (changed && notify) await this.sync.notify(selector);
    return changed;
  }

  /** A declaration as JSON bytes, validated against Apple's schema for its type; a ServerToken in
   *  it is ignored (tokens are derived from content). */
  async put(body: Uint8Array, notify: boolean): Promise<DeclarationPut> {
    const validation = parseDeclaration(body);
    if (!validation.ok) return validation;
    const declaration: NewDeclaration = validation.declaration;
    const change = await this.store.putDeclaration(declaration, serverToken, this.at());
    const changed = await this.notifyIf(change !== 'unchanged', notify, { declarations: [declaration.identifier] });
    return { ok: true, identifier: declaration.identifier, changed };
  }

  /** The declaration as a device would get it. */
  async get(identifier: string): Promise<DeclarationDocument | undefined> {
    const stored = await this.store.getDeclaration(identifier);
    return stored && declarationDocument(stored);
  }

  list(): Promise<string[]> {
    return this.store.listDeclarations();
  }

  /** Only a declaration no set holds can be deleted, so deleting one notifies nobody. */
  delete(identifier: string): Promise<DeclarationDeletion> {
    return this.store.deleteDeclaration(identifier);
  }

  /** A new ServerToken for the same content: devices fetch it again and re-apply it. */
  async touch(identifier: string, notify: boolean): Promise<boolean> {
    const touched = await this.store.touchDeclaration(identifier, serverToken, this.at());
    return this.notifyIf(touched, notify, { declarations: [identifier] });
  }

  sets(): Promise<string[]> {
    return this.store.listSets();
  }

  setDeclarations(set: string): Promise<string[]> {
    return this.store.setDeclarations(set);
  }

  declarationSets(identifier: string): Promise<string[]> {
    return this.store.declarationSets(identifier);
  }

  async addToSet(set: string, identifier: string, notify: boolean): Promise<SetAddition> {
    const added = await this.store.addToSet(set, identifier);
    await this.notifyIf(added === 'added', notify, { sets: [set] });
    return added;
  }

  async removeFromSet(set: string, identifier: string, notify: boolean): Promise<boolean> {
    return this.notifyIf(await this.store.removeFromSet(set, identifier), notify, { sets: [set] });
  }

  enrollmentSets(enrollmentId: string): Promise<string[]> {
    return this.store.enrollmentSets(enrollmentId);
  }

  async assign(enrollmentId: string, set: string, notify: boolean): Promise<boolean> {
    return this.notifyIf(await this.store.assignSet(enrollmentId, set), notify, { enrollmentIds: [enrollmentId] });
  }

  async unassign(enrollmentId: string, set: string, notify: boolean): Promise<boolean> {
    return this.notifyIf(await this.store.unassignSet(enrollmentId, set), notify, { enrollmentIds: [enrollmentId] });
  }

  async unassignAll(enrollmentId: string, notify: boolean): Promise<boolean> {
    return this.notifyIf((await this.store.unassignAllSets(enrollmentId)) > 0, notify, { enrollmentIds: [enrollmentId] });
  }

  globalSets(): Promise<string[]> {
    return this.store.globalSets();
  }

  /** A set of every enrollment reaches everyone, and so does taking it away. */
  async assignGlobal(set: string, notify: boolean): Promise<boolean> {
    return this.notifyIf(await this.store.assignGlobalSet(set), notify, { all: true });
  }

  async unassignGlobal(set: string, notify: boolean): Promise<boolean> {
    return this.notifyIf(await this.store.unassignGlobalSet(set), notify, { all: true });
  }

  /** KMFDDM's explicit notify: a sync for every enrollment named, even one whose set is empty. */
  async notify(targets: KmfddmNotifyTargets): Promise<void> {
    await this.sync.notify({ declarations: targets.declarations, sets: targets.sets, enrollmentIds: targets.ids }, { force: true });
  }
}
