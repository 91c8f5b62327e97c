import * as client from 'openid-client';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string | null;
  /** Space-separated scopes asked for. */
  scopes: string;
  /** The claim that names the person (their user name here). */
  nameClaim: string;
  /** The claim that carries their role (viewer, operator, engineer, admin); null: roles are managed here. */
  roleClaim: string | null;
}

/** What the browser keeps between the redirect to the issuer and the way back (a short-lived cookie). */
export interface OidcPending {
  verifier: string;
  state: string;
  nonce: string;
}

export interface OidcIdentity {
  subject: string;
  name: string;
  /** The role claim's value, when one is configured and present. */
  role: string | null;
}

export interface Oidc {
  /** Where to send the browser, and what to keep until it comes back to `redirectUri`. */
  start(redirectUri: string): Promise<{ url: string; pending: OidcPending }>;
  /** Checks the answer (state, nonce, PKCE, ID token) and answers who signed in. */
  finish(callbackUrl: URL, pending: OidcPending, redirectUri: string): Promise<OidcIdentity>;
}

/**
 * OpenID Connect single sign-on (authorization code flow with PKCE) through openid-client.
 * The issuer's metadata is fetched at the first sign-in (and again after a failure), so a
 * gateway starts even while its identity provider is down.
 */
export function createOidc(settings: OidcSettings): Oidc {
  let discovered: Promise<client.Configuration> | null = null;
  const configuration = () => {
    discovered ??= client
      .discovery(new URL(settings.issuer), settings.clientId, settings.clientSecret ?? undefined, undefined, {
        // A plant's own issuer on plain http (a test issuer, a local Keycloak) is allowed only when configured so.
        ...(settings.issuer.startsWith('http:') ? { execute: [client.allowInsecureRequests] } : {}),
      })
      .catch((err: unknown) => {
        discovered = null;
        throw new Error(`the identity provider ${settings.issuer} does not answer: ${(err as Error).message}`, { cause: err });
      });
    return discovered;
  };

  return {
    async start(redirectUri) {
      const config = await configuration();
      const pending = { verifier: client.randomPKCECodeVerifier(), state: client.randomState(), nonce: client.randomNonce() };
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: settings.scopes,
        code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
      });
      return { url: url.href, pending };
    },

    async finish(callbackUrl, pending, redirectUri) {
      const config = await configuration();
      // openid-client compares the redirect URI with the URL it is given: use the configured one.
      const current = new URL(redirectUri);
      current.search = callbackUrl.search;
      const tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims()!;
      let claims: Record<string, unknown> = { ...idClaims };
      const wanted = [settings.nameClaim, settings.roleClaim].filter((c): c is string => !!c);
      // Issuers that keep profile claims out of the ID token answer them at userinfo.
      if (wanted.some((c) => claims[c] === undefined)) {
        claims = { ...(await client.fetchUserInfo(config, tokens.access_token, idClaims.sub)), ...claims };
      }
      const name = claims[settings.nameClaim];
      const role = settings.roleClaim ? claims[settings.roleClaim] : null;
      return {
        subject: idClaims.sub,
        name: typeof name === 'string' && name ? name : idClaims.sub,
        role: typeof role === 'string' ? role : Array.isArray(role) && typeof role[0] === 'string' ? role[0] : null,
      };
    },
  };
}
