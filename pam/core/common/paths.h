/* SPDX-License-Identifier: BSD-3-Clause
 * The site's default paths, defined once: what pam_chos, `chos` and `chos setup` use when no
 * argument or option names another. README.md and pam_chos(8) document the same values. */
#pragma once

#define CHOS_CATALOGUE_DEFAULT "/etc/chos"
#define CHOS_POLICY_DEFAULT "/etc/chos.d/policy.js"
#define CHOS_ROOT_DEFAULT "/chos"
/* Where spank_chos pins each job's view for ssh sessions adopted into the job (jobview.h). */
#define CHOS_JOB_VIEWS_DEFAULT "/run/chos/jobs"
/* The seed's bind list (BINDMOUNT=...), read by `chos setup`. */
#define CHOS_SYSCONFIG_DEFAULT "/etc/sysconfig/chos"
