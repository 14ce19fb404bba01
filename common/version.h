/* version: the version every minyi program prints for --version.  It comes
 * from the Makefile (MINYI_VERSION, by default `git describe` or the base
 * version written there), compiled into version.c alone, so a new commit
 * rebuilds one file. */
#ifndef MINYI_VERSION_H
#define MINYI_VERSION_H
#include <stdio.h>

/* The version string, e.g. "1.0.0+g6a0a1b7" (static; never NULL). */
const char *version_string(void);

/* Print "PROGRAM VERSION\n" on f (the whole --version output). */
void version_print(FILE *f, const char *program);

#endif
