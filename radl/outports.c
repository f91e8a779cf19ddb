/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A network's `outports`: comma-separated items `[CIDR-]PORT[:END][/proto][-LOCAL[/proto]]`.
 *
 * The accepted shapes follow IM's outport.parseOutPorts (grycap/RADL radl/radl.py) and
 * doc/source/radl.rst, with these deliberate differences:
 * - IM documents that a range and a mapping cannot be combined, but its code silently drops
 *   the mapping of `1:10-20` and the range of `20-1:10`.  We follow the documentation and
 *   reject both.
 * - Stricter than IM: ports must be 0..65535 and a range must not run backwards; a CIDR must
 *   be four dotted octets 0..255 with a prefix 0..32 (IM's pattern lets any character stand
 *   for the dots); a trailing newline is not accepted (Python's `$` lets one through).
 * - As IM: no whitespace anywhere ("22, 80" is invalid), protocols are lower-case tcp, udp or
 *   icmp, tcp is the default, and the local side inherits the remote side's protocol, so
 *   `80-8080/udp` mixes tcp and udp and is refused while `80/udp-8080` is fine. */
#include "imc/alloc.h"
#include "imc/radl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Bounds the array an outports string can make us allocate. */
#define RADL_MAX_OUTPORTS 65536u
#define MAX_PORT 65535u

const char *radl_proto_name(enum radl_proto proto)
{
  static const char *const names[] = {"tcp", "udp", "icmp"};

  return (unsigned)proto < sizeof names / sizeof names[0] ? names[proto] : "?";
}

/* A cursor over one item; why holds the reason of the first failure. */
struct cursor {
  const char *p, *end;
  const char *why;
  char whybuf[96];
};

static bool at_digit(const struct cursor *c)
{
  return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

static bool fail(struct cursor *c, const char *fmt, ...) IMC_PRINTF(2, 3);

static bool fail(struct cursor *c, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(c->whybuf, sizeof c->whybuf, fmt, ap);
  va_end(ap);
  c->why = c->whybuf;
  return false;
}

/* A port: any number of digits as IM, but no larger than MAX_PORT.  The value saturates
 * just past the limit so that a long run of digits is "out of range", never a wrap. */
static bool read_port(struct cursor *c, unsigned *out)
{
  const char *start = c->p;
  unsigned long v = 0;

  if (!at_digit(c)) {
    c->why = "expected a port number";
    return false;
  }
  for (; at_digit(c); c->p++)
    if (v <= MAX_PORT)
      v = v * 10 + (unsigned long)(*c->p - '0');
  if (v > MAX_PORT) {
    int len = (int)(c->p - start);

    return fail(c, "port %.*s%s is out of range (0-%u)", len > 20 ? 20 : len, start,
                len > 20 ? "..." : "", MAX_PORT);
  }
  *out = (unsigned)v;
  return true;
}

/* `/tcp`, `/udp` or `/icmp` (lower case, as IM's pattern); nothing leaves *proto alone. */
static bool read_proto(struct cursor *c, enum radl_proto *proto)
{
  static const enum radl_proto all[] = {RADL_PROTO_TCP, RADL_PROTO_UDP, RADL_PROTO_ICMP};
  const char *stop;
  size_t len;

  if (c->p >= c->end || *c->p != '/')
    return true;
  c->p++;
  /* The protocol runs to the mapping's '-' or to the end of the item. */
  stop = memchr(c->p, '-', (size_t)(c->end - c->p));
  len = (size_t)((stop ? stop : c->end) - c->p);
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    const char *name = radl_proto_name(all[i]);

    if (len == strlen(name) && memcmp(c->p, name, len) == 0) {
      c->p += len;
      *proto = all[i];
      return true;
    }
  }
  return fail(c, "unknown protocol '%.*s' (expected tcp, udp or icmp)", len > 20 ? 20 : (int)len,
              c->p);
}

/* A number of 1 to maxdigits digits (IM's \d{1,3} and \d{1,2}) no larger than max. */
static bool read_small(struct cursor *c, int maxdigits, unsigned max)
{
  unsigned v = 0;
  int n = 0;

  for (; at_digit(c); c->p++, n++)
    if (n < maxdigits)
      v = v * 10 + (unsigned)(*c->p - '0');
  return n >= 1 && n <= maxdigits && v <= max;
}

/* `a.b.c.d/n-` at the start of an item.  Only called when the item starts with digits
 * followed by a dot, which a port never is. */
static bool read_cidr(struct cursor *c, char *out, size_t outsz)
{
  const char *start = c->p;

  for (int i = 0; i < 4; i++) {
    if (i > 0) {
      if (c->p >= c->end || *c->p != '.')
        goto bad;
      c->p++;
    }
    if (!read_small(c, 3, 255))
      goto bad;
  }
  if (c->p >= c->end || *c->p != '/')
    goto bad;
  c->p++;
  if (!read_small(c, 2, 32))
    goto bad;
  if (c->p >= c->end || *c->p != '-' || (size_t)(c->p - start) >= outsz)
    goto bad;
  memcpy(out, start, (size_t)(c->p - start));
  out[c->p - start] = '\0';
  c->p++;
  return true;
bad:
  c->why = "invalid remote CIDR (expected a.b.c.d/n with octets 0-255 and n 0-32)";
  return false;
}

/* One side: PORT[:END][/proto]. */
static bool read_side(struct cursor *c, unsigned *lo, unsigned *hi, bool *range,
                      enum radl_proto *proto)
{
  if (!read_port(c, lo))
    return false;
  *hi = *lo;
  *range = false;
  if (c->p < c->end && *c->p == ':') {
    c->p++;
    if (!read_port(c, hi))
      return false;
    if (*hi < *lo)
      return fail(c, "port range %u:%u starts after it ends", *lo, *hi);
    *range = true;
  }
  return read_proto(c, proto);
}

static bool starts_with_cidr(const struct cursor *c)
{
  const char *p = c->p;

  while (p < c->end && *p >= '0' && *p <= '9')
    p++;
  return p > c->p && p < c->end && *p == '.';
}

static bool parse_item(struct cursor *c, struct radl_outport *o)
{
  unsigned lo2, hi2;
  bool range2;
  enum radl_proto proto2;

  memset(o, 0, sizeof *o);
  o->proto = RADL_PROTO_TCP;
  if (starts_with_cidr(c) && !read_cidr(c, o->cidr, sizeof o->cidr))
    return false;
  if (!read_side(c, &o->port_init, &o->port_end, &o->is_range, &o->proto))
    return false;
  if (c->p == c->end)
    return true;
  if (*c->p != '-')
    return fail(c, "unexpected '%c' after the port", *c->p);
  c->p++;
  proto2 = o->proto;
  if (!read_side(c, &lo2, &hi2, &range2, &proto2))
    return false;
  if (c->p != c->end)
    return fail(c, "unexpected '%c' after the local port", *c->p);
  if (o->is_range || range2) {
    c->why = "port range (:) and port mapping (-) cannot be combined";
    return false;
  }
  if (proto2 != o->proto) {
    c->why = "different protocols used in local and remote outports";
    return false;
  }
  o->port_end = lo2;
  return true;
}

int radl_outports_parse(const char *text, struct radl_outport **out, size_t *n,
                        struct imc_err *err)
{
  struct radl_outport *v = NULL;
  const char *item = text;
  size_t count = 1, i = 0;
  int r = 0;

  *out = NULL;
  *n = 0;
  for (const char *p = text; *p; p++)
    if (*p == ',' && ++count > RADL_MAX_OUTPORTS)
      return imc_fail(err, IMC_E_INVAL, "invalid outports: more than %u items",
                      RADL_MAX_OUTPORTS);
  if (!(v = imc_calloc(count, sizeof *v)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  for (;; i++) {
    const char *end = strchr(item, ',');
    struct cursor c = {.p = item, .end = end ? end : item + strlen(item)};

    if (!parse_item(&c, &v[i])) {
      int len = (int)(c.end - item);

      r = imc_fail(err, IMC_E_INVAL, "invalid outports item '%.*s%s': %s", len > 64 ? 64 : len,
                   item, len > 64 ? "..." : "", c.why);
      goto out;
    }
    if (!end)
      break;
    item = end + 1;
  }
  *out = v;
  *n = count;
  v = NULL;
out:
  imc_free(v);
  return r;
}
