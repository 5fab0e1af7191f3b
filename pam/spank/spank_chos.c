/* SPDX-License-Identifier: BSD-3-Clause
 * spank_chos: puts every task of a Slurm job step into the OS tree the site policy picks, on
 * every node (README.md, "Slurm"). Glue only, like pam_chos: the core parses the plugstack
 * arguments (session_args.c: policy= catalogue= root= backend= on_error= debug) and decides
 * (session.c); this file maps slurmstepd's callbacks onto it.
 *
 *   slurm_spank_init             registers --chos=ENV in srun, sbatch and salloc (a static
 *                                spank_options[] reaches srun only); in slurmstepd, checks the
 *                                arguments: a typo fails every step rather than weaken them
 *   slurm_spank_init_post_opt    slurmstepd, root, once per step before any task forks:
 *                                decides with service "slurm" and the job's facts, and builds
 *                                the tree's view once (view.h: a helper, since slurmstepd is
 *                                multi-threaded and unshare(CLONE_NEWNS) is refused there).
 *                                A denial fails every task with the policy's reason
 *   slurm_spank_task_init_privileged  each task's child, root, single-threaded, before setuid,
 *                                chdir and exec: setns into the step's view. No mount per task
 *   slurm_spank_exit             drops the view's handle; the tasks keep the namespace
 *
 * ssh sessions pam_slurm_adopt adopts into a job enter the job's view through pam_chos
 * (jobview.h): the job's first step on the node to build one pins it, and removes the pin in
 * slurm_spank_exit. The extern step (PrologFlags=contain; no task of its own, and neither
 * --chos nor the job's environment in Slurm 22.05) decides nothing.
 *
 * The request is --chos, else the job's $CHOS (the submitting session's, which pam_chos set):
 * both are the user's wish, judged by the policy like ~/.chos. One log line per step, the
 * pam_chos fields plus job= and step=, to syslog (authpriv) and slurmd's log. */
#include <slurm/spank.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include "apply/jobview.h"
#include "spank_args.h"
#include "step_facts.h"

SPANK_PLUGIN(chos, 1);

/* The step's state from init_post_opt to the tasks: slurmstepd runs one step per process. */
static struct chos_view step_view = { .mntns = -1 };
static char step_home[STEP_PATH_MAX];
/* A denied step: the policy's reason, said by every task on the job's stderr before it fails. */
static int step_denied;
static char step_reason[CHOS_REASON_MAX + 1];
/* The job's view, when this step pinned it: the directory and the job, for slurm_spank_exit. */
static char pin_dir[STEP_PATH_MAX];
static unsigned long pin_job;

/* Refuses the step: every task says why on the job's stderr and fails before it execs. */
static void refuse_step(const char *reason)
{
	step_denied = 1;
	snprintf(step_reason, sizeof(step_reason), "%s", reason);
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	spank_context_t where = spank_context();
	int r;

	if (where != S_CTX_LOCAL && where != S_CTX_ALLOCATOR && where != S_CTX_REMOTE)
		return 0;
	/* srun, sbatch and salloc refuse to submit on a typo; a step that still gets here (a
	 * node's plugstack differs) runs no task. */
	if ((r = chos_spank_init(sp, ac, av)) <= 0)
		return r;
	if (where != S_CTX_REMOTE)
		return -1;
	refuse_step("spank_chos's arguments are wrong (see the node's log)");
	return 0;
}

/* The one outcome line: pam_chos's fields (chos_session_describe) plus the job and step. */
static void log_outcome(const struct chos_session_result *res, const struct step_facts *f,
			const struct chos_log *log)
{
	/* The session's fields (a few hundred bytes) plus an error message, as pam_chos's. */
	char line[1024 + CHOS_ERROR_MAX];
	size_t n;

	chos_session_describe(res, f->user, line, sizeof(line));
	n = strlen(line);
	snprintf(line + n, sizeof(line) - n, " job=%lu step=%s", f->job.id, f->step);
	log->fn(log->userdata,
		res->failed != CHOS_STAGE_NONE	    ? LOG_ERR
		: res->outcome == CHOS_OUTCOME_DENY ? LOG_NOTICE
						    : LOG_INFO,
		line);
}

/* $CHOS for the tasks: the environment they run in, and none on the host. Left alone when the
 * job's environment already says so (a job submitted from a session in the same tree, the usual
 * case): slurmstepd's spank_setenv formats into a fresh 256 KiB buffer, about 0.1 ms a step. */
static void export_env(spank_t sp, const struct chos_session_result *res,
		       const struct step_facts *f)
{
	if (res->outcome == CHOS_OUTCOME_ENV) {
		if (!f->has_chos_env || strcmp(f->chos_env, res->env) != 0)
			spank_setenv(sp, "CHOS", res->env, 1);
	} else {
		spank_unsetenv(sp, "CHOS");
	}
}

/* Decides for the step and builds its view (chos_session_open with step_view). */
static int open_step(struct chos_session_args *a, const struct step_facts *f,
		     const struct chos_log *log, struct chos_session_result *res)
{
	a->session.request.option = chos_spank_option();
	a->session.request.process_env = f->has_chos_env ? f->chos_env : NULL;
	a->session.request.skip_file = 1;
	a->session.request.log = log;
	a->session.user = f->user;
	a->session.service = "slurm";
	a->session.job = &f->job;
	a->session.gids = f->has_gids ? &f->gids : NULL;
	a->session.view = &step_view;
	return chos_session_open(&a->session, res);
}

static const char *job_views(const struct chos_session_args *a)
{
	return a->session.job_views ? a->session.job_views : CHOS_JOB_VIEWS_DEFAULT;
}

/* A step's view, for the ssh sessions adopted into its job, when it is the job's first here. */
static void pin_view(const struct chos_session_args *a, const struct step_facts *f,
		     const struct chos_session_result *res, const struct chos_log *log)
{
	struct chos_error err = { 0 };
	int r = chos_job_view_pin(job_views(a), f->job.id, f->uid, res->env, &step_view, &err);

	if (r < 0) {
		log->fn(log->userdata, LOG_ERR, err.message);
	} else if (r > 0) {
		chos_log(log, LOG_DEBUG, "job %lu: view %s pinned for adopted ssh sessions",
			 f->job.id, res->env);
		snprintf(pin_dir, sizeof(pin_dir), "%s", job_views(a));
		pin_job = f->job.id;
	}
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	struct chos_session_args a;
	struct chos_error err = { 0 };
	struct chos_log log = { .fn = chos_spank_log };
	struct chos_session_result res;
	struct step_facts f;

	if (spank_context() != S_CTX_REMOTE || step_facts_is_extern(sp) || step_denied)
		return 0;
	if (chos_spank_parse(ac, av, &a) < 0)
		return -1;
	log.debug = a.debug;
	a.session.log = &log;
	/* Failing here (returning -1) would give srun only "Plugin initialization failed", and
	 * exit 0 with no task run: every refusal goes through refuse_step instead, so the tasks
	 * say why on the job's own stderr and fail before any exec. */
	if (step_facts_read(sp, &f, &err) < 0) {
		/* A fault like a policy's (a node whose NSS lost the user): on_error decides. */
		chos_session_fail_facts(&a.session, f.uid == 0, &err, &res);
	} else if (open_step(&a, &f, &log, &res) < 0) {
		chos_spank_log(NULL, LOG_ERR,
			       "step refused: the core refused the session's options");
		refuse_step("spank_chos could not open the session (see the node's log)");
		return 0;
	}
	log_outcome(&res, &f, &log);
	if (res.outcome == CHOS_OUTCOME_DENY) {
		refuse_step(res.reason);
		return 0;
	}
	snprintf(step_home, sizeof(step_home), "%s", f.home);
	export_env(sp, &res, &f);
	if (step_view.mntns >= 0)
		pin_view(&a, &f, &res, &log);
	return 0;
}

int slurm_spank_task_init_privileged(spank_t sp, int ac, char **av)
{
	struct chos_error err = { 0 };

	(void)sp, (void)ac, (void)av;
	if (step_denied) {
		/* fd 2 is the task's stderr here: srun's terminal, sbatch's output file. */
		dprintf(STDERR_FILENO, "chos: step refused: %s\n", step_reason);
		return -1;
	}
	if (step_view.mntns < 0)
		return 0;
	if (chos_view_enter(&step_view, step_home, &err) < 0) {
		/* Past the decision: the task must not run on a view nobody chose. */
		chos_spank_log(NULL, LOG_ERR, err.message);
		return -1;
	}
	return 0;
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
	struct chos_error err = { 0 };

	(void)sp, (void)ac, (void)av;
	/* The record first: it names this process's descriptor of the view. */
	if (pin_job && chos_job_view_unpin(pin_dir, pin_job, &err) < 0)
		chos_spank_log(NULL, LOG_ERR, err.message);
	chos_view_close(&step_view);
	return 0;
}
