/*
 * srtp_fast.c — SRTP for RTP on OpenSSL EVP (see srtp_fast.h for why it
 * exists and what it covers).
 *
 * Per stream (SSRC) state: the rollover counter, the highest sequence number
 * and a 128-bit replay bitmap. A session keeps a few streams (a browser sends
 * one audio SSRC; we send one) and recycles the least recently used.
 */
#include "bridge/srtp_fast.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "bridge/srtp_session.h"

#define MAX_STREAMS 4
#define WINDOW 128
#define CM_TAG 10
#define GCM_TAG 16

typedef struct {
  int used;
  uint32_t ssrc;
  uint32_t roc;
  uint16_t s_l;          /* highest sequence number seen */
  uint64_t window[2];    /* bit k: index (highest - k) seen */
  uint64_t last_use;
} stream;

struct fb_srtp_fast {
  int gcm;
  uint8_t salt[14];      /* session salt (k_s), 14 (CM) or 12 (GCM) bytes */
  EVP_CIPHER_CTX *cipher;
  EVP_MAC *mac;
  EVP_MAC_CTX *hmac;     /* keyed with k_a once (AES-CM only) */
  stream streams[MAX_STREAMS];
  uint64_t clock;
};

/* RFC 3711 4.3.1 with kdr = 0: AES-CM keystream under the master key, IV =
 * (master salt XOR label at byte 7) || 0x0000. A 12-byte (GCM) master salt is
 * padded with zeros, as libsrtp does. */
static int kdf(const uint8_t *mkey, const uint8_t *msalt, int salt_len, uint8_t label,
               uint8_t *out, int n) {
  uint8_t iv[16] = {0};
  memcpy(iv, msalt, (size_t)salt_len);
  iv[7] ^= label;
  uint8_t zeros[32] = {0};
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, mkey, iv) == 1;
  int outl = 0;
  ok = ok && EVP_EncryptUpdate(c, out, &outl, zeros, n) == 1 && outl == n;
  EVP_CIPHER_CTX_free(c);
  return ok ? 0 : -1;
}

fb_srtp_fast *fb_srtp_fast_new(int profile, const uint8_t *master_key, int key_len,
                               const uint8_t *master_salt, int salt_len) {
  int gcm = profile == FB_SRTP_PROFILE_AEAD_AES_128_GCM;
  if (key_len != 16 || salt_len != (gcm ? 12 : 14) ||
      (!gcm && profile != FB_SRTP_PROFILE_AES128_CM_SHA1_80))
    return NULL;
  fb_srtp_fast *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->gcm = gcm;
  uint8_t k_e[16], k_a[20];
  int ok = kdf(master_key, master_salt, salt_len, 0x00, k_e, 16) == 0 &&
           kdf(master_key, master_salt, salt_len, 0x02, s->salt, salt_len) == 0;
  s->cipher = EVP_CIPHER_CTX_new();
  ok = ok && s->cipher &&
       EVP_EncryptInit_ex(s->cipher, gcm ? EVP_aes_128_gcm() : EVP_aes_128_ctr(), NULL, k_e,
                          NULL) == 1;
  if (ok && !gcm) {
    ok = kdf(master_key, master_salt, salt_len, 0x01, k_a, 20) == 0;
    s->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    s->hmac = s->mac ? EVP_MAC_CTX_new(s->mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA1", 0),
                           OSSL_PARAM_construct_end()};
    ok = ok && s->hmac && EVP_MAC_init(s->hmac, k_a, sizeof k_a, params) == 1;
  }
  OPENSSL_cleanse(k_e, sizeof k_e);
  OPENSSL_cleanse(k_a, sizeof k_a);
  if (!ok) {
    fb_srtp_fast_free(s);
    return NULL;
  }
  return s;
}

void fb_srtp_fast_free(fb_srtp_fast *s) {
  if (!s) return;
  EVP_CIPHER_CTX_free(s->cipher);
  EVP_MAC_CTX_free(s->hmac);
  EVP_MAC_free(s->mac);
  OPENSSL_cleanse(s, sizeof *s);
  free(s);
}

/* RTP header length (fixed + CSRC + extension), or -1 when malformed. */
static int header_len(const uint8_t *p, int len) {
  if (len < 12 || (p[0] >> 6) != 2) return -1;
  int h = 12 + 4 * (p[0] & 0x0f);
  if (p[0] & 0x10) {
    if (h + 4 > len) return -1;
    h += 4 + 4 * ((p[h + 2] << 8) | p[h + 3]);
  }
  return h <= len ? h : -1;
}

static stream *find_stream(fb_srtp_fast *s, uint32_t ssrc, int create) {
  stream *lru = &s->streams[0];
  for (int i = 0; i < MAX_STREAMS; i++) {
    stream *st = &s->streams[i];
    if (st->used && st->ssrc == ssrc) {
      st->last_use = ++s->clock;
      return st;
    }
    if (!st->used || st->last_use < lru->last_use) lru = st;
    if (!st->used) break;
  }
  if (!create) return NULL;
  memset(lru, 0, sizeof *lru);
  lru->ssrc = ssrc;
  lru->last_use = ++s->clock;
  return lru;
}

/* RFC 3711 Appendix A: the ROC that goes with seq. */
static uint32_t guess_roc(const stream *st, uint16_t seq) {
  if (!st->used) return 0;
  if (st->s_l < 32768) {
    if ((int)seq - (int)st->s_l > 32768) return st->roc - 1;
  } else if ((int)st->s_l - 32768 > (int)seq) {
    return st->roc + 1;
  }
  return st->roc;
}

static int64_t index_of(uint32_t roc, uint16_t seq) { return ((int64_t)roc << 16) | seq; }

/* Replay state: 0 fresh, 1 replay/too old. */
static int replayed(const stream *st, int64_t idx) {
  if (!st->used) return 0;
  int64_t top = index_of(st->roc, st->s_l);
  if (idx > top) return 0;
  int64_t back = top - idx;
  if (back >= WINDOW) return 1;
  return (int)((st->window[back / 64] >> (back % 64)) & 1);
}

static void accept_index(stream *st, uint32_t roc, uint16_t seq) {
  int64_t idx = index_of(roc, seq);
  if (!st->used) {
    st->used = 1;
    st->roc = roc;
    st->s_l = seq;
    st->window[0] = 1;
    st->window[1] = 0;
    return;
  }
  int64_t top = index_of(st->roc, st->s_l);
  if (idx > top) {
    int64_t shift = idx - top;
    if (shift >= WINDOW) {
      st->window[0] = st->window[1] = 0;
    } else if (shift >= 64) {
      st->window[1] = st->window[0] << (shift - 64);
      st->window[0] = 0;
    } else {
      st->window[1] = (st->window[1] << shift) | (shift ? st->window[0] >> (64 - shift) : 0);
      st->window[0] <<= shift;
    }
    st->window[0] |= 1;
    st->roc = roc;
    st->s_l = seq;
  } else {
    /* A sender may protect an old index again (a resend); only indexes
     * inside the window have a bit to set. */
    int64_t back = top - idx;
    if (back < WINDOW) st->window[back / 64] |= 1ull << (back % 64);
  }
}

static void gcm_iv(const fb_srtp_fast *s, uint32_t ssrc, uint32_t roc, uint16_t seq,
                   uint8_t iv[12]) {
  uint8_t v[12] = {0, 0, (uint8_t)(ssrc >> 24), (uint8_t)(ssrc >> 16), (uint8_t)(ssrc >> 8),
                   (uint8_t)ssrc, (uint8_t)(roc >> 24), (uint8_t)(roc >> 16), (uint8_t)(roc >> 8),
                   (uint8_t)roc, (uint8_t)(seq >> 8), (uint8_t)seq};
  for (int i = 0; i < 12; i++) iv[i] = v[i] ^ s->salt[i];
}

static void cm_iv(const fb_srtp_fast *s, uint32_t ssrc, uint32_t roc, uint16_t seq,
                  uint8_t iv[16]) {
  memset(iv, 0, 16);
  memcpy(iv, s->salt, 14);
  iv[4] ^= (uint8_t)(ssrc >> 24);
  iv[5] ^= (uint8_t)(ssrc >> 16);
  iv[6] ^= (uint8_t)(ssrc >> 8);
  iv[7] ^= (uint8_t)ssrc;
  iv[8] ^= (uint8_t)(roc >> 24);
  iv[9] ^= (uint8_t)(roc >> 16);
  iv[10] ^= (uint8_t)(roc >> 8);
  iv[11] ^= (uint8_t)roc;
  iv[12] ^= (uint8_t)(seq >> 8);
  iv[13] ^= (uint8_t)seq;
}

/* HMAC-SHA1(k_a, pkt[0..n) || ROC), first 10 bytes into tag. */
static int cm_tag(fb_srtp_fast *s, const uint8_t *pkt, int n, uint32_t roc, uint8_t tag[20]) {
  uint8_t r[4] = {(uint8_t)(roc >> 24), (uint8_t)(roc >> 16), (uint8_t)(roc >> 8), (uint8_t)roc};
  size_t outl = 0;
  return EVP_MAC_init(s->hmac, NULL, 0, NULL) == 1 &&
                 EVP_MAC_update(s->hmac, pkt, (size_t)n) == 1 &&
                 EVP_MAC_update(s->hmac, r, 4) == 1 && EVP_MAC_final(s->hmac, tag, &outl, 20) == 1
             ? 0
             : -1;
}

static uint32_t rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int fb_srtp_fast_protect(fb_srtp_fast *s, uint8_t *pkt, int *len, int cap) {
  int n = *len;
  int h = header_len(pkt, n);
  int taglen = s->gcm ? GCM_TAG : CM_TAG;
  if (h < 0 || n + taglen > cap) return FB_SRTP_ERR_ARG;
  uint16_t seq = (uint16_t)((pkt[2] << 8) | pkt[3]);
  uint32_t ssrc = rd32(pkt + 8);
  stream *st = find_stream(s, ssrc, 1);
  uint32_t roc = guess_roc(st, seq);
  int outl = 0;
  if (s->gcm) {
    uint8_t iv[12];
    gcm_iv(s, ssrc, roc, seq, iv);
    if (EVP_EncryptInit_ex(s->cipher, NULL, NULL, NULL, iv) != 1 ||
        EVP_EncryptUpdate(s->cipher, NULL, &outl, pkt, h) != 1 ||
        EVP_EncryptUpdate(s->cipher, pkt + h, &outl, pkt + h, n - h) != 1 ||
        EVP_EncryptFinal_ex(s->cipher, pkt + n, &outl) != 1 ||
        EVP_CIPHER_CTX_ctrl(s->cipher, EVP_CTRL_GCM_GET_TAG, GCM_TAG, pkt + n) != 1)
      return FB_SRTP_ERR_OTHER;
  } else {
    uint8_t iv[16], tag[20];
    cm_iv(s, ssrc, roc, seq, iv);
    if (EVP_EncryptInit_ex(s->cipher, NULL, NULL, NULL, iv) != 1 ||
        EVP_EncryptUpdate(s->cipher, pkt + h, &outl, pkt + h, n - h) != 1 ||
        cm_tag(s, pkt, n, roc, tag) != 0)
      return FB_SRTP_ERR_OTHER;
    memcpy(pkt + n, tag, CM_TAG);
  }
  accept_index(st, roc, seq);
  *len = n + taglen;
  return FB_SRTP_OK;
}

int fb_srtp_fast_unprotect(fb_srtp_fast *s, uint8_t *pkt, int *len) {
  int taglen = s->gcm ? GCM_TAG : CM_TAG;
  int n = *len - taglen;
  int h = header_len(pkt, n > 0 ? n : 0);
  if (n < 12 || h < 0) return FB_SRTP_ERR_ARG;
  uint16_t seq = (uint16_t)((pkt[2] << 8) | pkt[3]);
  uint32_t ssrc = rd32(pkt + 8);
  stream *st = find_stream(s, ssrc, 0);
  stream fresh = {0};
  uint32_t roc = guess_roc(st ? st : &fresh, seq);
  if (st && replayed(st, index_of(roc, seq))) return FB_SRTP_ERR_REPLAY;
  int outl = 0;
  if (s->gcm) {
    uint8_t iv[12], tag[GCM_TAG], work[1500];
    if (n - h > (int)sizeof work) return FB_SRTP_ERR_ARG;
    gcm_iv(s, ssrc, roc, seq, iv);
    memcpy(tag, pkt + n, GCM_TAG);
    /* decrypt into a scratch buffer so a forged packet leaves pkt untouched */
    if (EVP_DecryptInit_ex(s->cipher, NULL, NULL, NULL, iv) != 1 ||
        EVP_DecryptUpdate(s->cipher, NULL, &outl, pkt, h) != 1 ||
        EVP_DecryptUpdate(s->cipher, work, &outl, pkt + h, n - h) != 1 ||
        EVP_CIPHER_CTX_ctrl(s->cipher, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag) != 1)
      return FB_SRTP_ERR_OTHER;
    if (EVP_DecryptFinal_ex(s->cipher, work + outl, &outl) != 1) return FB_SRTP_ERR_AUTH;
    memcpy(pkt + h, work, (size_t)(n - h));
  } else {
    uint8_t iv[16], tag[20];
    if (cm_tag(s, pkt, n, roc, tag) != 0) return FB_SRTP_ERR_OTHER;
    if (CRYPTO_memcmp(tag, pkt + n, CM_TAG) != 0) return FB_SRTP_ERR_AUTH;
    cm_iv(s, ssrc, roc, seq, iv);
    if (EVP_EncryptInit_ex(s->cipher, NULL, NULL, NULL, iv) != 1 ||
        EVP_EncryptUpdate(s->cipher, pkt + h, &outl, pkt + h, n - h) != 1)
      return FB_SRTP_ERR_OTHER;
  }
  if (!st) st = find_stream(s, ssrc, 1);
  accept_index(st, roc, seq);
  *len = n;
  return FB_SRTP_OK;
}
