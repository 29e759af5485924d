// zerocast's command line: --help documents every option, bad input exits
// 2 with a message saying what to fix, a missing portal / bus / encoder /
// certificate exits with its own code and message, SIGTERM exits 0, TLS
// serves https.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import { run, check, buildRoot, startServer, waitStreaming, waitFor } from '../e2e/lib.mjs';

function zerocast(args, env = {}) {
  const r = spawnSync(join(buildRoot(), 'server', 'zerocast'), args, {
    env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60000,
  });
  return { code: r.status, out: (r.stdout || '') + (r.stderr || '') };
}

function expectExit(args, code, pattern, env = {}) {
  const r = zerocast(args, env);
  check(r.code === code && pattern.test(r.out),
    `zerocast ${args.join(' ')} ${Object.keys(env).length ? JSON.stringify(env) + ' ' : ''}` +
    `exits ${r.code} (want ${code}) saying ${JSON.stringify(r.out.trim().split('\n').pop())}`);
}

// A private bus with no services at all: no portal can be activated.
async function privateBus(dir) {
  const conf = join(dir, 'bus.conf');
  writeFileSync(conf, `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=${dir}/bus</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/>
<allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`);
  const proc = spawn('dbus-daemon', ['--config-file=' + conf, '--nofork',
    '--print-address=1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let addr = '';
  proc.stdout.on('data', (d) => { addr += d; });
  await waitFor('the private dbus-daemon', () => addr.includes('\n'), 10000);
  return { proc, address: addr.trim() };
}

run('cli', async () => {
  const help = zerocast(['--help']);
  check(help.code === 0, '--help exits 0');
  for (const opt of ['--node-id', '--mutter', '--monitor', '--virtual',
    '--portal', '--headless', '--listen', '--video-mode', '--encoder',
    '--bitrate', '--fps', '--gop', '--token', '--tls-cert', '--tls-key', '--max-viewers',
    'ZEROCAST_VIDEO_MODE', 'HELIX_VIDEO_MODE', 'Exit codes']) {
    check(help.out.includes(opt), `--help documents ${opt}`);
  }

  expectExit(['--bitrate', '5'], 2, /out of range/);
  expectExit(['--encoder', 'h265magic'], 2, /unknown --encoder/);
  expectExit(['--video-mode', 'warp'], 2, /unknown video mode "warp"/);
  expectExit([], 2, /unknown video mode "bogus"/, { ZEROCAST_VIDEO_MODE: 'bogus' });
  expectExit([], 2, /unknown video mode "old"/, { HELIX_VIDEO_MODE: 'old' });
  expectExit(['--node-id', '3', '--mutter'], 2, /choose one source/);
  expectExit(['--headless', '12x'], 2, /WIDTHxHEIGHT/);
  expectExit(['--monitor', 'Meta-0'], 2, /go with --mutter/);
  expectExit(['--node-id', '0'], 2, /above 0/);
  expectExit(['--test-pattern', '64x64', 'extra'], 2, /unexpected argument/);
  expectExit(['--test-pattern', '64x64', '--listen', 'example.com:80'], 2,
    /must be an IP address/);
  expectExit(['--test-pattern', '64x64', '--tls-cert', '/nonexistent.pem'], 2,
    /go together/);
  expectExit(['--test-pattern', '64x64', '--tls-cert', '/nonexistent.pem',
    '--tls-key', '/nonexistent.key'], 5, /TLS certificate/);
  // nvh264enc needs an NVIDIA GPU with NVENC; CI has none.
  if (!spawnSync('gst-inspect-1.0', ['nvh264enc']).status) {
    console.log('# nvh264enc present: skipping the missing-encoder check');
  } else {
    expectExit(['--test-pattern', '64x64', '--encoder', 'nvh264enc'], 4,
      /encoder nvh264enc is not available.*install/);
  }

  const dir = mkdtempSync(join(tmpdir(), 'zc-cli-'));
  try {
    expectExit(['--portal'], 3, /session bus/,
      { DBUS_SESSION_BUS_ADDRESS: `unix:path=${dir}/no-bus` });
    const bus = await privateBus(dir);
    try {
      expectExit(['--portal'], 3, /xdg-desktop-portal is not running/,
        { DBUS_SESSION_BUS_ADDRESS: bus.address });
      expectExit(['--mutter'], 3, /Mutter ScreenCast/,
        { DBUS_SESSION_BUS_ADDRESS: bus.address });
    } finally {
      bus.proc.kill('SIGTERM');
    }

    // TLS with a self-signed certificate.
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048',
      '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout',
      join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
    if (gen.status !== 0) {
      console.log('# no openssl: skipping the TLS check');
    } else {
      const server = await startServer(['--test-pattern', '64x64',
        '--listen', '127.0.0.1:0', '--tls-cert', join(dir, 'cert.pem'),
        '--tls-key', join(dir, 'key.pem')]);
      check(server.url.startsWith('https://'), `TLS URL ${server.url}`);
      const body = await new Promise((resolve, reject) => {
        https.get(server.url, { rejectUnauthorized: false }, (res) => {
          let b = '';
          res.on('data', (d) => { b += d; });
          res.on('end', () => resolve(b));
        }).on('error', reject);
      });
      check(body.includes('viewer.js'), 'the viewer is served over https');
      const exit = await server.stop();
      check(exit.code === 0, `SIGTERM exits 0 (got ${JSON.stringify(exit)})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
