/*
 * control.h — local control socket (Unix stream socket, one command a line,
 * one reply a line, "ok ..." or "error CODE message").
 *
 * For the secretariat's scripts and the test and load tools until the chair's
 * WebSocket console exists. Commands:
 *   add NAME HOST:PORT [live|listen] [pt=N]
 *   remove NAME
 *   live NAME on|off
 *   list
 *   status
 * Error codes: bad_command, bad_argument, unknown_participant, duplicate,
 * full, too_many_live.
 */
#ifndef FB_CONTROL_H
#define FB_CONTROL_H

struct fb_bridge;
typedef struct fb_control fb_control;

/* Listen on path (an existing socket file is replaced) and start the control
 * thread. NULL with a message in err on failure. */
fb_control *fb_control_start(struct fb_bridge *b, const char *path, char *err, int errlen);

/* Stop the thread, close and unlink the socket. */
void fb_control_stop(fb_control *c);

/* Execute one command line and write the reply (no newline) into reply. Used
 * by the control thread and by tests. */
void fb_control_exec(struct fb_bridge *b, const char *line, char *reply, int replylen);

#endif
