/* SPDX-License-Identifier: BSD-3-Clause
 * The step's facts (step_facts.h). The ids and the uid are slurmstepd's own (spank_get_item);
 * the user's name and home come from NSS, as at login. Partition, account and submit host are
 * read from the job's environment, where srun and sbatch put them, and so is the step's node
 * list, whose entry at this node's index (S_JOB_NODEID) is its name: slurmd's -N name, which
 * several slurmd on one host do not share with the host name. The submitting user can change
 * that environment, so the contract marks these facts as reported, not proven. */
#include "step_facts.h"
#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <slurm/slurm.h>
#include <sys/utsname.h>
#include <syslog.h>

/* getpwuid_r's buffer: NSS entries are a few hundred bytes; a larger one is refused. */
#define STEP_PW_BUF 16384

static int read_user(uid_t uid, struct step_facts *f, struct chos_error *err)
{
	struct passwd pw, *res = NULL;
	char *buf = malloc(STEP_PW_BUF);
	int r;

	if (!buf)
		return chos_fail(err, -ENOMEM, "out of memory");
	r = getpwuid_r(uid, &pw, buf, STEP_PW_BUF, &res);
	if (r == 0 && res) {
		snprintf(f->user, sizeof(f->user), "%s", pw.pw_name);
		snprintf(f->home, sizeof(f->home), "%s", pw.pw_dir);
	}
	free(buf);
	if (r != 0)
		return chos_fail(err, -r, "uid %u: %s", (unsigned)uid, strerror(r));
	if (!res)
		return chos_fail(err, -ENOENT, "uid %u has no passwd entry", (unsigned)uid);
	return 0;
}

/* The job environment's VAR into buf; NULL when unset. */
static char *job_env(spank_t sp, const char *var, char *buf, size_t len)
{
	return spank_getenv(sp, var, buf, (int)len) == ESPANK_SUCCESS ? buf : NULL;
}

/* The name at index nth of a Slurm host list ("n[1-4],gpu07"), through slurmstepd's own parser
 * (libslurmfull's public slurm_hostlist_*); 0, or -ENOENT when it is not there. */
static int nth_host(const char *list, uint32_t nth, char *buf, size_t len)
{
	hostlist_t hl = slurm_hostlist_create(list);
	char *host = NULL;
	int r = -ENOENT;

	if (!hl)
		return r;
	for (uint32_t i = 0; (host = slurm_hostlist_shift(hl)); i++) {
		if (i == nth)
			r = snprintf(buf, len, "%s", host) < (int)len ? 0 : -ENAMETOOLONG;
		free(host); /* hostlist_shift's string is malloc'd */
		if (i == nth)
			break;
	}
	slurm_hostlist_destroy(hl);
	return r;
}

/* This node's name: its entry in the step's node list (the job's, for the batch step), else
 * the short host name. */
static char *node_name(spank_t sp, struct step_facts *f)
{
	char list[STEP_PATH_MAX];
	uint32_t nodeid = 0;
	struct utsname u;

	if (spank_get_item(sp, S_JOB_NODEID, &nodeid) == ESPANK_SUCCESS &&
	    (job_env(sp, "SLURM_STEP_NODELIST", list, sizeof(list)) ||
	     job_env(sp, "SLURM_JOB_NODELIST", list, sizeof(list))) &&
	    nth_host(list, nodeid, f->node, sizeof(f->node)) == 0)
		return f->node;
	if (uname(&u) < 0)
		return NULL;
	u.nodename[strcspn(u.nodename, ".")] = '\0';
	snprintf(f->node, sizeof(f->node), "%s", u.nodename);
	return f->node;
}

static void print_step(uint32_t step, char *buf, size_t len)
{
	switch (step) {
	case SLURM_BATCH_SCRIPT:
		snprintf(buf, len, "batch");
		break;
	case SLURM_EXTERN_CONT:
		snprintf(buf, len, "extern");
		break;
	case SLURM_INTERACTIVE_STEP:
		snprintf(buf, len, "interactive");
		break;
	default:
		snprintf(buf, len, "%u", step);
	}
}

int step_facts_is_extern(spank_t sp)
{
	uint32_t step = 0;

	return spank_get_item(sp, S_JOB_STEPID, &step) == ESPANK_SUCCESS &&
	       step == SLURM_EXTERN_CONT;
}

int step_facts_read(spank_t sp, struct step_facts *f, struct chos_error *err)
{
	uint32_t id = 0, step = 0;
	uid_t uid = 0;
	gid_t *gids = NULL;
	int r, ngids = 0;

	memset(f, 0, sizeof(*f));
	if (spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_ID, &id) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_STEPID, &step) != ESPANK_SUCCESS)
		return chos_fail(err, -EIO, "slurmstepd did not give the job's uid and ids");
	print_step(step, f->step, sizeof(f->step));
	f->job.id = id;
	f->job.step = f->step;
	f->uid = uid;
	if ((r = read_user(uid, f, err)) < 0) {
		snprintf(f->user, sizeof(f->user), "uid %u", (unsigned)uid);
		return r;
	}
	f->has_gids =
		spank_get_item(sp, S_JOB_SUPPLEMENTARY_GIDS, &gids, &ngids) == ESPANK_SUCCESS &&
		ngids >= 0 && (gids || ngids == 0);
	f->gids.gids = gids;
	f->gids.count = f->has_gids ? (size_t)ngids : 0;
	f->job.partition = job_env(sp, "SLURM_JOB_PARTITION", f->partition, sizeof(f->partition));
	f->job.account = job_env(sp, "SLURM_JOB_ACCOUNT", f->account, sizeof(f->account));
	f->job.submit_host =
		job_env(sp, "SLURM_SUBMIT_HOST", f->submit_host, sizeof(f->submit_host));
	f->job.node = node_name(sp, f);
	r = (int)spank_getenv(sp, "CHOS", f->chos_env, (int)sizeof(f->chos_env));
	f->has_chos_env = r == ESPANK_SUCCESS;
	/* Too long to be a name: refused, and said, as the core says of a bad one. */
	if (r == ESPANK_NOSPACE)
		syslog(LOG_AUTHPRIV | LOG_WARNING,
		       "spank_chos: user \"%s\": request $CHOS ignored: longer than %zu bytes",
		       f->user, sizeof(f->chos_env) - 1);
	return 0;
}
