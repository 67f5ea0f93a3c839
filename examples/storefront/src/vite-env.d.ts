/** What a build may be given (`VITE_…=… npm run build`); none of it is secret, since all of it ends up in the page. */
interface ImportMetaEnv {
  readonly VITE_GATEWAY_URL?: string;
  readonly VITE_ISSUER?: string;
  readonly VITE_CLIENT_ID?: string;
  readonly VITE_RESOURCE?: string;
}
