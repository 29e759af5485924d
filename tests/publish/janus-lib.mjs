// Janus for the publish tests and benchmarks: a configuration of ours
// (only the streaming plugin and the HTTP transport, one RTP H.264
// mountpoint with videobufferkf, ICE on 127.0.0.2 only), the janus binary
// Debian ships, and a page server for janus.js viewers.
// Needs the network namespace of netns-run.sh (Janus offers no loopback
// candidates).
// SPDX-License-Identifier: LGPL-2.1-or-later
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { skip, waitFor, fail } from '../e2e/lib.mjs';
import { startChild, freeTcpPort } from './publish-lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const JANUS_JS = '/usr/share/javascript/janus-gateway/janus.js';
const ADAPTER_JS = '/usr/share/javascript/webrtc-adapter/adapter.js';

function debianFolders() {
  // Where Debian put the plugins (multiarch): from its own janus.jcfg.
  const conf = readFileSync('/etc/janus/janus.jcfg', 'utf8');
  const get = (k) => new RegExp(`${k}\\s*=\\s*"([^"]+)"`).exec(conf)?.[1];
  return { plugins: get('plugins_folder'), transports: get('transports_folder'),
    events: get('events_folder'), loggers: get('loggers_folder') };
}

const others = (folder, keep) => (existsSync(folder) ? readdirSync(folder) : [])
  .filter((f) => /\.so$/.test(f) && f !== keep).join(',');

export function needJanus() {
  for (const f of ['/usr/bin/janus', '/etc/janus/janus.jcfg', JANUS_JS, ADAPTER_JS]) {
    if (!existsSync(f)) skip(`${f} is missing: apt-get install janus libjs-janus-gateway libjs-webrtc-adapter`);
  }
  if (process.env.ZC_IN_NETNS !== '1') skip('run me under tests/publish/netns-run.sh');
}

// Starts Janus with one mountpoint (id 1) taking RTP H.264 on @videoPort
// (RTCP on videoPort + 1); resolves once its HTTP API answers.
export async function startJanus(videoPort) {
  const dir = mkdtempSync(join(tmpdir(), 'zc-janus-'));
  const f = debianFolders();
  const httpPort = await freeTcpPort();
  writeFileSync(join(dir, 'janus.jcfg'), `general: {
  configs_folder = "${dir}"
  plugins_folder = "${f.plugins}"
  transports_folder = "${f.transports}"
  events_folder = "${f.events}"
  loggers_folder = "${f.loggers}"
  debug_level = 4
}
media: {
  ipv6 = false
  rtp_port_range = "41000-41999"
}
nat: {
  ice_enforce_list = "127.0.0.2"
}
plugins: { disable = "${others(f.plugins, 'libjanus_streaming.so')}" }
transports: { disable = "${others(f.transports, 'libjanus_http.so')}" }
loggers: { disable = "${others(f.loggers, '')}" }
events: { broadcast = false }
`);
  writeFileSync(join(dir, 'janus.transport.http.jcfg'), `general: {
  json = "indented"
  base_path = "/janus"
  http = true
  port = ${httpPort}
  ip = "127.0.0.1"
  https = false
}
admin: { admin_http = false }
`);
  writeFileSync(join(dir, 'janus.plugin.streaming.jcfg'), `general: {
}
zerocast: {
  type = "rtp"
  id = 1
  description = "zerocast desktop"
  audio = false
  video = true
  videoport = ${videoPort}
  videortcpport = ${videoPort + 1}
  videopt = 96
  videortpmap = "H264/90000"
  videofmtp = "profile-level-id=42e01f;packetization-mode=1"
  videobufferkf = true
}
`);
  const janus = startChild('janus', '/usr/bin/janus',
    ['-F', dir, '-C', join(dir, 'janus.jcfg'), '-N', '-L', join(dir, 'janus.log')], { quiet: true });
  janus.dir = dir;
  janus.httpPort = httpPort;
  janus.url = `http://127.0.0.1:${httpPort}/janus`;
  janus.stop = async () => { await janus.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); };
  await waitFor('Janus to answer on its HTTP API', async () => {
    if (janus.exited) fail(`janus exited (${JSON.stringify(janus.exited)}):\n${janus.out}`);
    try {
      const r = await fetch(`${janus.url}/info`);
      return r.ok;
    } catch (e) { return false; }
  }, 20000);
  return janus;
}

// Serves the viewer page, janus.js and adapter.js; resolves to its base URL.
export async function startPageServer() {
  const files = {
    '/': [join(here, 'janus-viewer.html'), 'text/html'],
    '/janus.js': [JANUS_JS, 'text/javascript'],
    '/adapter.js': [ADAPTER_JS, 'text/javascript'],
  };
  const server = http.createServer((req, res) => {
    const f = files[new URL(req.url, 'http://x').pathname];
    if (!f) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': f[1] });
    res.end(readFileSync(f[0]));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

export async function viewerState(page) {
  return page.evaluate(() => window.viewer);
}
