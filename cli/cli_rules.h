/* cli_rules: `minyi rules check|test|eval|learn|reload`. */
#ifndef MINYI_CLI_RULES_H
#define MINYI_CLI_RULES_H

struct config;
struct bus;

/* Run `minyi rules SUB ...`; argv[0] is "rules".  Prints results on stdout,
 * errors as "minyi: WHAT: WHY" on stderr.  Returns the exit status of
 * SPEC.md: 0 done, 1 failed/refused, 2 usage, 3 no answer in time. */
int cli_rules(int argc, char **argv, const struct config *cfg, struct bus *bus);

#endif
