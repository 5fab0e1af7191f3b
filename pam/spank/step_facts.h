/* SPDX-License-Identifier: BSD-3-Clause
 * What slurmstepd tells spank_chos about the step it runs: the user, the job's facts for the
 * policy (facts/context.h `struct chos_job`) and the user's request (--chos, else the job's
 * $CHOS). Filled once, in slurm_spank_init_post_opt; the strings live in the struct. The
 * groups are the step credential's, which the tasks run with: slurmctld looks them up once per
 * job and sends them (LaunchParameters' send_gids, Slurm's default), so a node asks NSS for no
 * group list, and the policy judges the groups the tasks have even where the node's NSS
 * differs. */
#pragma once
#include <slurm/spank.h>
#include "facts/context.h"
#include "common/error.h"

/* Sizes: a user or host name, a partition or account name (Slurm caps them far below), a
 * step's printed id, a home (PATH_MAX) and a request (longer ones are cut, then refused by the
 * core's name check, as at login). */
#define STEP_NAME_MAX 256
#define STEP_ID_MAX 16
#define STEP_PATH_MAX 4096

struct step_facts {
	uid_t uid;
	char user[STEP_NAME_MAX];
	char home[STEP_PATH_MAX];
	char step[STEP_ID_MAX];
	char partition[STEP_NAME_MAX], account[STEP_NAME_MAX];
	char node[STEP_NAME_MAX], submit_host[STEP_NAME_MAX];
	char chos_env[STEP_PATH_MAX]; /* the job's $CHOS (a longer one is refused, logged) */
	int has_chos_env;
	struct chos_job job;	   /* points into the fields above */
	struct chos_gid_list gids; /* the step's credential's groups (slurmstepd's array) */
	int has_gids;
};

/* Fills facts from the step (spank_get_item, spank_getenv). Returns 0 or -errno with err set;
 * when only the user lookup failed, uid, job.id and step are still set and user reads
 * "uid N", for the outcome line. */
int step_facts_read(spank_t sp, struct step_facts *facts, struct chos_error *err);
/* True for the extern step (PrologFlags=contain's: no task of its own; pam_slurm_adopt's ssh
 * sessions join it). */
int step_facts_is_extern(spank_t sp);
