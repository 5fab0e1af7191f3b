/* SPDX-License-Identifier: BSD-3-Clause
 * The login and catalogue the policy fuzz targets evaluate against (login_fixture.c): alice in
 * users and physics on node n12 over sshd, and a catalogue of `default` and `sl5`. */
#ifndef CHOS_FUZZ_LOGIN_FIXTURE_H
#define CHOS_FUZZ_LOGIN_FIXTURE_H

#include "facts/catalogue.h"
#include "facts/context.h"

extern const struct chos_catalogue fuzz_catalogue;
extern const struct chos_context fuzz_login;

#endif
