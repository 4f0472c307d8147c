/*
 * service.h — what the bridge tells its service manager (systemd): ready,
 * stopping, and the watchdog ping while the mixer is healthy.
 *
 * Owns the sd_notify protocol, so that main.c only says when something
 * happened. Every call is a no-op when the bridge is not run by systemd (no
 * NOTIFY_SOCKET, or no WatchdogSec= in the unit): running it by hand, in the
 * tests or under another supervisor changes nothing.
 */
#ifndef FB_SERVICE_H
#define FB_SERVICE_H

/* Tell the manager the bridge is up: media and signalling listen. status is a
 * one-line human summary shown by `systemctl status` (may be NULL). */
void fb_service_ready(const char *status);

/* Tell the manager the bridge is shutting down (before the slow part:
 * finalising the recording), so it waits instead of calling it hung. */
void fb_service_stopping(void);

/* How often main should call fb_service_watchdog, in milliseconds: a third
 * of the unit's WatchdogSec=, or 0 when the manager runs no watchdog for this
 * process (then there is nothing to ping). */
int fb_service_watchdog_period_ms(void);

/* Ping the watchdog (WATCHDOG=1) when healthy is non-zero; when it is zero,
 * send nothing, so that a mixer that stays unhealthy for WatchdogSec= gets
 * the bridge restarted. */
void fb_service_watchdog(int healthy);

#endif
