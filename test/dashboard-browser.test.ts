import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImage, toPng } from '../bench/synthetic.ts';
import { startServer, type TestServer } from './predict-server.ts';

/**
 * The operator flows of the dashboard in a real browser (Debian's chromium), through the
 * gateway's real port: sign in, stay signed in across token expiry, upload, train with
 * progress, activate, live results, threshold preview, review into training pictures (with
 * boxes drawn on the picture) and retrain, role limits, sign-out, a phone-width layout, all under
 * the page's CSP (scripts and styles from the gateway only, no inline code).
 * Screenshots go to test-results/dashboard/ (CI keeps them as artifacts).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
const SHOTS = path.resolve(import.meta.dirname, '../test-results/dashboard');
const ADMIN_PASSWORD = 'admin-password-for-tests';
// The shortest access tokens the gateway allows: the page must renew them several times here.
const TOKEN_TTL_S = 10;
// How long a page may take to show what the gateway answered (the test machine may be busy).
const WAIT = { timeout: 20_000 };

const png = async (seed: number, defect = false) => ({
  name: `${defect ? 'ng' : 'ok'}-${seed}.png`,
  mimeType: 'image/png',
  buffer: await toPng(generateImage('plate', { seed, size: 96, defect: defect ? { kind: 'spot', size: 'large', contrast: 'high' } : null })),
});

describe.skipIf(!hasChromium)(`the dashboard in a real browser (${CHROMIUM})`, () => {
  let ts: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  const cspViolations: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    ts = await startServer({ ADMIN_PASSWORD, SESSION_TOKEN_TTL_SECONDS: String(TOKEN_TTL_S) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    // Chromium reports what the CSP blocked (an inline style or script) on the console.
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    // Confirmations (activate, delete) are accepted, as an operator would.
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept(d.type() === 'prompt' ? 'line 2' : undefined);
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await ts?.stop();
  });

  async function signIn(p: Page, name: string, password: string) {
    await p.goto(`${ts.url}/`);
    await p.locator('#signin-form').waitFor();
    await p.fill('#signin-form input[name=name]', name);
    await p.fill('#signin-form input[name=password]', password);
    await p.click('#signin-form button[type=submit]');
  }

  it('signs a person in; the header shows the connection and who it is; empty states say what to do', async () => {
    await signIn(page, 'admin', 'wrong-password');
    await expect.poll(() => page.textContent('#signin-error'), WAIT).toBe('Wrong name or password.');
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.locator('#app').waitFor();
    expect(await page.textContent('#who')).toBe('admin · admin');
    // Live while the training feed is connected, though no model is active.
    await expect.poll(() => page.getAttribute('#live', 'data-state'), WAIT).toBe('live');
    expect(await page.textContent('#live')).toBe('live');
    await expect.poll(() => page.textContent('#feed-summary'), WAIT).toBe('Train a model, then activate it to judge pictures.');
    await expect.poll(() => page.isDisabled('#train-button'), WAIT).toBe(true);
    expect(await page.textContent('#train-reason')).toBe('Add OK pictures (good parts) first: a model learns what good looks like.');
    // Train uses the automatic choice unless the engineer picks an algorithm.
    await expect.poll(() => page.inputValue('#train-algorithm'), WAIT).toBe('auto');
    expect(await page.textContent('#train-algorithm option:first-child')).toBe('Automatic choice (recommended)');
    // The cookie is out of reach of page scripts.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'spectro_session', httpOnly: true, sameSite: 'Strict' });
  });

  it("refuses a .txt by name, adds OK and NG pictures, trains with live progress; the target's first model is active by itself", async () => {
    await page.setInputFiles('#add-ok', [{ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') }]);
    await expect.poll(() => page.textContent('#notices'), WAIT).toContain('Not added as OK pictures: notes.txt');

    await page.setInputFiles('#add-ok', await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((s) => png(s))));
    await expect.poll(() => page.textContent('#training-count'), WAIT).toBe('8 OK · 0 NG');
    await page.setInputFiles('#add-ng', await Promise.all([101, 102, 103].map((s) => png(s, true))));
    await expect.poll(() => page.textContent('#training-count'), WAIT).toBe('8 OK · 3 NG');
    expect(await page.isDisabled('#train-button')).toBe(false);
    expect(await page.textContent('#train-reason')).toBe('');

    await page.selectOption('#train-algorithm', 'pattern-matching');
    await page.fill('#train-name', 'plates');
    await page.click('#train-button');
    await page.locator('#models .model .progress:not([hidden])').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(SHOTS, 'training.png') });
    await page.locator('#models .model .pill.s-READY').waitFor({ timeout: 120_000 });
    // the target's first model is its active one by itself: the line is judged from now on
    await page.locator('#models .model .pill.active:not([hidden])').waitFor();
    await expect.poll(() => page.textContent('#feed-summary'), WAIT).toBe('Waiting for results…');
    expect(await page.locator('#models .model button:text("Activate")').count()).toBe(0);
  }, 180_000);

  it('judges pictures into the live results, and stays signed in across token expiry (the cookie renews)', async () => {
    await page.setInputFiles('#predict-files', [await png(201), await png(202, true)]);
    await expect.poll(() => page.locator('#feed .result').count(), { timeout: 30_000 }).toBe(2);

    // Two renewals: past the lifetime of the token the page signed in with.
    for (let i = 0; i < 2; i++) {
      await page.waitForResponse(
        async (r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('"RefreshSession"') && r.status() === 200,
        { timeout: TOKEN_TTL_S * 2000 },
      );
    }
    expect(await page.isVisible('#signin')).toBe(false);
    // A picture judged elsewhere (the line) arrives on the live feed that outlived its first token.
    const judged = await ts.upload(
      'mutation($m: ID!, $f: [File!]!) { predictImages(modelId: $m, files: $f) { id } }',
      { m: 'active', f: [null] },
      { 'f.0': { name: 'from-line.png', body: (await png(203)).buffer, type: 'image/png' } },
    );
    expect(judged.errors).toBeUndefined();
    await expect.poll(() => page.locator('#feed .result .name:text("from-line.png")').count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => page.getAttribute('#live', 'data-state'), WAIT).toBe('live');

    // A reload (a wall screen after a power cut) comes straight back in with the cookie.
    await page.reload();
    await page.locator('#app').waitFor();
    expect(await page.isVisible('#signin')).toBe(false);
    await expect.poll(() => page.locator('#feed .result').count(), WAIT).toBe(3);
    // Every thumbnail drawn (its picture loaded from a signed link), for the screenshot.
    await expect.poll(() => page.$$eval('#feed canvas', (cs) => cs.every((c) => (c as HTMLCanvasElement).style.width !== '')), WAIT).toBe(true);
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(SHOTS, 'results.png') });
  }, 60_000);

  it('previews a threshold on the labelled pictures before saving it', async () => {
    await page.click('#models .model button:text("Threshold…")');
    await page.locator('#tune-effect div').first().waitFor({ timeout: 30_000 });
    const cells = () => page.locator('#tune-effect b').allTextContents();
    // Everything above 0 is BAD: every OK picture rejected, every NG one caught.
    await page.locator('#tune-slider').fill('0');
    expect(await cells()).toEqual(['0 / 8', '8 / 8', '3 / 3', '0 / 3']);
    // What it catches (synthetic spots and scratches measured in training), read at the slider:
    // at 0 every probe is BAD; a threshold above every probe's score catches none of them.
    const grid = async () => (await page.locator('#tune-sensitivity td').allTextContents()).map((t) => t.split('/').map(Number));
    await expect.poll(async () => (await grid()).length, WAIT).toBe(12);
    expect((await grid()).every(([n, of]) => n === of && of! >= 3)).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'threshold.png') });
    const max = Number(await page.getAttribute('#tune-slider', 'max'));
    await page.locator('#tune-slider').fill(String(max));
    expect(await cells()).toEqual(['8 / 8', '0 / 8', '0 / 3', '3 / 3']);
    // the page reads the probes as the gateway does at the same threshold
    const { data: probed } = await ts.gql('query ($t: Float) { model(id: "active") { stats { sensitivity(threshold: $t) { caught tested } } } }', {
      t: max,
    });
    expect(await grid()).toEqual(probed.model.stats.sensitivity.map((c: { caught: number; tested: number }) => [c.caught, c.tested]));
    // Measuring judged the training pictures without results: the live feed has only the three.
    expect(await page.locator('#feed .result').count()).toBe(3);
    const stored = await ts.gql('{ items(type: TRAINING, first: 50) { edges { node { assessments { id } } } } }');
    expect(stored.data.items.edges.flatMap((e: { node: { assessments: unknown[] } }) => e.node.assessments)).toEqual([]);
    await page.click('#tune-save');
    await expect.poll(() => page.textContent('#tune-saved'), WAIT).toMatch(/^Saved: /);
    const { data } = await ts.gql('{ model(id: "active") { predictParameters { threshold } } }');
    expect(data.model.predictParameters.threshold).toBeCloseTo(max, 3);
    await page.keyboard.press('Escape');
  }, 60_000);

  it('reviews a result into the training pictures (a correction), then retrains from there', async () => {
    const card = page.locator('#feed .result', { has: page.locator('.name:text("ok-201.png")') });
    expect(await card.locator('.badge').textContent()).toBe('GOOD');
    await card.locator('.review button:text("NG")').click();
    await expect.poll(() => card.locator('.review').textContent(), WAIT).toBe('Added to training as NG (corrected)');
    await expect.poll(() => page.textContent('#training-count'), WAIT).toBe('8 OK · 4 NG');
    const { data } = await ts.gql('{ items(type: TRAINING, first: 50) { edges { node { name good images { url } } } } }');
    const added = data.items.edges.map((e: { node: { name: string; good: boolean } }) => e.node).filter((n: { name: string }) => n.name === 'ok-201.png');
    expect(added).toMatchObject([{ name: 'ok-201.png', good: false, images: [{ url: expect.any(String) }] }]);

    await page.click('#retrain');
    await expect.poll(() => page.locator('#models .model').count(), WAIT).toBe(2);
    await page.locator('#models .model:not(.is-active) .pill.s-READY').waitFor({ timeout: 120_000 });
    expect(await page.locator('#models .model:not(.is-active) .model-sub').textContent()).toContain('8 OK / 4 NG');

    // Two READY models: compared on the same labelled pictures (8 OK, 4 NG now), nothing stored.
    const before = await page.locator('#feed .result').count();
    await page.click('#open-compare');
    await page.click('#compare-run');
    await expect.poll(() => page.locator('#compare-out .card').count(), WAIT).toBe(2);
    for (const card of await page.locator('#compare-out .card').all()) {
      expect(await card.locator('p').textContent()).toMatch(/^AUROC (0|1)\.\d{3} · threshold /);
      const rows = await card.locator('tbody tr').allTextContents();
      expect(rows).toHaveLength(2);
      const cells = await card.locator('td.num').allTextContents();
      // Every labelled picture lands in exactly one cell: 8 OK in the first row, 4 NG in the second.
      expect(Number(cells[0]) + Number(cells[1])).toBe(8);
      expect(Number(cells[2]) + Number(cells[3])).toBe(4);
    }
    expect(await page.locator('#feed .result').count()).toBe(before);
    await page.screenshot({ path: path.join(SHOTS, 'compare.png') });
    await page.keyboard.press('Escape');
  }, 180_000);

  it("reviews a result with boxes: the model's boxes shown and deletable, a box drawn by dragging and resized by its corner, stored as the training picture's annotation", async () => {
    const card = page.locator('#feed .result', { has: page.locator('.name:text("ng-202.png")') });
    await card.locator('.review button:text("Boxes…")').click();
    const canvas = page.locator('#review-canvas');
    await expect.poll(async () => (await canvas.boundingBox())?.width ?? 0, WAIT).toBeGreaterThan(100);
    const boxes = page.locator('#review-boxes li');
    const predicted = await boxes.count();
    const { data: judged } = await ts.gql(
      '{ items(type: PREDICTION, first: 50) { edges { node { name assessments(modelId: "active") { annotations { xMin } } } } } }',
    );
    const judgedNode = judged.items.edges.map((e: { node: unknown }) => e.node).find((n: { name: string }) => n.name === 'ng-202.png');
    expect(predicted).toBe(judgedNode.assessments[0].annotations.filter((a: { xMin: number | null }) => a.xMin != null).length);

    // A drag from (20%, 20%) to (60%, 50%) of the picture: a box in pixels of the 96 px original.
    const { x, y, width, height } = (await canvas.boundingBox())!;
    await page.mouse.move(x + 0.2 * width, y + 0.2 * height);
    await page.mouse.down();
    await page.mouse.move(x + 0.4 * width, y + 0.35 * height, { steps: 4 });
    await page.mouse.move(x + 0.6 * width, y + 0.5 * height, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => boxes.count(), WAIT).toBe(predicted + 1);
    // A click is not a box.
    await canvas.click({ position: { x: 0.8 * width, y: 0.8 * height } });
    expect(await boxes.count()).toBe(predicted + 1);
    // The model's boxes go (wrong ones are deleted this way); the drawn one stays.
    for (let i = 0; i < predicted; i++) await boxes.first().locator('button.delete').click();
    expect(await boxes.count()).toBe(1);
    // Its bottom-right corner dragged from (60%, 50%) to (70%, 60%): the same box, larger.
    await page.mouse.move(x + 0.6 * width, y + 0.5 * height);
    await page.mouse.down();
    await page.mouse.move(x + 0.7 * width, y + 0.6 * height, { steps: 4 });
    await page.mouse.up();
    expect(await boxes.count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'review-boxes.png') });

    await page.click('#review-ng');
    await expect.poll(() => card.locator('.review').textContent(), WAIT).toBe('Added to training as NG with 1 box');
    expect(await page.isVisible('#review')).toBe(false);
    await expect.poll(() => page.textContent('#training-count'), WAIT).toBe('8 OK · 5 NG');
    const { data } = await ts.gql(
      '{ items(type: TRAINING, first: 100) { edges { node { name good userAssessment { annotations { xMin xMax yMin yMax } } } } } }',
    );
    const added = data.items.edges.map((e: { node: { name: string } }) => e.node).filter((n: { name: string }) => n.name === 'ng-202.png');
    expect(added).toHaveLength(1);
    expect(added[0].good).toBe(false);
    const [box] = added[0].userAssessment.annotations;
    expect(added[0].userAssessment.annotations).toHaveLength(1);
    for (const [got, want] of [
      [box.xMin, 0.2 * 96],
      [box.yMin, 0.2 * 96],
      [box.xMax, 0.7 * 96],
      [box.yMax, 0.6 * 96],
    ])
      expect(Math.abs(got - want)).toBeLessThanOrEqual(2);
  }, 60_000);

  it('an admin adds a viewer, who reads but is offered no training or judging', async () => {
    await page.click('#open-admin');
    await page.fill('#add-user input[name=name]', 'vic');
    await page.selectOption('#add-user select[name=role]', 'VIEWER');
    await page.fill('#add-user input[name=password]', 'viewer-password');
    await page.click('#add-user button[type=submit]');
    await expect.poll(() => page.locator('#users tr').allTextContents(), WAIT).toContainEqual(expect.stringContaining('vic'));
    await page.keyboard.press('Escape');

    const viewerContext = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const viewer = await viewerContext.newPage();
    await signIn(viewer, 'vic', 'viewer-password');
    await viewer.locator('#app').waitFor();
    expect(await viewer.textContent('#who')).toBe('vic · viewer');
    expect(await viewer.isVisible('#training-card')).toBe(false);
    expect(await viewer.isVisible('#predict-btn')).toBe(false);
    expect(await viewer.isVisible('#open-admin')).toBe(false);
    expect(await viewer.locator('#models .model button').count()).toBe(0);
    await expect.poll(() => viewer.locator('#feed .result').count(), WAIT).toBeGreaterThan(0);

    // Sign-out ends the session: a reload asks to sign in again.
    await viewer.click('#sign-out');
    await viewer.locator('#signin-form').waitFor();
    await viewer.reload();
    await viewer.locator('#signin-form').waitFor();
    expect(await viewer.isVisible('#app')).toBe(false);
    await viewerContext.close();
  }, 60_000);

  it('creates a target and switches between targets, each with its own models and pictures', async () => {
    // The prompt for the name is answered "line 2" (the dialog handler above).
    await page.click('#new-target');
    await expect.poll(() => page.locator('#target-select option:checked').textContent(), WAIT).toBe('line 2');
    await expect.poll(() => page.textContent('#training-count'), WAIT).toBe('0 OK · 0 NG');
    expect(await page.locator('#models .model').count()).toBe(0);
    expect(await page.isVisible('#models-empty')).toBe(true);
    expect(await page.isDisabled('#train-button')).toBe(true);
    expect(await page.textContent('#feed-summary')).toBe('Train a model, then activate it to judge pictures.');

    const defaultId = await page.locator('#target-select option', { hasText: 'default' }).getAttribute('value');
    await page.selectOption('#target-select', defaultId!);
    await expect.poll(() => page.locator('#models .model').count(), WAIT).toBe(2);
    await expect.poll(() => page.locator('#feed .result').count(), WAIT).toBeGreaterThan(0);
  }, 60_000);

  it("draws include and exclude regions on the model's reference picture, shows a refusal under its region, saves and resets", async () => {
    await page.click('#models .model.is-active button:text("Regions…")');
    await expect.poll(() => page.textContent('#regions-note'), WAIT).toContain("Judges with the target's regions (0 regions)");
    const canvas = page.locator('#regions-canvas');
    await expect.poll(async () => (await canvas.boundingBox())?.width ?? 0, WAIT).toBeGreaterThan(100);
    const { width, height } = (await canvas.boundingBox())!;
    const polygon = async (mode: 'include' | 'exclude', corners: [number, number][]) => {
      await page.click(`#regions-add-${mode}`);
      for (const [x, y] of corners) await canvas.click({ position: { x: x * width, y: y * height } });
      await page.click('#regions-finish');
    };
    await polygon('include', [
      [0.1, 0.1],
      [0.9, 0.1],
      [0.9, 0.9],
      [0.1, 0.9],
    ]);
    await polygon('exclude', [
      [0.2, 0.2],
      [0.4, 0.2],
      [0.3, 0.4],
    ]);
    await polygon('include', [
      [0.5, 0.5],
      [0.6, 0.5],
      [0.6, 0.6],
    ]);
    expect(await page.locator('#regions-list .region').count()).toBe(3);
    await page.locator('#regions-list .region').nth(2).locator('button.delete').click();
    expect(await page.locator('#regions-list .region .mode').allTextContents()).toEqual(['include · 4 points', 'exclude · 3 points']);

    // Out of range: the gateway's refusal lands under the region it names; nothing is stored.
    await page.locator('#regions-list .region').first().locator('input.sensitivity').fill('20');
    await page.click('#regions-save');
    await expect
      .poll(() => page.locator('#regions-list .region').first().locator('.region-error').textContent(), WAIT)
      .toBe('sensitivity: must be within 0.1..10, got 20');
    expect(await page.textContent('#regions-error')).toBe('Not saved. See region 1.');
    expect((await ts.gql('{ model(id: "active") { regionsInherited } }')).data.model.regionsInherited).toBe(true);

    await page.locator('#regions-list .region').first().locator('input.sensitivity').fill('2');
    await page.click('#regions-save');
    await expect.poll(() => page.textContent('#regions-saved'), WAIT).toMatch(/^Saved: 2 regions/);
    expect(await page.textContent('#regions-error')).toBe('');
    await page.screenshot({ path: path.join(SHOTS, 'regions.png') });
    const { data } = await ts.gql('{ model(id: "active") { regionsInherited regions { mode sensitivity points { x y } } } }');
    expect(data.model.regionsInherited).toBe(false);
    expect(data.model.regions.map((r: { mode: string; sensitivity: number }) => [r.mode, r.sensitivity])).toEqual([
      ['INCLUDE', 2],
      ['EXCLUDE', 1],
    ]);
    // The clicks became fractions of the picture (within a pixel or two of where they were made).
    const [x0, y0] = [data.model.regions[0].points[0].x, data.model.regions[0].points[2].y];
    expect(Math.abs(x0 - 0.1)).toBeLessThan(0.02);
    expect(Math.abs(y0 - 0.9)).toBeLessThan(0.02);

    // Back to the target's regions (confirmed).
    await page.click('#regions-reset');
    await expect.poll(() => page.textContent('#regions-saved'), WAIT).toBe("Judges with the target's regions (0 regions) again.");
    expect((await ts.gql('{ model(id: "active") { regionsInherited } }')).data.model.regionsInherited).toBe(true);
    await page.keyboard.press('Escape');
  }, 60_000);

  it("keeps the target's activation history and activates an earlier model again after confirmation (a rollback)", async () => {
    const history = page.locator('#history li');
    await expect.poll(() => history.count(), WAIT).toBe(1);
    const first = await page.locator('#models .model.is-active').getAttribute('data-id');
    await page.click('#models .model:not(.is-active) button:text("Activate")');
    await expect.poll(() => history.count(), WAIT).toBe(2);
    expect(await history.first().getAttribute('data-model-id')).not.toBe(first);
    expect(await history.first().textContent()).toMatch(/ · plates v1\.0\.0 \(was plates v1\.0\.0\) · by adminACTIVE$/);

    dialogs.length = 0;
    await history.nth(1).locator('button:text("Activate again")').click();
    await expect.poll(() => history.count(), WAIT).toBe(3);
    expect(dialogs).toEqual(['Activate plates v1.0.0? Live results switch from plates v1.0.0 to it.']);
    expect(await page.locator('#models .model.is-active').getAttribute('data-id')).toBe(first);
    expect(await history.first().getAttribute('data-model-id')).toBe(first);
    expect(await history.first().locator('.pill.active').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'history.png') });
  }, 60_000);

  it('exports ticked models as a zip link and imports it back with progress; a broken archive is refused by name', async () => {
    const ticks = page.locator('#models .model input.select');
    expect(await ticks.count()).toBe(2);
    for (const t of await ticks.all()) await t.check();
    expect(await page.textContent('#export-models')).toBe('Export 2 models');
    await page.click('#export-models');
    await page.locator('#export-link:not([hidden])').waitFor(WAIT);
    const href = (await page.getAttribute('#export-link', 'href'))!;
    const zip = Buffer.from(await (await fetch(new URL(href, ts.url))).arrayBuffer());
    expect(zip.subarray(0, 2).toString()).toBe('PK');

    await page.setInputFiles('#import-file', { name: 'broken.zip', mimeType: 'application/zip', buffer: Buffer.from('not a zip at all') });
    await expect.poll(() => page.textContent('#import-status'), WAIT).toMatch(/^broken\.zip was not imported \(nothing changed\): \S/);
    expect(await page.locator('#models .model').count()).toBe(2);

    // The import is held at the browser's edge until the page has shown its progress.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/graphql', async (route) => {
      if (route.request().postDataBuffer()?.includes('"ImportModels"')) await held;
      await route.continue();
    });
    await page.setInputFiles('#import-file', { name: 'line-models.zip', mimeType: 'application/zip', buffer: zip });
    await page.locator('#import-progress:not([hidden])').waitFor(WAIT);
    expect(await page.textContent('#import-status')).toMatch(/^(Uploading line-models\.zip…( \d+%)?|Checking line-models\.zip…)$/);
    release();
    await expect
      .poll(() => page.textContent('#import-status'), { timeout: 60_000 })
      .toMatch(/^Imported from line-models\.zip: .+ \(READY; activate when wanted\)$/);
    await expect.poll(() => page.locator('#models .model').count(), WAIT).toBe(4);
    expect(await page.isVisible('#import-progress')).toBe(false);
    await page.unrouteAll();
  }, 90_000);

  it('fits a 390 px wide phone without sideways scrolling', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, storageState: await context.storageState() });
    const p = await phone.newPage();
    await p.goto(`${ts.url}/`);
    await p.locator('#app').waitFor();
    await expect.poll(() => p.locator('#feed .result').count(), WAIT).toBeGreaterThan(0);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // The results come first on a phone, right under a header of at most two rows.
    const header = (await p.locator('header.bar').boundingBox())!;
    expect(header.height).toBeLessThan(110);
    expect((await p.locator('#feed-col').boundingBox())!.y).toBeLessThan((await p.locator('#models').boundingBox())!.y);
    for (const id of ['#sign-out', '#live', '#target-select']) {
      const box = (await p.locator(id).boundingBox())!;
      expect(box.x + box.width, id).toBeLessThanOrEqual(390);
    }
    await p.screenshot({ path: path.join(SHOTS, 'phone.png') });
    await phone.close();
    expect(errors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 30_000);
});
