// `zerocast --headless` stops every process it started, on SIGINT as on
// SIGTERM, and exits 0.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { readdirSync, readFileSync } from 'node:fs';
import { run, startServer, waitStreaming, waitFor, check } from './lib.mjs';

function descendants(root) {
  const parent = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      // The command may hold spaces and parentheses: parse after the last ')'.
      const fields = st.slice(st.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(fields[1]));
    } catch (e) { /* exited meanwhile */ }
  }
  const out = [];
  const walk = (pid) => {
    for (const [child, ppid] of parent) if (ppid === pid) { out.push(child); walk(child); }
  };
  walk(root);
  return out;
}

function alive(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch (e) {
    return false;
  }
}

function comm(pid) {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch (e) { return '?'; }
}

run('headless-cleanup', async () => {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    const server = await startServer(['--headless', '320x240', '--listen', '127.0.0.1:0']);
    await waitStreaming(server);
    const kids = descendants(server.pid);
    const names = kids.map(comm);
    console.log(`children: ${names.join(' ')}`);
    for (const want of ['pipewire', 'wireplumber', 'mutter']) {
      check(names.some((n) => n.startsWith(want)), `--headless started ${want}`);
    }
    server.proc.kill(signal);
    const exit = await waitFor(`zerocast to exit on ${signal}`, () => server.exited(), 30000);
    check(exit.code === 0, `${signal}: exit code ${exit.code}`);
    const left = await waitFor('the children to be gone', () => {
      const l = kids.filter(alive);
      return l.length === 0 ? [] : null;
    }, 10000).catch(() => kids.filter(alive));
    check(left.length === 0, `${signal}: no process left (${left.map(comm).join(' ')})`);
  }
});
