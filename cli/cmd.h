/*
 * cmd.h - subcommands of the moat command that live in their own file in cli/
 */
#ifndef MOAT_CMD_H
#define MOAT_CMD_H

#include "moat/conf.h"

/*
 * cmd_stats - `moat stats [--socket SPEC] [--raw]` (ARGV[0] is "stats"):
 * moatd's counters from [milter] status_socket of CONF, or SPEC. Returns
 * the exit status: 0, or 2 when moatd cannot be reached or answers oddly.
 */
int cmd_stats(const struct moat_conf *conf, int argc, char **argv);

/*
 * cmd_quarantine - `moat quarantine list|show|release|delete|purge|export`
 * (ARGV[0] is "quarantine") on the store of CONF's [quarantine] dir.
 * Returns the exit status: 0 done, 1 the item is missing or not in a state
 * for it, 2 usage, permission or store error.
 */
int cmd_quarantine(const struct moat_conf *conf, int argc, char **argv);

/*
 * cmd_web - `moat web user add|passwd|role|del|list` (ARGV[0] is "web"):
 * moat-web's users in CONF's [web] users file. Returns the exit status: 0,
 * 1 no such user or already there, 2 usage, file or password error.
 */
int cmd_web(const struct moat_conf *conf, int argc, char **argv);

#endif
