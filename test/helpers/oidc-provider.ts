import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /**
   * Plays the user's browser at the provider: follows its redirects (keeping its cookies) and
   * signs in as `accountId` without a form, until the provider redirects to the app's
   * redirect URI, which is returned (not followed).
   */
  authorize(authorizationUrl: string): Promise<URL>;
  stop(): Promise<void>;
}

/** A real OpenID Connect provider (oidc-provider) on 127.0.0.1, port 0, with one confidential client. */
export async function startTestProvider(redirectUri: string, accountId = 'alice'): Promise<TestProvider> {
  const clientId = 'api-store-test';
  const clientSecret = 'a client secret for tests only';
  let provider!: Provider;
  const server: Server = createServer(async (req, res) => {
    if (!req.url?.startsWith('/interaction/')) return provider.callback()(req, res);
    // The user signs in and consents at once: the test is about the relying party, not the provider's forms.
    await provider.interactionDetails(req, res);
    const grant = new provider.Grant({ accountId, clientId });
    grant.addOIDCScope('openid profile email');
    await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: false });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id, name: 'Alice Example', email: 'alice@example.test' }) }),
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['a cookie key for tests only'] },
    pkce: { required: () => true },
  });

  return {
    issuer,
    clientId,
    clientSecret,
    async authorize(authorizationUrl) {
      const cookies = new Map<string, string>();
      let next = new URL(authorizationUrl);
      for (let hop = 0; hop < 10; hop++) {
        const response = await fetch(next, { redirect: 'manual', headers: { Cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') } });
        for (const cookie of response.headers.getSetCookie()) {
          const [pair] = cookie.split(';');
          const split = pair.indexOf('=');
          const [name, value] = [pair.slice(0, split), pair.slice(split + 1)];
          if (value) cookies.set(name, value);
          else cookies.delete(name);
        }
        const location = response.headers.get('Location');
        if (!location) throw new Error(`the provider answered ${response.status}: ${await response.text()}`);
        next = new URL(location, next);
        if (next.href.startsWith(redirectUri)) return next;
      }
      throw new Error('too many redirects at the provider');
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
