/*
 * invite.h — `floorbridge invite`: from the registration list to personal
 * links.
 *
 *   floorbridge invite --meeting M --csv registrations.csv --url https://HOST[:PORT]
 *                      --from DATE --to DATE [--out DIR] [--revoked-file PATH]
 *                      [--secret-file PATH] [--allow-late]
 *
 * Reads the list (signalling/registration.h: the columns and every check),
 * and when every row is good writes into DIR (default "invitations-M",
 * created 0700; the files are 0600, they hold bearer links):
 *   invitations.csv  one row a person, ready for a mail merge: delegate_id,
 *                    name, email, role, participation, valid_from,
 *                    valid_until, link
 *   issued.tsv       what was issued (id, token id, a fingerprint of the
 *                    claims, the link): the memory for the next import
 * A token opens at --from and closes at --to: a bare date (YYYY-MM-DD) means
 * the whole day wherever the delegate is (from 14 h before midnight UTC to
 * 12 h after the end of the day); YYYY-MM-DDTHH:MM:SSZ is exact.
 *
 * Importing again (the list changed): a person whose claims did not change
 * keeps the same link, so invitations already mailed stay good; a changed
 * person (name, role, participation, dates) gets a new link and the old
 * token is revoked by its id; a person dropped from the list is revoked as a
 * delegate ("delegate:ID"), which also disconnects them if they are in the
 * meeting. Revocations go to --revoked-file, the meeting's [meeting]
 * revoked_file; it is required when anything has to be revoked. Lines that
 * floorbridge invite did not write are kept as they are.
 *
 * The rule that interactive participation is asked for at least 24 hours
 * ahead: a row whose requested_at is later than 24 h before --from is invited
 * listen-only and reported, unless --allow-late. Listen-only is the observer
 * role in the token, so the bridge itself keeps that person out of the mix.
 *
 * Nothing is half-written: every problem in the list is reported as
 * FILE:LINE: code: message and then nothing is written at all (exit 2); the
 * files are written beside their final names and renamed into place.
 * Exit status: 0 written, 2 usage, a bad list or a write failure.
 */
#ifndef FB_INVITE_H
#define FB_INVITE_H

/* The command; argv[0] is "invite". --help prints usage and returns 0. */
int fb_invite_cli(int argc, char **argv);

#endif
