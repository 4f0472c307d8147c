/*
 * meeting_script.h — the vocabulary of fuzz_meeting's input scripts (see the
 * top comment of fuzz_meeting.c for the format), shared by the harness,
 * which reads scripts, and gen_seeds.c, which writes the seed scripts, so the
 * two cannot drift apart. Each value is an index into a table of the harness.
 */
#ifndef FB_FUZZ_MEETING_SCRIPT_H
#define FB_FUZZ_MEETING_SCRIPT_H

/* Byte 0: the meeting's config. */
enum {
  MS_CFG_MAX_LIVE = 3, /* [floor] max_live - 1 */
  MS_CFG_AUTO_CUT = 4,
  MS_CFG_OPEN_FLOOR = 8,
  MS_CFG_STORE = 16,
  MS_CFG_WEBCAST_START = 32, /* start in session 1, "Plenary" (webcast) */
  MS_CFG_NO_CHAT_TO_ALL = 64,
  MS_CFG_NO_CHAT = 128,
};

/* The low nibble of a step's op byte (the high nibble is the slot). */
enum {
  MS_OP_MESSAGE = 0, /* also 12..15 */
  MS_OP_RAW,
  MS_OP_CLOSE,
  MS_OP_TIME,
  MS_OP_QUALITY,
  MS_OP_EVENT,
  MS_OP_TRANSPORT_ERROR,
  MS_OP_HOLD,
  MS_OP_RESTART,
  MS_OP_FAIL_JOIN,
  MS_OP_METRICS,
  MS_OP_DRAIN,
};

/* MS_OP_MESSAGE: the message type (byte T). */
enum {
  MS_JOIN,
  MS_OFFER,
  MS_LEAVE,
  MS_PING,
  MS_REQUEST_FLOOR,
  MS_WITHDRAW,
  MS_MUTE,
  MS_CHAT,
  MS_GRANT,
  MS_END_TURN,
  MS_MUTE_ALL,
  MS_CUT,
  MS_ALLOW,
  MS_QUEUE_MOVE,
  MS_QUEUE_REMOVE,
  MS_SET_MODE,
  MS_SET_SESSION,
  MS_CHAT_POLICY,
  MS_NTYPES
};

/* join's F: the token. */
enum {
  MS_TOK_C1,
  MS_TOK_C2,
  MS_TOK_D1,
  MS_TOK_D2_SPEAK,
  MS_TOK_D3,
  MS_TOK_O1,
  MS_TOK_D1_OBSERVER,
  MS_TOK_AUTO,
  MS_TOK_C1_DELEGATE,
  MS_NIDS,
  MS_TOK_FORGED = MS_NIDS,
  MS_TOK_EXPIRED,
  MS_TOK_OTHER_MEETING,
  MS_TOK_GARBAGE,
  MS_NTOK
};

/* The "delegate" field of grant, end_turn, mute (F >> 1), cut, allow,
 * queue_move, queue_remove: F mod MS_NWHO. */
enum {
  MS_WHO_NONE,
  MS_WHO_C1,
  MS_WHO_C2,
  MS_WHO_D1,
  MS_WHO_D2,
  MS_WHO_D3,
  MS_WHO_O1,
  MS_WHO_AUTO,
  MS_WHO_NOBODY,
  MS_WHO_EMPTY,
  MS_NWHO
};

#endif
