/**
 * Owns `SiteControl` for a site the caller holds in-process (the embedded site): rotating the SMS Token Signing
 * certificate and switching the CMG client setting. Typed structurally so the agent room never imports the site.
 */
import type { SiteControl } from './client-runtime.js';

/** The two operations of `Site` (src/site/site.ts) that site events need. */
export interface SiteEventTarget {
  rotateTokenSigning(): Promise<{ retired: { thumbprint: string }; active: { thumbprint: string } }>;
  updateConfig(patch: { cmgEnabled?: boolean }): unknown;
}

export function siteControlFor(site: SiteEventTarget): SiteControl {
  return {
    async apply(action) {
      if (action.kind === 'rotate-token-signing') {
        const { retired, active } = await site.rotateTokenSigning();
        return `SMS Token Signing certificate rotated: ${retired.thumbprint} retired, ${active.thumbprint} active`;
      }
      site.updateConfig({ cmgEnabled: action.value });
      return `client setting "Enable clients to use a cloud management gateway" = ${action.value ? 'Yes' : 'No'}`;
    },
  };
}
