// End-to-end test of the watch page in a real browser (headless Chromium via playwright-core):
// a clip made by ffmpeg is added with `marquee media add`; the test signs up, opens the watch
// page, plays, sees currentTime advance, seeks to 20 s, leaves, comes back and is resumed there,
// and uses the keyboard controls. A second film, packaged into HLS by `marquee media package`,
// plays and seeks through Chromium's native HLS.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CHROMIUM, CHROMIUM_ARGS, IN_CI, MARQUEE_BIN, assertClean, freePort, startServer, stopServer, watchedPage,
} from './lib.mjs';

const STEP_TIMEOUT = 15_000;

function hasFfmpeg() {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let chromium = null;
let missing = null;
if (!existsSync(CHROMIUM)) missing = `Chromium not found at ${CHROMIUM}`;
else if (!hasFfmpeg()) missing = 'ffmpeg is not installed (apt-get install -y ffmpeg)';
else {
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    missing = `playwright-core is not installed (run \`npm ci\` in tests/browser): ${e.message}`;
  }
}

if (missing && IN_CI) {
  test('watch page prerequisites', () => assert.fail(`${missing} (CI=true, so this is a failure)`));
} else if (missing) {
  console.log(`# SKIP watch page tests: ${missing}`);
  test('watch page in headless Chromium', { skip: missing }, () => {});
} else {
  defineTests();
}

function marquee(dataDir, args) {
  return execFileSync(MARQUEE_BIN, ['--data-dir', dataDir, ...args], { encoding: 'utf8' });
}

const currentTime = (page) => page.$eval('#player', (v) => v.currentTime);

// Plays (muted) until currentTime advances, seeks to 20 s and waits for playback to go on from
// there. Seeking needs byte ranges (direct play) or segments (HLS), else the player stays near 0.
async function playAndSeekTo20(page, what) {
  await page.$eval('#player', (v) => { v.muted = true; return v.play(); });
  await page.waitForFunction(() => document.getElementById('player').currentTime > 1, null, { timeout: STEP_TIMEOUT });
  await page.$eval('#player', (v) => new Promise((resolve) => {
    v.addEventListener('seeked', resolve, { once: true });
    v.currentTime = 20;
  }));
  const seeked = await currentTime(page);
  assert.ok(seeked >= 19.5 && seeked < 25, `after seeking to 20 s ${what} is at ${seeked}`);
  await page.waitForFunction(() => document.getElementById('player').currentTime > 20.5, null, { timeout: STEP_TIMEOUT });
}

function defineTests() {
  describe('watch page in headless Chromium', () => {
    let server;
    let browser;
    let dataDir;

    before(async () => {
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'marquee-watch-'));
      const clip = path.join(dataDir, 'clip.mp4');
      execFileSync('ffmpeg', [
        '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25',
        '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '40',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-pix_fmt', 'yuv420p',
        '-c:a', 'aac', '-movflags', '+faststart', clip,
      ]);
      const srt = path.join(dataDir, 'clip.en.srt');
      writeFileSync(srt, '1\n00:00:01,000 --> 00:00:30,000\nA subtitle on screen.\n');
      marquee(dataDir, ['movie', 'add', '--title', 'Test Pattern', '--slug', 'test-pattern', '--year', '2024']);
      const added = marquee(dataDir, ['media', 'add', 'test-pattern', clip, '--subtitles', srt, '--lang', 'en']);
      assert.match(added, /Added clip\.mp4/);
      // A second film, packaged into HLS (its top rendition, a remux) before the server starts.
      marquee(dataDir, ['movie', 'add', '--title', 'Test Ladder', '--slug', 'test-ladder', '--year', '2024']);
      marquee(dataDir, ['media', 'add', 'test-ladder', clip]);
      marquee(dataDir, ['media', 'package', 'test-ladder', '--top-only']);
      server = await startServer(dataDir, await freePort(), []);
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        // Let the test start playback without a user gesture.
        args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'],
      });
    });

    after(async () => {
      await browser?.close().catch(() => {});
      await stopServer(server?.proc);
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    test('plays, seeks, resumes after a reload, and answers the keyboard', async () => {
      const context = await browser.newContext();
      const { page, log } = await watchedPage(context);
      // The first account (the admin) signs up; any signed-in viewer has a saved position.
      await page.goto(`${server.baseUrl}/signup`);
      await page.fill('#username', 'viewer');
      await page.fill('#display_name', 'Viewer');
      await page.fill('#password', 'a long enough password');
      await Promise.all([page.waitForNavigation(), page.click('form[action="/signup"] button[type="submit"]')]);

      await page.goto(`${server.baseUrl}/movies/test-pattern`);
      await Promise.all([page.waitForNavigation(), page.click('a[href="/watch/test-pattern"]')]);
      await page.waitForFunction(() => document.getElementById('player').readyState >= 1, null, { timeout: STEP_TIMEOUT });
      const tracks = await page.$eval('#player', (v) => Array.from(v.textTracks).map((t) => `${t.language}:${t.mode}`));
      assert.deepEqual(tracks, ['en:showing'], 'the English subtitles are on by default');

      await playAndSeekTo20(page, 'the player');

      // Pausing reports the position; wait for the server to have it.
      const saved = page.waitForResponse((r) => r.url().endsWith('/progress') && r.request().method() === 'PUT');
      await page.$eval('#player', (v) => v.pause());
      const res = await saved;
      assert.equal(res.status(), 200);
      const body = await res.json();
      assert.ok(body.position_ms >= 20_000, `saved ${body.position_ms} ms`);

      // Leave and come back: the page starts where the viewer was.
      await page.reload();
      await page.waitForFunction(
        () => { const v = document.getElementById('player'); return v.readyState >= 1 && v.currentTime > 0; },
        null, { timeout: STEP_TIMEOUT });
      const resumed = await currentTime(page);
      assert.ok(Math.abs(resumed - body.position_ms / 1000) < 1, `resumed at ${resumed}, saved ${body.position_ms} ms`);

      // Keyboard: → moves 5 s on, J 10 s back, K plays.
      await page.locator('body').focus();
      // Each step waits for its seek to finish (not only for currentTime, which moves at once):
      // a key pressed while the player is still seeking can be overtaken by the seek.
      await page.keyboard.press('ArrowRight');
      await page.waitForFunction((t) => {
        const v = document.getElementById('player');
        return v.currentTime >= t + 4.5 && !v.seeking && v.readyState >= 2;
      }, resumed, { timeout: STEP_TIMEOUT });
      const moved = await currentTime(page);
      await page.keyboard.press('j');
      await page.waitForFunction((t) => {
        const v = document.getElementById('player');
        return v.currentTime <= t - 9.5 && !v.seeking && v.readyState >= 2;
      }, moved, { timeout: STEP_TIMEOUT });
      await page.$eval('#player', (v) => { v.muted = true; });
      await page.keyboard.press('k');
      await page.waitForFunction(() => !document.getElementById('player').paused, null, { timeout: STEP_TIMEOUT });

      // The home page now offers to continue.
      await page.goto(`${server.baseUrl}/`);
      assert.equal(await page.locator('#continue-heading').count(), 1);
      assertClean(log, 'watch page');
      await context.close();
    });

    test('a packaged film plays through native HLS and seeks', async () => {
      const context = await browser.newContext();
      const { page, log } = await watchedPage(context);
      await page.goto(`${server.baseUrl}/watch/test-ladder`);
      const canHls = await page.$eval('#player', (v) => v.canPlayType('application/vnd.apple.mpegurl'));
      assert.notEqual(canHls, '', 'this Chromium plays HLS natively');
      await page.waitForFunction(() => document.getElementById('player').readyState >= 1, null, { timeout: STEP_TIMEOUT });
      const source = await page.$eval('#player', (v) => v.currentSrc);
      assert.match(source, /\/media\/test-ladder\/hls\/master\.m3u8$/, `the player chose ${source}`);

      await playAndSeekTo20(page, 'the HLS player');
      assertClean(log, 'HLS watch page');
      await context.close();
    });
  });
}
