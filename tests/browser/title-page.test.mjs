// End-to-end test of the title page in a real browser (headless Chromium via playwright-core).
//
// Starts `marquee serve --demo` on a free port with a fresh data directory, then checks the
// signed-out page, the JavaScript-enhanced rating form and helpful votes, the same forms with
// JavaScript turned off, and takes phone and desktop screenshots into tests/browser/out/.
//
// Run: tests/browser/run.sh   (or, in this folder: npm ci && node --test)
// Env:  MARQUEE_BIN  server binary (default ../../target/debug/marquee from this file)
//       CHROMIUM     browser binary (default /usr/bin/chromium)
//       CI=true      a missing Chromium or playwright-core fails instead of skipping

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CHROMIUM, CHROMIUM_ARGS, IN_CI, MARQUEE_BIN, assertClean, freePort, startServer, stopServer, watchedPage,
} from './lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.join(HERE, 'out');

const SLUG = 'the-work';
const MOVIE_PATH = `/movies/${SLUG}`;
const DEMO_PASSWORD = 'marquee-demo';
// Every demo reviewer in crates/server/src/demo/catalog.json has already rated The Work (nine
// reviews plus meilin's bare rating), so the only demo account that can add a *new* rating is
// the demo admin, whose random password the server prints once at start-up.
const NEW_RATER = 'admin';
// meilin rated The Work 5 stars without a review: the no-JS test moves that rating to 1 star.
const NO_JS_RATER = 'meilin';
const NO_JS_OLD_STARS = 5;
const NO_JS_NEW_STARS = 1;
const STEP_TIMEOUT = 10_000;

// ---------------------------------------------------------------------------------------------
// Prerequisites: without Chromium or playwright-core, skip locally and fail in CI.

let chromium = null;
let missing = null;
if (!existsSync(CHROMIUM)) {
  missing =
    `Chromium not found at ${CHROMIUM}; install it with ` +
    '`apt-get install -y --no-install-recommends chromium chromium-driver` or set CHROMIUM';
} else {
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    missing = `playwright-core is not installed (run \`npm ci\` in tests/browser): ${e.message}`;
  }
}

if (missing && IN_CI) {
  test('browser test prerequisites', () => assert.fail(`${missing} (CI=true, so this is a failure)`));
} else if (missing) {
  console.log(`# SKIP browser tests: ${missing}`);
  test('title page in headless Chromium', { skip: missing }, () => {});
} else {
  defineTests();
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** The first number in a text ("11 ratings" -> 11); no number (e.g. "") counts as 0. */
function num(text) {
  const m = /\d+/.exec(text ?? '');
  return m ? Number(m[0]) : 0;
}

/** Every place the title page shows rating figures, read through the DOM. */
async function readStats(page) {
  const texts = async (sel) => (await page.locator(sel).allTextContents()).map((t) => t.trim());
  const bars = {};
  const barValues = {};
  for (let n = 1; n <= 5; n++) {
    bars[n] = num(await page.locator(`[data-bar-count="${n}"]`).first().textContent());
    barValues[n] = await page.locator(`progress[data-bar="${n}"]`).first().getAttribute('value');
  }
  return {
    ratingTexts: await texts('[data-rating-count]'),
    reviewTexts: await texts('[data-review-count]'),
    avgTexts: await texts('[data-avg]'),
    bars,
    barValues,
  };
}

/** The single count a list of texts shows; fails when the page disagrees with itself. */
function oneCount(texts, what) {
  assert.ok(texts.length > 0, `no ${what} element on the page`);
  const counts = [...new Set(texts.map(num))];
  assert.equal(counts.length, 1, `the page shows different ${what}: ${JSON.stringify(texts)}`);
  return counts[0];
}

/** Waits for fn(arg) to be true in the page, without failing on timeout (assert afterwards). */
async function settle(page, fn, arg) {
  await page.waitForFunction(fn, arg, { timeout: STEP_TIMEOUT }).catch(() => {});
}

function defineTests() {
  describe('title page in headless Chromium', () => {
    let server;
    let browser;
    let dataDir;
    const contexts = [];
    const url = (p) => `${server.baseUrl}${p}`;

    async function newContext(options = {}) {
      const ctx = await browser.newContext(options);
      contexts.push(ctx);
      return ctx;
    }

    async function signIn(page, username, password, next = MOVIE_PATH) {
      await page.goto(url(`/signin?next=${encodeURIComponent(next)}`));
      await page.fill('#username', username);
      await page.fill('#password', password);
      await Promise.all([
        page.waitForURL((u) => u.pathname === next, { timeout: STEP_TIMEOUT }),
        page.click('form[action="/signin"] button[type="submit"]'),
      ]);
      // The header names the signed-in user and offers a sign-out button.
      assert.equal(await page.locator('form[action="/signout"]').count(), 1, `${username} is not signed in`);
    }

    before(async () => {
      assert.ok(
        existsSync(MARQUEE_BIN),
        `server binary not found at ${MARQUEE_BIN}: build it with \`cargo build\` or set MARQUEE_BIN`,
      );
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'marquee-browser-'));
      process.on('exit', () => server?.proc.kill('SIGKILL')); // never leave a server behind
      server = await startServer(dataDir, await freePort());
      assert.ok(server.adminPassword, `no demo admin password in the server output:\n${server.output()}`);
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    });

    after(async () => {
      for (const ctx of contexts) await ctx.close().catch(() => {});
      await browser?.close().catch(() => {});
      await stopServer(server?.proc);
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    test('signed out: the title page shows the film, reviews and a sign-in link', { timeout: 60_000 }, async () => {
      const ctx = await newContext();
      const { page, log } = await watchedPage(ctx);
      const res = await page.goto(url(MOVIE_PATH), { waitUntil: 'load' });
      assert.equal(res.status(), 200);
      const body = await page.locator('body').innerText();
      for (const text of [
        '2017 • 89 minutes',
        'About this movie',
        'Did you find this helpful?',
        'Rate this movie',
        'Tell us what you think.',
      ]) {
        assert.ok(body.includes(text), `the page does not show "${text}"`);
      }
      const signInLink = page.locator('section.rate a[href^="/signin"]');
      assert.equal(await signInLink.count(), 1, 'no sign-in link in the rating section');
      assert.match(await signInLink.innerText(), /sign in/i);
      assert.equal(await page.locator('form.rating-form').count(), 0, 'signed-out visitors must not get the rating form');
      assert.ok((await page.locator('article.review').count()) > 0, 'no reviews shown');
      await page.waitForLoadState('networkidle');
      // Chromium asks for /favicon.ico after the first page of a site loads. Check everything
      // else first, then the favicon on its own, so that failure names its cause.
      const isFavicon = (e) => / @ https?:\/\/[^/]+\/favicon\.ico$/.test(e);
      assertClean({ ...log, consoleErrors: log.consoleErrors.filter((e) => !isFavicon(e)) }, 'signed-out title page');
      const foreign = log.requests.filter((r) => {
        const u = new URL(r.split(' ')[1]);
        return !(u.protocol === 'data:' || u.hostname === '127.0.0.1');
      });
      assert.deepEqual(foreign, [], 'requests to hosts other than 127.0.0.1');
      assert.ok(log.requests.some((r) => r.endsWith('/assets/app.js')), 'app.js was not requested');
      assert.deepEqual(
        log.consoleErrors.filter(isFavicon),
        [],
        'the browser logged a console error for /favicon.ico: the server answers 404 and base.html ' +
          'declares no icon (e.g. <link rel="icon" href="data:,"> or a served /favicon.ico would fix it)',
      );
    });

    test('rating with JavaScript updates the page in place and escapes the review', { timeout: 60_000 }, async () => {
      const ctx = await newContext();
      const { page, log } = await watchedPage(ctx);
      await signIn(page, NEW_RATER, server.adminPassword);
      assert.equal(
        await page.locator('form.rating-form input[name="stars"]:checked').count(),
        0,
        `${NEW_RATER} should not have rated The Work yet`,
      );
      const before = await readStats(page);
      const ratingsBefore = oneCount(before.ratingTexts, 'rating counts');
      const reviewsBefore = oneCount(before.reviewTexts, 'review counts');

      const headline = 'Twice as good <b>the second time</b>';
      const body = 'I expected a lecture. <script>alert(1)</script> It is a room full of people listening.';
      await page.check('form.rating-form input[name="stars"][value="5"]');
      await page.fill('#headline', headline);
      await page.fill('#body', body);
      await page.evaluate(() => { window.__marker = 1; });
      const navigationsBefore = log.navigations.length;
      const saved = page.waitForResponse(
        (r) => r.url().endsWith('/rating') && r.request().method() === 'PUT',
        { timeout: STEP_TIMEOUT },
      );
      await page.click('form.rating-form button[type="submit"]');
      const apiRes = await saved;
      assert.equal(apiRes.status(), 200, `PUT ${apiRes.url()} answered ${apiRes.status()}`);
      await settle(page, () => /Saved/.test(document.querySelector('.form-status')?.textContent ?? ''));

      assert.match(await page.locator('.form-status').innerText(), /Saved/, 'the status line does not say Saved');
      assert.equal(await page.evaluate(() => window.__marker), 1, 'the page navigated (window.__marker is gone)');
      assert.equal(log.navigations.length, navigationsBefore, `the page navigated: ${log.navigations.slice(navigationsBefore)}`);
      assert.equal(new URL(page.url()).pathname, MOVIE_PATH);

      const afterSave = await readStats(page);
      assert.equal(oneCount(afterSave.ratingTexts, 'rating counts'), ratingsBefore + 1, 'the rating count did not go up by one');
      assert.equal(oneCount(afterSave.reviewTexts, 'review counts'), reviewsBefore + 1, 'the review count did not go up by one');
      assert.equal(afterSave.bars[5], before.bars[5] + 1, 'the 5-star count did not go up by one');
      for (const n of [1, 2, 3, 4]) assert.equal(afterSave.bars[n], before.bars[n], `the ${n}-star count changed`);
      const bar5 = await page.locator('progress[data-bar="5"]').evaluate((el) => ({ value: el.value, max: el.max }));
      assert.deepEqual(bar5, { value: before.bars[5] + 1, max: ratingsBefore + 1 }, 'the 5-star bar was not updated');
      assert.equal((await page.locator('form.rating-form button[type="submit"]').innerText()).trim(), 'Update my rating');
      assert.equal(await page.locator('#rate-errors').count(), 0, 'an error box is shown');

      // After a reload the server renders the saved text; it must stay text.
      await page.reload();
      assert.equal(await page.evaluate(() => window.__marker), undefined, 'reload did not happen');
      assert.equal(await page.inputValue('#headline'), headline);
      assert.equal(await page.inputValue('#body'), body);
      assert.equal(await page.locator('form.rating-form input[name="stars"][value="5"]').isChecked(), true);
      const reloaded = await readStats(page);
      assert.deepEqual(reloaded.ratingTexts, afterSave.ratingTexts, 'the server-rendered counts differ from the in-place update');
      assert.deepEqual(reloaded.reviewTexts, afterSave.reviewTexts);
      assert.deepEqual(reloaded.avgTexts, afterSave.avgTexts, 'the server-rendered average differs from the in-place update');
      assert.deepEqual(reloaded.bars, afterSave.bars);

      // A new review has no helpful votes, so it is not among the title page's top three: read it
      // on the all-reviews page, newest first.
      await page.goto(url(`${MOVIE_PATH}/reviews?sort=newest`));
      const mine = page.locator('article.review').filter({ hasText: 'It is a room full of people listening.' });
      assert.equal(await mine.count(), 1, 'the new review is not listed on the reviews page');
      assert.ok((await mine.locator('.review-body').innerText()).includes('<script>alert(1)</script>'),
        'the review text is not shown literally');
      assert.equal((await mine.locator('.review-headline').innerText()).trim(), headline);
      assert.equal(await mine.locator('script, b').count(), 0, 'review text was rendered as markup');
      assert.match(await mine.innerText(), /This is your review\./);
      await page.waitForTimeout(300); // give a (wrongly) injected script a moment to run
      assertClean(log, 'rating flow');
    });

    test('signed out: the shared cached page shows the new rating', { timeout: 60_000 }, async () => {
      const ctx = await newContext();
      const { page, log } = await watchedPage(ctx);
      await page.goto(url(MOVIE_PATH));
      const stats = await readStats(page);
      // 10 ratings in the demo catalog, plus the one the previous test added.
      assert.equal(oneCount(stats.ratingTexts, 'rating counts'), 11, 'the signed-out page still shows the old rating count');
      assertClean(log, 'signed-out page after rating');
    });

    test('helpful votes are cast and withdrawn in place', { timeout: 60_000 }, async () => {
      const ctx = await newContext();
      const { page, log } = await watchedPage(ctx);
      await signIn(page, NEW_RATER, server.adminPassword);
      const review = page
        .locator('article.review')
        .filter({ has: page.locator('form.vote-form button[data-vote="yes"]') })
        .first();
      const reviewId = await review.getAttribute('id');
      assert.ok(reviewId, 'no review the user can vote on');
      const yes = review.locator('button[data-vote="yes"]');
      const no = review.locator('button[data-vote="no"]');
      const helpful = async () => num(await review.locator('.helpful-count').textContent());

      assert.equal(await yes.getAttribute('aria-pressed'), 'false', 'the user has already voted on this review');
      const countBefore = await helpful();

      await page.evaluate(() => { window.__marker = 1; });
      const navigationsBefore = log.navigations.length;
      await yes.click();
      await settle(page, ([id]) => document.querySelector(`#${id} button[data-vote="yes"]`)?.getAttribute('aria-pressed') === 'true', [reviewId]);
      assert.equal(await yes.getAttribute('aria-pressed'), 'true', 'Yes is not pressed after voting');
      assert.equal(await no.getAttribute('aria-pressed'), 'false');
      assert.equal(await helpful(), countBefore + 1, 'the helpful count did not go up by one');
      assert.equal(await page.evaluate(() => window.__marker), 1, 'the page navigated when voting');
      assert.equal(log.navigations.length, navigationsBefore, `the page navigated: ${log.navigations.slice(navigationsBefore)}`);
      assert.equal(await review.locator('.vote-error').count(), 0, 'a vote error is shown');

      // The vote is stored: a reload shows it.
      await page.reload();
      assert.equal(await yes.getAttribute('aria-pressed'), 'true', 'the vote is not shown after a reload');
      assert.equal(await helpful(), countBefore + 1);

      await page.evaluate(() => { window.__marker = 2; });
      const navigationsBeforeWithdraw = log.navigations.length;
      await yes.click();
      await settle(page, ([id]) => document.querySelector(`#${id} button[data-vote="yes"]`)?.getAttribute('aria-pressed') === 'false', [reviewId]);
      assert.equal(await yes.getAttribute('aria-pressed'), 'false', 'clicking Yes again did not withdraw the vote');
      assert.equal(await no.getAttribute('aria-pressed'), 'false');
      assert.equal(await helpful(), countBefore, 'the helpful count did not go back');
      assert.equal(await page.evaluate(() => window.__marker), 2, 'the page navigated when withdrawing');
      assert.equal(log.navigations.length, navigationsBeforeWithdraw);
      assertClean(log, 'voting');
    });

    test('without JavaScript the rating form posts, redirects back and shows the new counts', { timeout: 60_000 }, async () => {
      const ctx = await newContext({ javaScriptEnabled: false });
      const { page, log } = await watchedPage(ctx);
      await signIn(page, NO_JS_RATER, DEMO_PASSWORD);
      assert.equal(
        await page.locator(`form.rating-form input[name="stars"][value="${NO_JS_OLD_STARS}"]`).isChecked(),
        true,
        `${NO_JS_RATER}'s ${NO_JS_OLD_STARS}-star rating is not preselected`,
      );
      const before = await readStats(page);
      const ratingsBefore = oneCount(before.ratingTexts, 'rating counts');

      await page.check(`form.rating-form input[name="stars"][value="${NO_JS_NEW_STARS}"]`);
      const posted = page.waitForResponse(
        (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `${MOVIE_PATH}/rating`,
        { timeout: STEP_TIMEOUT },
      );
      await Promise.all([
        page.waitForURL((u) => u.pathname === MOVIE_PATH && u.searchParams.get('saved') === '1', { timeout: STEP_TIMEOUT }),
        page.click('form.rating-form button[type="submit"]'),
      ]);
      const res = await posted;
      assert.equal(res.status(), 303, `the form post answered ${res.status()}, not a redirect`);
      assert.equal(await page.locator('.form-status').innerText(), '', 'the script ran although JavaScript is off');

      const afterPost = await readStats(page);
      assert.equal(oneCount(afterPost.ratingTexts, 'rating counts'), ratingsBefore, 'changing a rating must not add one');
      assert.equal(afterPost.bars[NO_JS_OLD_STARS], before.bars[NO_JS_OLD_STARS] - 1, `the ${NO_JS_OLD_STARS}-star count did not go down`);
      assert.equal(afterPost.bars[NO_JS_NEW_STARS], before.bars[NO_JS_NEW_STARS] + 1, `the ${NO_JS_NEW_STARS}-star count did not go up`);
      assert.equal(afterPost.barValues[NO_JS_NEW_STARS], String(before.bars[NO_JS_NEW_STARS] + 1));
      assert.notDeepEqual(afterPost.avgTexts, before.avgTexts, 'the average did not change');
      assert.equal(await page.locator(`form.rating-form input[name="stars"][value="${NO_JS_NEW_STARS}"]`).isChecked(), true);
      assertClean(log, 'no-JS rating');
    });

    test('screenshots of the signed-out title page at phone and desktop widths', { timeout: 60_000 }, async () => {
      await mkdir(OUT_DIR, { recursive: true });
      for (const [name, viewport] of [
        ['phone', { width: 390, height: 844 }],
        ['desktop', { width: 1280, height: 900 }],
      ]) {
        const ctx = await newContext({ viewport });
        const { page, log } = await watchedPage(ctx);
        await page.goto(url(MOVIE_PATH), { waitUntil: 'networkidle' });
        const file = path.join(OUT_DIR, `title-page-${name}-${viewport.width}x${viewport.height}.png`);
        await page.screenshot({ path: file, fullPage: true });
        console.log(`# screenshot: ${file}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `the ${name} layout scrolls sideways by ${overflow}px`);
        assertClean(log, `${name} screenshot`);
      }
    });
  });
}
