/* zc-rtp-check: an RTP H.264 receiver for the publish tests, on raw
 * sockets so it sees exactly what zerocast sends.
 *
 * It listens on 127.0.0.1:PORT (RTP) and PORT+1 (RTCP), groups packets
 * into access units by RTP timestamp, and reports each keyframe with the
 * NAL units that came with it (SPS and PPS must), the payload type, and
 * the RTCP sender reports. On stdin it takes `pli`, `fir` (an RTCP
 * keyframe request to the address the sender reports came from) and
 * `quit`.
 *
 * stdout: READY, then SR ssrc=S (first one), KEYFRAME n=N frame=F
 *         since=K sps=0|1 pps=0|1 pt=P, FRAMES n=N (every 30), SENT pli|fir.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct
{
  int rtp, rtcp;
  struct sockaddr_in sender; /* where RTCP came from */
  int have_sender;
  uint32_t sender_ssrc;
  int have_au;
  uint32_t au_ts;
  unsigned au_types; /* bit per NAL type in the current access unit */
  int au_pt;
  unsigned long frames, keyframes, since_key;
  unsigned fir_seq;
} Check;

static int
bind_udp (int port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_DGRAM, 0);

  inet_pton (AF_INET, "127.0.0.1", &a.sin_addr);
  if (fd < 0 || bind (fd, (struct sockaddr *) &a, sizeof a) < 0) {
    fprintf (stderr, "zc-rtp-check: cannot bind 127.0.0.1:%d: %s\n", port,
        strerror (errno));
    exit (1);
  }
  return fd;
}

static void
finish_au (Check *c)
{
  if (!c->have_au)
    return;
  c->frames++;
  if (c->au_types & (1u << 5)) {
    c->keyframes++;
    printf ("KEYFRAME n=%lu frame=%lu since=%lu sps=%d pps=%d pt=%d\n",
        c->keyframes, c->frames, c->since_key, !!(c->au_types & (1u << 7)),
        !!(c->au_types & (1u << 8)), c->au_pt);
    c->since_key = 0;
  } else {
    c->since_key++;
  }
  if (c->frames % 30 == 0)
    printf ("FRAMES n=%lu\n", c->frames);
  c->have_au = 0;
  c->au_types = 0;
}

static void
on_rtp (Check *c, const uint8_t *p, ssize_t n)
{
  size_t off = 12;
  uint32_t ts;
  int pt, marker, type;

  if (n < 13 || (p[0] >> 6) != 2)
    return;
  off += 4u * (p[0] & 0x0f);
  if (p[0] & 0x10) { /* header extension */
    if ((size_t) n < off + 4)
      return;
    off += 4 + 4u * ((p[off + 2] << 8) | p[off + 3]);
  }
  if ((size_t) n <= off)
    return;
  marker = p[1] >> 7;
  pt = p[1] & 0x7f;
  ts = (uint32_t) p[4] << 24 | p[5] << 16 | p[6] << 8 | p[7];
  if (c->have_au && ts != c->au_ts)
    finish_au (c);
  c->have_au = 1;
  c->au_ts = ts;
  c->au_pt = pt;

  type = p[off] & 0x1f;
  if (type == 24) { /* STAP-A: 16-bit sizes, then NAL units */
    size_t i = off + 1;
    while (i + 2 < (size_t) n) {
      size_t len = (p[i] << 8) | p[i + 1];
      if (len == 0 || i + 2 + len > (size_t) n)
        break;
      c->au_types |= 1u << (p[i + 2] & 0x1f);
      i += 2 + len;
    }
  } else if (type == 28) { /* FU-A: the start fragment names the type */
    if ((size_t) n > off + 1 && (p[off + 1] & 0x80))
      c->au_types |= 1u << (p[off + 1] & 0x1f);
  } else if (type < 24) {
    c->au_types |= 1u << type;
  }
  if (marker)
    finish_au (c);
}

static void
on_rtcp (Check *c, const uint8_t *p, ssize_t n, struct sockaddr_in *from)
{
  /* A compound packet: find the sender report. */
  for (ssize_t i = 0; i + 8 <= n;) {
    int pt = p[i + 1];
    size_t len = 4u * (((p[i + 2] << 8) | p[i + 3]) + 1);
    if (pt == 200) {
      uint32_t ssrc =
          (uint32_t) p[i + 4] << 24 | p[i + 5] << 16 | p[i + 6] << 8 | p[i + 7];
      if (!c->have_sender)
        printf ("SR ssrc=%u\n", ssrc);
      c->sender = *from;
      c->sender_ssrc = ssrc;
      c->have_sender = 1;
    }
    i += len;
  }
}

static void
put32 (uint8_t *p, uint32_t v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

/* A compound RTCP packet: an empty receiver report, then PLI or FIR. */
static void
send_request (Check *c, int fir)
{
  uint8_t buf[8 + 20];
  size_t n = 8;
  const uint32_t our_ssrc = 0x5a43ca57;

  if (!c->have_sender) {
    printf ("ERR no sender report yet\n");
    return;
  }
  buf[0] = 0x80; /* V=2, RC=0 */
  buf[1] = 201;  /* RR */
  buf[2] = 0;
  buf[3] = 1;
  put32 (buf + 4, our_ssrc);
  if (!fir) {
    buf[n] = 0x81; /* FMT 1: PLI */
    buf[n + 1] = 206;
    buf[n + 2] = 0;
    buf[n + 3] = 2;
    put32 (buf + n + 4, our_ssrc);
    put32 (buf + n + 8, c->sender_ssrc);
    n += 12;
  } else {
    buf[n] = 0x84; /* FMT 4: FIR, media SSRC 0, the FCI names it */
    buf[n + 1] = 206;
    buf[n + 2] = 0;
    buf[n + 3] = 4;
    put32 (buf + n + 4, our_ssrc);
    put32 (buf + n + 8, 0);
    put32 (buf + n + 12, c->sender_ssrc);
    put32 (buf + n + 16, (uint32_t) (c->fir_seq++ & 0xff) << 24);
    n += 20;
  }
  if (sendto (
          c->rtcp, buf, n, 0, (struct sockaddr *) &c->sender, sizeof c->sender)
      < 0)
    printf ("ERR sendto: %s\n", strerror (errno));
  else
    printf ("SENT %s\n", fir ? "fir" : "pli");
}

/* Runs every complete line in @cmd; FALSE on `quit`. */
static int
run_commands (Check *c, char *cmd, size_t *cmd_len)
{
  char *nl;

  while ((nl = strchr (cmd, '\n')) != NULL) {
    *nl = '\0';
    if (strcmp (cmd, "quit") == 0)
      return 0;
    if (strcmp (cmd, "pli") == 0)
      send_request (c, 0);
    else if (strcmp (cmd, "fir") == 0)
      send_request (c, 1);
    else
      printf ("ERR unknown command\n");
    *cmd_len -= nl + 1 - cmd;
    memmove (cmd, nl + 1, *cmd_len + 1);
  }
  return 1;
}

int
main (int argc, char **argv)
{
  Check c = { 0 };
  uint8_t buf[65536];
  char cmd[256];
  size_t cmd_len = 0;
  int port;

  if (argc != 2 || (port = atoi (argv[1])) < 1 || port > 65534) {
    fprintf (stderr, "usage: zc-rtp-check PORT (RTCP on PORT+1)\n");
    return 2;
  }
  setvbuf (stdout, NULL, _IOLBF, 0);
  c.rtp = bind_udp (port);
  c.rtcp = bind_udp (port + 1);
  printf ("READY\n");

  for (;;) {
    struct pollfd fds[3] = { { .fd = c.rtp, .events = POLLIN },
      { .fd = c.rtcp, .events = POLLIN }, { .fd = 0, .events = POLLIN } };

    if (poll (fds, 3, -1) < 0 && errno != EINTR)
      return 1;
    if (fds[0].revents & POLLIN) {
      ssize_t n = recv (c.rtp, buf, sizeof buf, 0);
      if (n > 0)
        on_rtp (&c, buf, n);
    }
    if (fds[1].revents & POLLIN) {
      struct sockaddr_in from;
      socklen_t len = sizeof from;
      ssize_t n = recvfrom (
          c.rtcp, buf, sizeof buf, 0, (struct sockaddr *) &from, &len);
      if (n > 0)
        on_rtcp (&c, buf, n, &from);
    }
    if (fds[2].revents & (POLLIN | POLLHUP)) {
      /* read(), not stdio: several commands can come in one read. */
      ssize_t n = read (0, cmd + cmd_len, sizeof cmd - 1 - cmd_len);
      if (n <= 0)
        return 0;
      cmd_len += n;
      cmd[cmd_len] = '\0';
      if (!run_commands (&c, cmd, &cmd_len))
        return 0;
      if (cmd_len == sizeof cmd - 1)
        cmd_len = 0; /* a line too long to be a command */
    }
  }
}
