// Marquee's watch page: the browser's own <video>, enhanced. Without this script the film still
// plays (the direct file, with native controls); with it the player uses native HLS where the
// browser has it, resumes at the saved position, reports progress, and answers the keyboard.
(() => {
  'use strict';

  const REPORT_EVERY_MS = 10000;

  document.addEventListener('DOMContentLoaded', () => {
    const video = document.getElementById('player');
    if (!video) return;
    const d = video.dataset;
    const resumeAt = parseFloat(d.resume || '0') || 0;

    // Native HLS (Safari, Chromium on this platform, smart TVs) gets the adaptive ladder; every
    // other browser keeps the direct file, which seeks by byte ranges.
    if (d.hls && video.canPlayType('application/vnd.apple.mpegurl') !== '') {
      video.src = d.hls;
    }
    video.dataset.source = video.currentSrc || video.src;

    let resumed = resumeAt <= 0;
    const resume = () => {
      if (resumed) return;
      resumed = true;
      if (resumeAt < (video.duration || Infinity)) video.currentTime = resumeAt;
    };
    video.addEventListener('loadedmetadata', resume);
    if (video.readyState >= 1) resume();

    // Progress reports: signed-in viewers only (the page gives the address).
    const meta = document.querySelector('meta[name="csrf-token"]');
    let lastSent = -1;
    function report() {
      if (!d.progress || !meta || !resumed) return;
      const position = Math.floor(video.currentTime * 1000);
      if (position === lastSent) return;
      lastSent = position;
      // keepalive lets the last report of a closing tab still reach the server.
      fetch(d.progress, {
        method: 'PUT',
        credentials: 'same-origin',
        keepalive: true,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': meta.content },
        body: JSON.stringify({ position_ms: position }),
      }).catch(() => { lastSent = -1; });
    }
    let timer = null;
    video.addEventListener('play', () => {
      clearInterval(timer);
      timer = setInterval(report, REPORT_EVERY_MS);
    });
    video.addEventListener('pause', () => { clearInterval(timer); report(); });
    video.addEventListener('ended', () => { clearInterval(timer); report(); });
    video.addEventListener('seeked', () => { if (video.paused) report(); });
    window.addEventListener('pagehide', report);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') report();
    });

    // Keyboard: the usual player keys, unless the viewer is typing somewhere.
    const seekBy = (s) => {
      const end = Number.isFinite(video.duration) ? video.duration : Infinity;
      video.currentTime = Math.min(Math.max(video.currentTime + s, 0), end);
    };
    document.addEventListener('keydown', (e) => {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      const t = e.target;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName))) return;
      switch (e.key) {
        case ' ': case 'k': case 'K':
          if (video.paused) video.play(); else video.pause();
          break;
        case 'ArrowLeft': seekBy(-5); break;
        case 'ArrowRight': seekBy(5); break;
        case 'j': case 'J': seekBy(-10); break;
        case 'l': case 'L': seekBy(10); break;
        case 'm': case 'M': video.muted = !video.muted; break;
        case 'c': case 'C': {
          const tracks = Array.from(video.textTracks);
          const on = tracks.some((tr) => tr.mode === 'showing');
          tracks.forEach((tr, i) => { tr.mode = !on && i === 0 ? 'showing' : 'disabled'; });
          break;
        }
        case 'f': case 'F':
          if (document.fullscreenElement) document.exitFullscreen();
          else if (video.requestFullscreen) video.requestFullscreen();
          break;
        default: return;
      }
      e.preventDefault();
    });
  });
})();
