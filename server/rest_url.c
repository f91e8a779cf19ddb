/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The root URL of the REST API as the client reached it: IM's flask.request.url_root behind
 * werkzeug's ProxyFix with one trusted hop (X-Forwarded-Proto, -Host, -Port and -Prefix, the
 * last value of each), else the Host header, else the listening address.  Values that could
 * not be part of a URL are ignored, so a header cannot inject anything into the answer. */
#include <stdio.h>
#include <string.h>

#include "rest_int.h"

#define FIELD_MAX 256

/* The last comma-separated item of a header value, blanks trimmed, into out; false when
 * empty or too long. */
static bool last_item(const char *v, char out[FIELD_MAX])
{
  const char *start, *end;

  if (!v)
    return false;
  start = strrchr(v, ',');
  start = start ? start + 1 : v;
  while (*start == ' ' || *start == '\t')
    start++;
  end = start + strlen(start);
  while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  if (end == start || (size_t)(end - start) >= FIELD_MAX)
    return false;
  memcpy(out, start, (size_t)(end - start));
  out[end - start] = '\0';
  return true;
}

static bool all_of(const char *s, const char *allowed)
{
  return s[strspn(s, allowed)] == '\0';
}

#define HOST_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]"
#define DIGITS "0123456789"
#define PATH_CHARS HOST_CHARS "/~%!$&'()*+,;=@"

/* host without its port (an IPv6 literal keeps its brackets). */
static void strip_port(char *host)
{
  char *colon = strrchr(host, ':');

  if (colon && (host[0] != '[' || colon > strrchr(host, ']')))
    *colon = '\0';
}

bool rest_url_root(const struct rest_forwarded *f, bool tls, const char *address, long port,
                   char *out, size_t size)
{
  char proto[FIELD_MAX], host[FIELD_MAX], fport[FIELD_MAX], prefix[FIELD_MAX] = "";
  bool v6 = strchr(address, ':') != NULL;
  int n;

  if (!last_item(f->proto, proto) || (strcmp(proto, "http") != 0 && strcmp(proto, "https") != 0))
    snprintf(proto, sizeof proto, "%s", tls ? "https" : "http");
  if (!(last_item(f->host, host) && all_of(host, HOST_CHARS)) &&
      !(last_item(f->host_header, host) && all_of(host, HOST_CHARS)))
    snprintf(host, sizeof host, "%s%s%s:%ld", v6 ? "[" : "", address, v6 ? "]" : "", port);
  if (last_item(f->port, fport) && all_of(fport, DIGITS) && strlen(fport) <= 5) {
    strip_port(host);
    n = snprintf(host + strlen(host), sizeof host - strlen(host), ":%s", fport);
    if (n < 0)
      return false;
  }
  if (last_item(f->prefix, prefix) && (prefix[0] != '/' || !all_of(prefix, PATH_CHARS)))
    prefix[0] = '\0';
  while (*prefix && prefix[strlen(prefix) - 1] == '/')
    prefix[strlen(prefix) - 1] = '\0';
  n = snprintf(out, size, "%s://%s%s/", proto, host, prefix);
  return n > 0 && (size_t)n < size;
}
