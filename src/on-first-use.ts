// What the default path never touches, made when first used rather than at start.
// - Libraries: each is a few MB of code in memory (pkijs alone about 6), and a server that does
//   not issue identities, import a .p12 or talk SCEP's single DES never needs them (nor, until
//   an admin opens an invite in the console, a QR code writer). They are
//   CommonJS packages whose ESM import is the same module instance, so a synchronous `require` on
//   first use keeps their callers synchronous. The first call pays the load (tens of ms, once).
// - Data built from large files (the command and declaration registries): a few MB each once
//   built, and only admin requests that send commands or declarations read them.
import { createRequire } from 'node:module';
import type * as Asn1js from 'asn1js';
import type Forge from 'node-forge';
import type * as Pkijs from 'pkijs';
import type * as Uqr from 'uqr';

const require = createRequire(import.meta.url);

/** The module named `name`, required on first property access. */
function onFirstUse<T extends object>(name: string): T {
  let loaded: T | undefined;
  const target = (): T => (loaded ??= require(name) as T);
  return new Proxy({} as T, { get: (_, property) => Reflect.get(target(), property) });
}

/** The object `build` makes, made on first property access; its methods run with it as `this`
 *  (private fields work). For objects used through their properties, never through `instanceof`. */
export function builtOnFirstUse<T extends object>(build: () => T): T {
  let built: T | undefined;
  return new Proxy({} as T, {
    get: (_, property) => {
      built ??= build();
      const value: unknown = Reflect.get(built, property);
      return typeof value === 'function' ? value.bind(built) : value;
    },
  });
}

export const pkijs = onFirstUse<typeof Pkijs>('pkijs');
export const asn1js = onFirstUse<typeof Asn1js>('asn1js');
/** node-forge's default export (its CommonJS module.exports). */
export const forge = onFirstUse<typeof Forge>('node-forge');
/** The QR code writer, for the console's invite pages (its CommonJS build). */
export const uqr = onFirstUse<typeof Uqr>('uqr');
