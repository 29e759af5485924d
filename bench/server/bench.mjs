// zerocast server benchmark (run under zc-run-session, see RESULTS.md):
//  1. glass-to-glass latency, from the capture timestamp of a PipeWire
//     frame (zc-test-producer) to the frame decoded in headless chromium,
//     p50 / p99, at 720p and 1080p with x264enc, zerocopy and shm modes;
//  2. the server's CPU with 1, 10 and 50 viewers on one encode.
// Prints a markdown report on stdout.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { run, startServer, waitStreaming, launchBrowser, openViewer,
  waitDecoded, waitFor, rawWebSocket, metrics, buildRoot, skip } from '../../tests/e2e/lib.mjs';

const SECONDS = Number(process.env.ZC_BENCH_SECONDS || 10);
const FPS = 30;
const report = [];

function cpuTicks(pid) {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);       // utime + stime
}

async function measureCpu(pid, seconds) {
  const hz = 100;                              // USER_HZ on Linux
  const t0 = cpuTicks(pid), w0 = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return (cpuTicks(pid) - t0) / hz / ((Date.now() - w0) / 1000) * 100;
}

async function startProducer(size) {
  const p = spawn(join(buildRoot(), 'tests', 'producer', 'zc-test-producer'),
    ['--size', size, '--fps', String(FPS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  const m = await waitFor('the producer', () => /READY (\d+)/.exec(out), 15000);
  p.stdin.write('move\n');
  return { proc: p, node: m[1], stop: () => p.kill('SIGTERM') };
}

async function latencyRun(browser, size, mode) {
  const producer = await startProducer(size);
  let server;
  try {
    server = await startServer(['--node-id', producer.node, '--listen', '127.0.0.1:0',
      '--video-mode', mode, '--encoder', 'x264enc', '--fps', String(FPS),
      '--bitrate', size.startsWith('1920') ? '8000' : '4000']);
    await waitStreaming(server);
    const streamed = /streaming with video mode (\S+)/.exec(server.output())[1];
    const page = await openViewer(browser, server.url);
    await waitDecoded(page, FPS);               // warm-up: a second of frames
    await page.evaluate(() => {
      window.zerocast.latenciesMs.length = 0;
      window.zerocast.latenciesSameClockMs.length = 0;
    });
    const cpu = await measureCpu(server.pid, SECONDS);
    const r = await page.evaluate(() => ({
      n: window.zerocast.latenciesMs.length,
      p50: window.zerocast.percentile(50, true), p99: window.zerocast.percentile(99, true),
      p50mapped: window.zerocast.percentile(50), offsetMs: window.zerocast.clockOffsetUs / 1000,
      decoded: window.zerocast.framesDecoded, errors: window.zerocast.decoderErrors,
    }));
    const m = await metrics(server);
    const enc = m.zerocast_encode_latency_seconds_total / m.zerocast_frames_encoded_total * 1000;
    await page.close();
    return { size, mode: streamed, ...r, cpu, enc };
  } finally {
    if (server) await server.stop();
    producer.stop();
  }
}

// mode 'test-pattern': a busy moving videotestsrc instead of PipeWire, for
// a realistic bitrate per viewer.
async function fanoutRun(size, mode, viewers) {
  const producer = mode === 'test-pattern' ? null : await startProducer(size);
  let server;
  const clients = [];
  try {
    server = await startServer(producer ?
      ['--node-id', producer.node, '--listen', '127.0.0.1:0', '--video-mode', mode,
        '--encoder', 'x264enc', '--fps', String(FPS)] :
      ['--test-pattern', size, '--listen', '127.0.0.1:0', '--encoder', 'x264enc',
        '--fps', String(FPS), '--bitrate', '4000']);
    await waitStreaming(server);
    for (let i = 0; i < viewers; i++) {
      clients.push(await rawWebSocket(server.host, server.port, '/ws'));
    }
    await waitFor('every viewer to get frames', () =>
      clients.every((c) => c.messages.some((b) => b[0] === 0x01)), 20000);
    for (const c of clients) c.messages.length = 0;   // keep memory flat
    const drain = setInterval(() => { for (const c of clients) c.messages.length = 0; }, 200);
    const before = await metrics(server);
    const cpu = await measureCpu(server.pid, SECONDS);
    const after = await metrics(server);
    clearInterval(drain);
    const streamed = /streaming with video mode (\S+)/.exec(server.output())[1];
    return {
      viewers, mode: streamed, cpu,
      fps: (after.zerocast_frames_encoded_total - before.zerocast_frames_encoded_total) / SECONDS,
      sentPerViewer: (after.zerocast_frames_sent_total - before.zerocast_frames_sent_total) / viewers / SECONDS,
      dropped: after.zerocast_frames_dropped_total - before.zerocast_frames_dropped_total,
      mbps: (after.zerocast_bytes_out_total - before.zerocast_bytes_out_total) * 8 / 1e6 / SECONDS,
    };
  } finally {
    for (const c of clients) c.destroy();
    if (server) await server.stop();
    if (producer) producer.stop();
  }
}

run('bench-server', async () => {
  if (!process.env.ZC_SESSION_PIDS) skip('run me under zc-run-session');
  const browser = await launchBrowser();
  report.push(`Machine: ${os.cpus().length} x ${os.cpus()[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
    `${os.type()} ${os.release()}; ${SECONDS} s per measurement, source zc-test-producer (PipeWire, MemFd BGRx, ${FPS} fps, moving).`);
  report.push('', '### Glass-to-glass latency (capture timestamp -> decoded in headless chromium)', '',
    '| size | video mode | frames | p50 ms | p99 ms | capture->encoded ms (mean) | server CPU % | decoder errors | p50 ms via ping/pong clock mapping (offset ms) |',
    '|---|---|---|---|---|---|---|---|---|');
  for (const size of ['1280x720', '1920x1080']) {
    for (const mode of ['zerocopy', 'shm']) {
      try {
        const r = await latencyRun(browser, size, mode);
        report.push(`| ${size} | ${r.mode} | ${r.n} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.enc.toFixed(1)} | ${r.cpu.toFixed(0)} | ${r.errors} | ${r.p50mapped.toFixed(1)} (${r.offsetMs.toFixed(1)}) |`);
      } catch (e) {
        report.push(`| ${size} | ${mode} | failed: ${String(e.message).split('\n')[0]} | | | | | |`);
      }
      console.log(report[report.length - 1]);
    }
  }
  report.push('', '### Server CPU with N viewers on one encode (1280x720, x264enc)', '',
    '| video mode | viewers | server CPU % | encoded fps | frames sent per viewer per s | frames dropped | Mbit/s out |',
    '|---|---|---|---|---|---|---|');
  for (const mode of ['zerocopy', 'shm', 'test-pattern']) {
    for (const n of [1, 10, 50]) {
      try {
        const r = await fanoutRun('1280x720', mode, n);
        report.push(`| ${r.mode} | ${n} | ${r.cpu.toFixed(1)} | ${r.fps.toFixed(1)} | ${r.sentPerViewer.toFixed(1)} | ${r.dropped} | ${r.mbps.toFixed(1)} |`);
      } catch (e) {
        report.push(`| ${mode} | ${n} | failed: ${String(e.message).split('\n')[0]} | | | | |`);
      }
      console.log(report[report.length - 1]);
    }
  }
  console.log('\n===== REPORT =====\n' + report.join('\n'));
});
