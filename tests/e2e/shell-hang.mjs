// A desktop whose GNOME Shell hangs while starting (once in many starts on
// a loaded machine, GNOME Shell 43 did, ignoring SIGTERM): zerocast says
// what the hung shell is doing, stops it and starts the desktop again,
// and the new one streams. The hang is made real with SIGSTOP on the
// first gnome-shell (at once, and once zerocast has its ScreenCast
// session); ZEROCAST_TEST_SHELL_START_TIMEOUT_S shortens the
// first wait only. Skips without GNOME Shell. About 60 s.
// SPDX-License-Identifier: LGPL-2.1-or-later
import { execFileSync } from 'node:child_process';
import { run, startServer, waitStreaming, waitFor, check, skip, descendants, alive,
  comm } from './lib.mjs';

function installed(program) {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return false;
  }
}

run('shell-hang', async () => {
  if (!installed('gnome-shell') || !installed('gnome-terminal')) {
    skip('GNOME Shell is not installed (gnome-shell, gnome-terminal)');
  }
  // Stopped at once (before its ScreenCast is on the bus: zerocast starts
  // the session once more before it streams), and once zerocast has its
  // ScreenCast session (the shell cannot finish starting before the
  // stream's monitor exists: the desktop is recovered like a lost one).
  for (const when of ['spawned', 'session']) {
    let early = null;
    const starting = startServer(['--headless', '640x480', '--desktop', 'shell',
      '--listen', '127.0.0.1:0'], {
      timeoutMs: 180000, env: { ZEROCAST_TEST_SHELL_START_TIMEOUT_S: '10' },
      onSpawn: (s) => { early = s; },
    });
    // zerocast runs below this process; its first shell is the one to stop.
    const shell = await waitFor('the first gnome-shell',
      () => descendants(process.pid).find((p) => comm(p) === 'gnome-shell'), 60000, 5);
    if (when === 'session') {
      await waitFor('zerocast\'s ScreenCast session',
        () => /zerocast: source: headless GNOME Shell/.test(early.output()), 60000, 5);
      check(!/serving/.test(early.output()), 'the desktop is not ready yet');
    }
    process.kill(shell, 'SIGSTOP');
    console.log(`stopped gnome-shell ${shell} once ${when}`);
    const server = await starting;
    await waitFor('zerocast to report the hung shell',
      () => /gnome-shell hung while starting \(not ready after \d+ s: pid \d+ state T/
        .test(server.output()), 120000);
    const again = when === 'spawned' ? /starting the session once more/ : /recovered in/;
    await waitFor('zerocast to start the desktop again', () => again.test(server.output()),
      150000);
    await waitStreaming(server, 60000);
    check(!alive(shell), `${when}: the hung shell ${shell} is gone`);
    const shells = descendants(server.pid).filter((p) => comm(p) === 'gnome-shell');
    check(shells.length === 1 && shells[0] !== shell,
      `${when}: one new gnome-shell runs (${shells})`);
    const exit = await server.stop();
    check(exit.code === 0, `${when}: SIGTERM: exit code ${exit.code}`);
  }
});
