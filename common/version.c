/* version.c: the version string, from the generated version_gen.h (see the
 * Makefile's MINYI_VERSION), and the one --version line. */
#include "version.h"
#include "version_gen.h"

const char *version_string(void)
{
    return MINYI_VERSION;
}

void version_print(FILE *f, const char *program)
{
    fprintf(f, "%s %s\n", program, MINYI_VERSION);
}
