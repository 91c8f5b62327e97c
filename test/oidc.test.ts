import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import Provider from 'oidc-provider';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './predict-server.ts';

/**
 * Single sign-on against a real OpenID Connect issuer on this machine (oidc-provider, its
 * development login and consent pages), driven in Debian's chromium: the dashboard's button,
 * the issuer's pages, the way back signed in, with the role from the issuer's claim.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

describe.skipIf(!hasChromium)('OpenID Connect single sign-on', () => {
  let issuer: http.Server;
  let ts: TestServer;
  let browser: Browser;
  const roles: Record<string, string> = { alice: 'engineer', mallory: 'superuser' };

  beforeAll(async () => {
    const [issuerPort, gatewayPort] = [await freePort(), await freePort()];
    const issuerUrl = `http://127.0.0.1:${issuerPort}`;
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const provider = new Provider(issuerUrl, {
      clients: [
        {
          client_id: 'spectro',
          client_secret: 'spectro-secret',
          redirect_uris: [`${gatewayUrl}/auth/oidc/callback`],
          response_types: ['code'],
          grant_types: ['authorization_code'],
        },
      ],
      claims: { openid: ['sub'], profile: ['preferred_username', 'spectro_role'] },
      findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub, preferred_username: sub, ...(roles[sub] ? { spectro_role: roles[sub] } : {}) }) }),
      cookies: { keys: ['oidc-test-cookie-key'] },
      features: { devInteractions: { enabled: true } },
    });
    issuer = http.createServer(provider.callback());
    await new Promise<void>((resolve) => issuer.listen(issuerPort, '127.0.0.1', resolve));
    ts = await startServer({
      PORT: String(gatewayPort),
      ADMIN_PASSWORD: 'admin-password-for-tests',
      OIDC_ISSUER: issuerUrl,
      OIDC_CLIENT_ID: 'spectro',
      OIDC_CLIENT_SECRET: 'spectro-secret',
      OIDC_SCOPES: 'openid profile',
      OIDC_ROLE_CLAIM: 'spectro_role',
      OIDC_DEFAULT_ROLE: 'operator',
      OIDC_LABEL: 'Plant login',
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await ts?.stop();
    await new Promise((resolve) => issuer?.close(resolve));
  });

  async function signInThroughIssuer(login: string) {
    const context = await browser.newContext();
    const page = await context.newPage();
    // The issuer's development pages load a web font: nothing leaves this machine.
    await page.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
    await page.goto(`${ts.url}/`);
    await page.locator('#sso:not([hidden])').waitFor();
    expect(await page.textContent('#sso')).toBe('Sign in with Plant login');
    await page.click('#sso');
    await page.locator('input[name=login]').waitFor();
    await page.fill('input[name=login]', login);
    await page.fill('input[name=password]', 'anything');
    await page.click('button[type=submit]');
    await page.locator('button:text("Continue")').click();
    return { context, page };
  }

  it('signs a person in through the issuer, with the role its claim gives, in a session that survives a reload', async () => {
    const { context, page } = await signInThroughIssuer('alice');
    await page.locator('#app').waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.textContent('#who')).toBe('alice · engineer');
    expect((await context.cookies()).find((c) => c.name === 'spectro_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await page.reload();
    await page.locator('#app').waitFor();
    const users = ts.server.services.accounts.listUsers();
    expect((await users).find((u) => u.name === 'alice')).toMatchObject({ role: 'engineer', passwordHash: null });
    await context.close();
  });

  it('gives OIDC_DEFAULT_ROLE when the claim names no role of ours, and shows why a sign-in failed', async () => {
    const { context, page } = await signInThroughIssuer('mallory');
    await page.locator('#app').waitFor();
    expect(await page.textContent('#who')).toBe('mallory · operator');
    await context.close();

    // Back from the issuer without the pending sign-in (another browser, or too late).
    const stray = await browser.newContext();
    const p = await stray.newPage();
    await p.goto(`${ts.url}/auth/oidc/callback?code=x&state=y`);
    await p.locator('#signin').waitFor();
    await expect
      .poll(() => p.textContent('#signin-error'), { timeout: 10_000 })
      .toMatch(/^Single sign-on failed: the sign-in took too long or was started in another browser/);
    expect(new URL(p.url()).search).toBe('');
    await stray.close();
  });
});
