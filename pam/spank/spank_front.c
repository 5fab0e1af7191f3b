/* SPDX-License-Identifier: BSD-3-Clause
 * spank_chos.so, the plugin plugstack.conf names: a front that srun, sbatch and salloc load for
 * --chos alone, and that slurmstepd uses to load the step plugin, spank_chos_step.so
 * (spank_chos.c: the core and its QuickJS, 4.4 MB). Loading that costs about 0.13 ms, which every
 * srun would pay for code only slurmstepd runs (bench:slurm).
 *
 *   srun, sbatch, salloc (local, allocator): register --chos and check the arguments with the
 *       core's parser (spank_args.c), as the step plugin does
 *   slurmstepd (remote): loads the step plugin from this file's own directory, after the trust
 *       rule (trust.h: root-owned, and neither it nor a directory above it writable by group or
 *       others), since slurmstepd runs it as root; then every callback is the step plugin's.
 *       One that cannot be loaded fails every task of the step with the reason, as a refusal
 *       does; nothing runs outside the tree the policy would pick.
 * Any other context (slurmd, job scripts' prolog) does nothing, as the step plugin does. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <slurm/spank.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include "common/trust.h"
#include "spank_args.h"

SPANK_PLUGIN(chos, 1);

#define STEP_PLUGIN "spank_chos_step.so"

typedef int step_callback(spank_t sp, int ac, char **av);

/* The step plugin's callbacks, once loaded (remote context only). */
static struct {
	step_callback *init, *init_post_opt, *task_init_privileged, *exit;
} step;
static char step_failure[CHOS_ERROR_MAX + 64];

/* The step plugin's path: beside this file. 0, or -1 with the reason in step_failure. */
static int step_path(char *out, size_t size)
{
	char self[4096];
	Dl_info info;

	/* A static object's address: an exported name could be another plugin's (interposed). */
	if (!dladdr((void *)&step, &info) || !info.dli_fname ||
	    snprintf(self, sizeof(self), "%s", info.dli_fname) >= (int)sizeof(self) ||
	    snprintf(out, size, "%s/%s", dirname(self), STEP_PLUGIN) >= (int)size) {
		snprintf(step_failure, sizeof(step_failure), "cannot tell where %s is",
			 STEP_PLUGIN);
		return -1;
	}
	return 0;
}

/* Loads the step plugin: 0, or -1 with the reason in step_failure (and logged). */
static int load_step(void)
{
	struct chos_error err = { 0 };
	char path[4096], fdpath[64];
	void *handle = NULL;
	int fd = -1;

	if (step_path(path, sizeof(path)) == 0 && (fd = chos_open_trusted(path, 0, &err)) < 0)
		snprintf(step_failure, sizeof(step_failure), "%s", err.message);
	if (fd >= 0) {
		/* The file judged is the file loaded: by its descriptor, not its name again. */
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
		if (!(handle = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL)))
			snprintf(step_failure, sizeof(step_failure), "%.400s: %s", path, dlerror());
		close(fd);
	}
	if (handle &&
	    (!(step.init = (step_callback *)dlsym(handle, "slurm_spank_init")) ||
	     !(step.init_post_opt = (step_callback *)dlsym(handle, "slurm_spank_init_post_opt")) ||
	     !(step.task_init_privileged =
		       (step_callback *)dlsym(handle, "slurm_spank_task_init_privileged")) ||
	     !(step.exit = (step_callback *)dlsym(handle, "slurm_spank_exit")))) {
		snprintf(step_failure, sizeof(step_failure), "%.400s: not chos's step plugin",
			 path);
		step.init = NULL; /* the handle stays: nothing of it runs */
	}
	if (step.init)
		return 0;
	chos_spank_log(NULL, LOG_ERR, step_failure);
	return -1;
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	spank_context_t where = spank_context();

	if (where == S_CTX_REMOTE)
		return load_step() == 0 ? step.init(sp, ac, av) : 0;
	if (where != S_CTX_LOCAL && where != S_CTX_ALLOCATOR)
		return 0;
	return chos_spank_init(sp, ac, av) == 0 ? 0 : -1;
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	return step.init ? step.init_post_opt(sp, ac, av) : 0;
}

int slurm_spank_task_init_privileged(spank_t sp, int ac, char **av)
{
	if (step.init)
		return step.task_init_privileged(sp, ac, av);
	if (spank_context() != S_CTX_REMOTE)
		return 0;
	/* fd 2 is the task's stderr here: srun's terminal, sbatch's output file. */
	dprintf(STDERR_FILENO,
		"chos: step refused: spank_chos could not load its step plugin: %s\n",
		step_failure);
	return -1;
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
	return step.init ? step.exit(sp, ac, av) : 0;
}
