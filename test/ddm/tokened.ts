import { serverToken } from '../../src/ddm/index.ts';
import type { Declaration, TokenedDeclaration } from '../../src/ddm/index.ts';

/** A declaration with the token Aspen serves it under. */
export function tokened(declaration: Declaration): TokenedDeclaration {
  return { ...declaration, serverToken: serverToken(declaration) };
}
