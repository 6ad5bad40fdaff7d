// Which OS a device runs, from the facts its Authenticate check-in carries.
//
// ProductName is the product type (iPhone17,2, MacBookPro18,3, AppleTV14,1); it needs the
// device-information access right, so it can be missing. Macs always send Model (a model
// identifier of the same form), so it is the fallback. iPadOS counts as "iOS", as in commands.json.

/** The platforms commands.json describes (iPadOS is "iOS" there). */
export const PLATFORMS = ['iOS', 'macOS', 'tvOS', 'visionOS', 'watchOS'] as const;
export type Platform = (typeof PLATFORMS)[number];

export interface DeviceFacts {
  ProductName?: unknown;
  Model?: unknown;
}

const PRODUCT_PREFIXES: readonly [RegExp, Platform][] = [
  [/^(?:iPhone|iPad|iPod)/, 'iOS'],
  [/^(?:i?Mac|VirtualMac|Xserve)/, 'macOS'], // Mac14,7, iMac21,1, MacBookPro18,3, Macmini9,1, MacPro7,1
  [/^AppleTV/, 'tvOS'],
  [/^Watch/, 'watchOS'],
  [/^RealityDevice/, 'visionOS'],
];

/** The platform named by ProductName (or Model); undefined when neither is recognised. */
export function detectPlatform(facts: DeviceFacts): Platform | undefined {
  for (const fact of [facts.ProductName, facts.Model]) {
    if (typeof fact !== 'string') continue;
    const match = PRODUCT_PREFIXES.find(([pattern]) => pattern.test(fact));
    if (match) return match[1];
  }
  return undefined;
}
