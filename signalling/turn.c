/*
 * turn.c — TURN REST credentials (see turn.h), with OpenSSL's HMAC and
 * EVP_EncodeBlock.
 */
#include "signalling/turn.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

int fb_turn_credential(const char *secret, const char *username, char *out, size_t outlen) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (outlen < 29 ||
      !HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)username,
            strlen(username), md, &mdlen) ||
      mdlen != 20)
    return -1;
  EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen); /* 28 characters + NUL */
  return 0;
}

json_t *fb_turn_ice_servers(const char *urls, const char *secret, int ttl_s, const char *delegate,
                            long long now) {
  json_t *servers = json_array(), *list = json_array();
  if (!servers || !list) goto fail;
  for (const char *p = urls; p && *p;) {
    p += strspn(p, ", ");
    size_t n = strcspn(p, ", ");
    if (n && json_array_append_new(list, json_stringn(p, n)) < 0) goto fail;
    p += n;
  }
  if (json_array_size(list) == 0) {
    json_decref(list);
    return servers;
  }
  json_t *entry = json_pack("{s:O}", "urls", list);
  if (!entry || json_array_append_new(servers, entry) < 0) goto fail;
  if (secret && *secret) {
    char user[128], cred[64];
    snprintf(user, sizeof user, "%lld:%s", now + ttl_s, delegate);
    if (fb_turn_credential(secret, user, cred, sizeof cred) < 0 ||
        json_object_set_new(entry, "username", json_string(user)) < 0 ||
        json_object_set_new(entry, "credential", json_string(cred)) < 0)
      goto fail;
  }
  json_decref(list);
  return servers;
fail:
  json_decref(list);
  json_decref(servers);
  return NULL;
}
