/*
 * store.h - moatd's side of the quarantine store ([quarantine] mode = store)
 *
 * The store is opened once, after privileges are dropped (so everything in
 * it belongs to moatd's user), and shared by every thread until moatd
 * stops; quarantine/ does the locking. A thread purges items older than
 * [quarantine] retention_days at start and then every hour. Free of
 * libmilter: mlfi.c asks moatd_store_put() and answers the MTA from it.
 */
#ifndef MOAT_MOATD_STORE_H
#define MOAT_MOATD_STORE_H

#include "moat/quarantine.h"
#include "moatd.h"

enum moatd_stored {
	MOATD_STORED,			/* in the store, synced: the MTA may drop it */
	MOATD_STORE_FULL,		/* [quarantine] max_bytes reached: full_action */
	MOATD_STORE_FAILED,		/* not stored: tempfail */
};

/*
 * moatd_store_open - open (creating it) the store of CONF when its mode is
 * store; 0, or a MOAT_E* code with *err set (moatd does not start then)
 */
int moatd_store_open(const struct moat_conf *conf, char **err);
/* moatd_store_close - stop the purge thread and close the store */
void moatd_store_close(void);
/* moatd_store_active - whether held mail goes to the store (else the MTA's hold queue) */
gboolean moatd_store_active(void);
/* moatd_store_node - this gateway's name in the store ("" in hold mode) */
const char *moatd_store_node(void);

/*
 * moatd_store_put - put MSG, as spooled, with D's verdict into the store;
 * ID gets the item's id when MOATD_STORED. Logged and counted (stats.h).
 * Test-only: MOATD_TEST_STORE_PAUSE_MS in moatd's environment makes it
 * sleep that long after a put and before it returns (the crash test kills
 * moatd there); never set it in production.
 */
enum moatd_stored moatd_store_put(char id[QUAR_ID_LEN + 1], struct moatd_msg *msg,
    const struct moatd_decision *d, const struct moat_conf *conf);

/*
 * moatd_store_purge_start - the thread that purges items older than the
 * running config's retention_days (0: none), at once and then hourly
 */
void moatd_store_purge_start(void);

#endif
