// The publish benchmark (run by meson, see BENCHMARKS.md section 7):
//  1. glass-to-glass latency, side by side in one run: a Chromium viewer
//     through Janus (zerocast --publish rtp:// -> Janus streaming
//     mountpoint -> WebRTC) and the direct WebSocket viewer, both reading
//     zc-test-producer's painted wall-clock stamp off the picture the same
//     way (every animation frame), p50 / p99;
//  2. zerocast's CPU with 0, 1 and 3 publish targets (RTP to Janus, RTSP
//     RECORD to gst-rtsp-server, SRT to srtsrc; the receivers decode
//     nothing);
//  3. Janus's CPU with 1, 10 and 50 WebRTC viewers (PeerConnections in
//     headless Chromium pages, 10 a page) on one mountpoint.
// Runs under tests/publish/netns-run.sh and zc-run-session. Prints a
// markdown report on stdout.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { execFileSync, spawnSync } from 'node:child_process';
import { run, startServer, waitStreaming, launchBrowser, openViewer, waitFor,
  skip, fail } from '../../tests/e2e/lib.mjs';
import { freeUdpPair, freeTcpPort, startChild, tool, metricsByTarget } from '../../tests/publish/publish-lib.mjs';
import { needJanus, startJanus, startPageServer, viewerState } from '../../tests/publish/janus-lib.mjs';

const SECONDS = Number(process.env.ZC_BENCH_SECONDS || 10);
const FPS = 30;
const report = [];

function cpuTicks(pid) {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

async function measureCpu(pids, seconds) {
  const t0 = pids.map(cpuTicks), w0 = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const wall = (Date.now() - w0) / 1000;
  return pids.map((p, i) => (cpuTicks(p) - t0[i]) / 100 / wall * 100);
}

const pct = (a, p) => {
  if (!a.length) return NaN;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))];
};

// The direct viewer: zerocast's own page, its canvas read like the video.
async function stampDirect(page) {
  await page.evaluate(() => {
    window.stampLat = [];
    const c = document.getElementById('screen');
    const g = c.getContext('2d', { willReadFrequently: true });
    const read = () => {
      const d = g.getImageData(16, 24, 16 * 20, 1).data;
      let v = 0;
      for (let b = 0; b < 20; b++) {
        const i = (16 * b + 8) * 4;
        v = (v << 1) | ((d[i] + d[i + 1] + d[i + 2]) / 3 > 128 ? 1 : 0);
      }
      return v;
    };
    let last = -1;
    const poll = () => {
      if (c.width > 352) {
        const st = read();
        if (st !== last) { last = st; window.stampLat.push((((Date.now() & 0xfffff) - st) + 0x100000) % 0x100000); }
      }
      requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
  });
}

async function openJanusPage(browser, pages, janus, n, stamp) {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.log('[page error] ' + e.message));
  await page.goto(`${pages.url}?janus=${encodeURIComponent(janus.url)}&id=1&n=${n}${stamp ? '&stamp=1' : ''}`);
  return page;
}

async function framesPer(page) {
  const s = await viewerState(page);
  if (s.error) fail(s.error);
  return s.framesPer;
}

const row = (line) => { report.push(line); if (line.startsWith('|')) console.log('# ' + line); };

run('bench-publish', async () => {
  if (!process.env.ZC_SESSION_PIDS) skip('run me under zc-run-session');
  needJanus();
  const janusVersion = spawnSync('/usr/bin/janus', ['--version']).stdout.toString().split('\n')[0];
  const chromium = execFileSync('/usr/bin/chromium', ['--version']).toString().trim();
  const gst = execFileSync('gst-inspect-1.0', ['--version']).toString().split('\n')[1];
  report.push(`Machine: ${os.cpus().length} x ${os.cpus()[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
    `${os.type()} ${os.release()}; ${janusVersion}; ${chromium}; ${gst}; ${SECONDS} s per measurement; ` +
    `load average at start ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}.`);

  const port = await freeUdpPair();
  const janus = await startJanus(port);
  const pages = await startPageServer();
  const browser = await launchBrowser();
  const rtp = `rtp://127.0.0.1:${port}`;

  // 1. Latency, both viewers at once on one encode.
  {
    const producer = startChild('producer', tool('tests', 'producer', 'zc-test-producer'),
      ['--size', '1280x720', '--fps', String(FPS), '--stamp'], { quiet: true });
    const node = (await producer.waitLine(/READY (\d+)/))[1];
    const server = await startServer(['--node-id', node, '--listen', '127.0.0.1:0',
      '--encoder', 'x264enc', '--fps', String(FPS), '--bitrate', '4000', '--publish', rtp]);
    await waitStreaming(server);
    // A browser each: a page in the background gets few animation frames.
    const direct = await openViewer(await launchBrowser(), server.url);
    const viaJanus = await openJanusPage(await launchBrowser(), pages, janus, 1, true);
    await waitFor('both viewers to play', async () => {
      const s = await viewerState(viaJanus);
      const d = await direct.evaluate(() => window.zerocast && window.zerocast.framesDecoded);
      return s && s.frames > FPS && d > FPS;
    }, 30000);
    await stampDirect(direct);
    await viaJanus.evaluate(() => { window.viewer.latencies.length = 0; });
    await direct.evaluate(() => { window.zerocast.latenciesMs.length = 0; window.zerocast.latenciesSameClockMs.length = 0; });
    const [zcCpu, janusCpu] = await measureCpu([server.pid, janus.proc.pid], SECONDS);
    const d = (await direct.evaluate(() => window.stampLat)).filter((x) => x < 5000);
    const j = (await viaJanus.evaluate(() => window.viewer.latencies)).filter((x) => x < 5000);
    const own = await direct.evaluate(() => ({ p50: window.zerocast.percentile(50, true), p99: window.zerocast.percentile(99, true) }));
    report.push('', '### Glass-to-glass latency, one run, both viewers on one encode (1280x720, 30 fps, x264enc 4 Mbit/s)', '',
      'Stamp painted by zc-test-producer at capture (wall clock, ms), read off the picture by the page every animation frame.', '',
      '| viewer | samples | p50 ms | p99 ms |', '|---|---|---|---|',
      `| direct WebSocket (zerocast's viewer) | ${d.length} | ${pct(d, 50)} | ${pct(d, 99)} |`,
      `| through Janus (WebRTC, janus.js) | ${j.length} | ${pct(j, 50)} | ${pct(j, 99)} |`, '',
      `For reference, the direct viewer's own capture-pts measure (decoded, not yet shown): p50 ${own.p50?.toFixed?.(1)} ms, p99 ${own.p99?.toFixed?.(1)} ms. ` +
      `CPU meanwhile: zerocast ${zcCpu.toFixed(1)} %, Janus ${janusCpu.toFixed(1)} %.`);
    await direct.close();
    await viaJanus.close();
    await server.stop();
    await producer.kill();
  }

  // 2. zerocast's CPU with 0, 1 and 3 targets (no viewer).
  {
    process.env.ZC_RECEIVER_NO_DECODE = '1';
    const rtspPort = await freeTcpPort(), srtPort = await freeTcpPort();
    const rtspRx = startChild('rtsp-rx', tool('tests', 'publish', 'zc-publish-receiver'), ['rtsp', String(rtspPort), '/live'], { quiet: true });
    const srtRx = startChild('srt-rx', tool('tests', 'publish', 'zc-publish-receiver'), ['srt', String(srtPort)], { quiet: true });
    await rtspRx.waitLine(/READY/);
    await srtRx.waitLine(/READY/);
    const sets = [[], [rtp], [rtp, `rtsp://127.0.0.1:${rtspPort}/live`, `srt://127.0.0.1:${srtPort}`]];
    report.push('', '### zerocast CPU with 0, 1 and 3 publish targets (test pattern 1280x720, moving, 30 fps, x264enc 4 Mbit/s, no WebSocket viewer)', '',
      '| targets | zerocast CPU % | frames encoded/s | CPU ms per encoded frame | frames sent per target/s | dropped |', '|---|---|---|---|---|---|');
    for (const targets of sets) {
      const server = await startServer(['--test-pattern', '1280x720', '--listen', '127.0.0.1:0',
        '--encoder', 'x264enc', '--fps', String(FPS), '--bitrate', '4000', ...targets.flatMap((t) => ['--publish', t])]);
      await waitStreaming(server);
      await waitFor('every target up', async () => {
        const m = await metricsByTarget(server);
        return targets.every((t) => m.zerocast_publish_up?.[t] === 1);
      }, 30000);
      const before = await metricsByTarget(server);
      const [cpu] = await measureCpu([server.pid], SECONDS);
      const after = await metricsByTarget(server);
      const fps = (after.zerocast_frames_encoded_total[''] - before.zerocast_frames_encoded_total['']) / SECONDS;
      const sent = targets.map((t) => ((after.zerocast_publish_frames_sent_total[t] - before.zerocast_publish_frames_sent_total[t]) / SECONDS).toFixed(1));
      const dropped = targets.map((t) => after.zerocast_publish_frames_dropped_total[t] - before.zerocast_publish_frames_dropped_total[t]);
      row(`| ${targets.length ? targets.map((t) => t.split(':')[0]).join(' + ') : 'none'} | ${cpu.toFixed(1)} | ${fps.toFixed(1)} | ${(cpu * 10 / fps).toFixed(2)} | ${sent.join(' / ') || '-'} | ${dropped.join(' / ') || '-'} |`);
      await server.stop();
    }
    await rtspRx.kill();
    await srtRx.kill();
    delete process.env.ZC_RECEIVER_NO_DECODE;
  }

  // 3. Janus's CPU with 1, 10 and 50 viewers on one mountpoint.
  {
    const server = await startServer(['--test-pattern', '640x360', '--listen', '127.0.0.1:0',
      '--encoder', 'x264enc', '--fps', String(FPS), '--bitrate', '1000', '--publish', rtp]);
    await waitStreaming(server);
    report.push('', '### Janus CPU with 1, 10 and 50 WebRTC viewers (test pattern 640x360, 30 fps, 1 Mbit/s; viewers are PeerConnections in headless Chromium, 10 a page, all on this 2-core machine)', '',
      '| viewers | Janus CPU % | zerocast CPU % | viewers receiving | frames/s per viewer (mean, min) |', '|---|---|---|---|---|');
    for (const n of [1, 10, 50]) {
      const open = [];
      for (let left = n; left > 0; left -= 10) open.push(await openJanusPage(browser, pages, janus, Math.min(10, left), false));
      // As many as this machine can: the table says how many played.
      try {
        await waitFor(`${n} viewers to play`, async () => {
          const f = (await Promise.all(open.map(framesPer))).flat();
          return f.length === n && f.every((x) => x > 10);
        }, 60000);
      } catch (e) {
        console.log(`# not every one of ${n} viewers plays: ${e.message}`);
      }
      const f0 = (await Promise.all(open.map(framesPer))).flat();
      const [jc, zc] = await measureCpu([janus.proc.pid, server.pid], SECONDS);
      const f1 = (await Promise.all(open.map(framesPer))).flat();
      const rates = f1.map((x, i) => (x - f0[i]) / SECONDS);
      row(`| ${n} | ${jc.toFixed(1)} | ${zc.toFixed(1)} | ${rates.filter((r) => r > 0).length} | ${(rates.reduce((a, b) => a + b, 0) / n).toFixed(1)}, ${Math.min(...rates).toFixed(1)} |`);
      for (const p of open) await p.close();
    }
    await server.stop();
  }
  await janus.stop();
  pages.close();
  console.log('\n' + report.join('\n') + '\n');
});
