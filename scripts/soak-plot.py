#!/usr/bin/python3
# Plots a scripts/soak.sh CSV (RSS and open fds of zerocast over time, with
# the viewer count) and prints the leak report: the growth per hour of RSS
# and fds fitted over the second half of the run, after warm-up.
#   soak-plot.py SOAK.csv OUT.png TITLE
# SPDX-License-Identifier: LGPL-2.1-or-later
import csv
import sys

import matplotlib
matplotlib.use('Agg')  # no display needed
import matplotlib.pyplot as plt


def slope_per_hour(xs, ys):
    """Least-squares slope of ys over xs (seconds), per hour."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var * 3600


def main():
    path, png, title = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(path) as f:
        rows = [r for r in csv.DictReader(f) if r['rss_kb']]
    if not rows:
        sys.exit(f'{path}: no samples')
    t = [int(r['seconds']) / 60 for r in rows]
    rss = [int(r['rss_kb']) / 1024 for r in rows]
    fds = [int(r['fds']) for r in rows]
    viewers = [int(float(r['viewers'])) if r['viewers'] else 0 for r in rows]

    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(9, 6))
    ax1.plot(t, rss, color='tab:blue')
    ax1.set_ylabel('RSS (MiB)')
    ax1.set_ylim(bottom=0)
    ax1.set_title(f'zerocast soak: {title}')
    ax2.plot(t, fds, color='tab:red', label='open fds')
    ax2.step(t, viewers, color='tab:green', where='post', label='viewers')
    ax2.set_ylabel('count')
    ax2.set_xlabel('minutes')
    ax2.set_ylim(bottom=0)
    ax2.legend(loc='upper left')
    fig.tight_layout()
    fig.savefig(png, dpi=80)

    half = len(rows) // 2
    secs = [int(r['seconds']) for r in rows[half:]]
    print(f'samples: {len(rows)} over {t[-1]:.1f} min')
    print(f'RSS: start {rss[0]:.1f} MiB, max {max(rss):.1f} MiB, '
          f'end {rss[-1]:.1f} MiB; second-half trend '
          f'{slope_per_hour(secs, rss[half:]):+.2f} MiB/hour')
    print(f'fds: start {fds[0]}, max {max(fds)}, end {fds[-1]}; '
          f'second-half trend {slope_per_hour(secs, fds[half:]):+.2f} per hour')
    # Each viewer holds one socket: what is left over is what could leak.
    spare = [f - v for f, v in zip(fds, viewers)]
    print(f'fds beyond one per viewer: start {spare[0]}, max {max(spare)}, '
          f'end {spare[-1]}; second-half trend '
          f'{slope_per_hour(secs, spare[half:]):+.2f} per hour')
    print(f'viewers at once: max {max(viewers)}')


if __name__ == '__main__':
    main()
