/* SPDX-License-Identifier: BSD-3-Clause
 * A job's view, pinned for the ssh sessions pam_slurm_adopt adopts into the job (README.md,
 * "Slurm"). The job's first step on the node to build a view (the batch script, or an srun
 * step) writes DIR/JOB.rec (DIR: default CHOS_JOB_VIEWS_DEFAULT; root's, 0700):
 *
 *   uid= env= backend= tree=   whose view it is, and what it is
 *   pid= fd= ns=               where it is: the step's slurmstepd, its descriptor of the view
 *                              (which it holds until it exits), the namespace's inode
 *
 * written to a temporary name and renamed, and removes it when it exits: the batch step lives
 * as long as the job. Steps that start while it is pinned leave it; a record whose step is gone
 * (killed before it removed it) is replaced. Not the extern step (PrologFlags=contain), which
 * pam_slurm_adopt adopts sessions into: Slurm 22.05 gives it neither the job's options (--chos)
 * nor its environment ($CHOS), so its decision would not be the job's, and it may start after
 * the batch step (slurmd launches both at once).
 *
 * pam_chos finds the job of a session from the process's own cgroup: pam_slurm_adopt moved it
 * into proctrack/cgroup's freezer:/slurm[_NODE]/uid_UID/job_JOB/step_extern, which only root
 * can do, before the session opens (sshd runs the account stack first), and the user cannot
 * move a root process. The cgroup's uid must be the session's user; the record's uid must be
 * that uid too; the record must be root's, in a directory that passes the trust rule; the
 * descriptor must be a root process's and a mount namespace of the recorded inode. On a host
 * with several slurmd (multiple-slurmd), a job on two of its nodes has one pin there. A
 * slurmd in a PID namespace of its own records pids sshd cannot see: no view, the usual
 * decision. */
#pragma once
#include <sys/types.h>
#include "apply/view.h"
#include "common/error.h"
#include "facts/catalogue.h"

struct chos_job_pin {
	unsigned long job;
	uid_t uid;
	char env[CHOS_NAME_MAX + 1];
	struct chos_view view; /* mntns open O_CLOEXEC; backend and tree from the record */
};

/* A step: pins VIEW (prepared, KMOD or NAMESPACE; the caller keeps view->mntns open until it
 * unpins) of ENV for UID as JOB's. Creates DIR (0700) and its parent (0755) when missing.
 * Returns 1 when it did, 0 when another step of the job pinned its view already, or -errno. */
int chos_job_view_pin(const char *dir, unsigned long job, uid_t uid, const char *env,
		      const struct chos_view *view, struct chos_error *err);
/* The pinning step's exit: removes JOB's record. Returns 0 or -errno. */
int chos_job_view_unpin(const char *dir, unsigned long job, struct chos_error *err);
/* The pinned view of the job whose extern step holds the calling process, for UID. Returns 0
 * with *pin filled (close pin->view), -ENOENT when there is none to enter (DIR does not exist,
 * the process is in no extern step, or in another uid's, or the job pinned no view; err says
 * which), or another
 * -errno when the pin is there but refused: untrusted, malformed, another uid's record, a
 * descriptor that is not the recorded view. */
int chos_job_view_of_self(const char *dir, uid_t uid, struct chos_job_pin *pin,
			  struct chos_error *err);
