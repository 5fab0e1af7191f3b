/* SPDX-License-Identifier: BSD-3-Clause
 * What both halves of the Slurm plugin do alike (spank_args.c): register --chos, check the
 * plugstack arguments with the core's parser, and log. The front (spank_front.c, what srun,
 * sbatch and salloc load) and the step plugin (spank_chos.c, what slurmstepd runs) each link
 * their own copy, so each keeps its own --chos value. */
#pragma once
#include <slurm/spank.h>
#include "session_args.h"

/* --chos's value as slurmstepd hands it to the option's callback (remote context only): longer
 * than a name and its NUL is cut at CHOS_NAME_MAX + 1 bytes, which the core's name check then
 * refuses, as at login. NULL when not given. */
const char *chos_spank_option(void);

/* The core's lines (rejected requests, console.log, debug) and the plugin's own: syslog
 * (authpriv) and slurmd's log. A chos_log callback. */
void chos_spank_log(void *userdata, int priority, const char *line);

/* The plugstack arguments into a: 0, or -1 with the reason logged. */
int chos_spank_parse(int ac, char **av, struct chos_session_args *a);

/* slurm_spank_init's common part: registers --chos (for srun, sbatch and salloc, and the
 * remote side that receives it) and checks the arguments. 0; -1 when the option could not be
 * registered; 1 when the arguments are wrong (logged): a typo must not weaken the set-up. */
int chos_spank_init(spank_t sp, int ac, char **av);
