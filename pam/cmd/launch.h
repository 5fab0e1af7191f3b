/* SPDX-License-Identifier: BSD-3-Clause
 * Starting the command in the tree just entered. The environment passed on is the caller's,
 * filtered by the tree's /etc/chos.conf %ENV list (envlist.h), plus CHOS=NAME. */
#pragma once

/* Executes FILE (searched in PATH when it has no '/') with ARGV; never returns on success.
 * SET (NULL or NAME, VALUE, NAME, VALUE..., NULL) is set after the filter, whatever it says.
 * Returns the exit status to use on failure (127 not found, 126 not executable, 1 other),
 * after printing why. */
int chos_cmd_launch(const char *name, const char *file, char **argv, const char *const *set);
