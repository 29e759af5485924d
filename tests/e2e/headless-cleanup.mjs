// `zerocast --headless` stops every process it started, on SIGINT as on
// SIGTERM, and exits 0: bare Mutter (SIGINT), and GNOME Shell (SIGTERM),
// whose D-Bus activated helpers (the terminal, at-spi, ...) are not its
// children: every process of the session's runtime directory must go, and
// nothing may stay mounted there.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { run, startServer, waitStreaming, waitFor, check, descendants, alive, comm }
  from './lib.mjs';

// Processes whose environment names @dir as XDG_RUNTIME_DIR.
function sessionProcesses(dir) {
  const want = `XDG_RUNTIME_DIR=${dir}`;
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const env = readFileSync(`/proc/${d}/environ`, 'utf8').split('\0');
      if (env.includes(want) && alive(Number(d))) out.push(Number(d));
    } catch (e) { /* exited, or not ours */ }
  }
  return out;
}

function runtimeDirOf(pid) {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const e = env.find((v) => v.startsWith('XDG_RUNTIME_DIR='));
    return e ? e.slice('XDG_RUNTIME_DIR='.length) : null;
  } catch (e) {
    return null;
  }
}

function mountsUnder(dir) {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4]).filter((m) => m && (m === dir || m.startsWith(dir + '/')));
}

run('headless-cleanup', async () => {
  const runs = [
    { signal: 'SIGINT', desktop: 'mutter', want: ['pipewire', 'wireplumber', 'mutter'] },
    { signal: 'SIGTERM', desktop: 'shell', want: ['pipewire', 'wireplumber', 'gnome-shell'] },
  ];
  for (const { signal, desktop, want: wanted } of runs) {
    const server = await startServer(['--headless', '640x480', '--desktop', desktop,
      '--listen', '127.0.0.1:0'], { timeoutMs: 120000 });
    await waitStreaming(server);
    const kids = descendants(server.pid);
    const names = kids.map(comm);
    console.log(`children: ${names.join(' ')}`);
    for (const want of wanted) {
      check(names.some((n) => n.startsWith(want)), `--desktop ${desktop} started ${want}`);
    }
    const pw = kids.find((k) => comm(k) === 'pipewire');
    const dir = runtimeDirOf(pw);
    check(dir && dir.startsWith('/'), `the session's runtime directory is ${dir}`);
    const session = sessionProcesses(dir);
    console.log(`session processes: ${session.map(comm).join(' ')}`);
    if (desktop === 'shell') {
      check(session.map(comm).some((n) => n.startsWith('gnome-terminal')),
        'the shell desktop has a terminal');
    }
    server.proc.kill(signal);
    const exit = await waitFor(`zerocast to exit on ${signal}`, () => server.exited(), 30000);
    check(exit.code === 0, `${signal}: exit code ${exit.code}`);
    const left = await waitFor('the children to be gone', () => {
      const l = kids.filter(alive);
      return l.length === 0 ? [] : null;
    }, 10000).catch(() => kids.filter(alive));
    check(left.length === 0, `${signal}: no process left (${left.map(comm).join(' ')})`);
    const stray = sessionProcesses(dir);
    check(stray.length === 0,
      `${desktop}: no process of the session left (${stray.map(comm).join(' ')})`);
    check(mountsUnder(dir).length === 0, `${desktop}: nothing mounted in ${dir}`);
    check(!existsSync(dir), `${desktop}: ${dir} is removed`);
  }
});
