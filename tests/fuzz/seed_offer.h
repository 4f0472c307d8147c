/*
 * seed_offer.h — the browser's SDP offer the fuzz seeds carry (a Chromium
 * audio-only offer: opus at 111, PCMU, ssrc-audio-level, rtcp-mux), shared by
 * gen_seeds.c (the ws_message seeds) and fuzz_meeting.c (the offers of its
 * scripts), so both send what a real browser sends.
 */
#ifndef FB_FUZZ_SEED_OFFER_H
#define FB_FUZZ_SEED_OFFER_H

static const char *const FB_SEED_OFFER =
    "v=0\r\no=- 4215775240449105457 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Jq3c\r\na=ice-pwd:8mJbJ4Vn0m9ZpQ2k3xYhL1aT\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:"
    "43:F0:A1:58:D0:A1:2C:19:08\r\na=setup:actpass\r\na=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=sendrecv\r\na=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

#endif
