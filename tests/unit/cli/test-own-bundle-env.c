/* SPDX-License-Identifier: Apache-2.0 */
/* Duplicate environment variables in process.env: the last one wins. */
#include <stdlib.h>
#include <string.h>

#include "own-bundle-env.h"
#include "tap.h"

/* process.env of CONFIG after the rule, as one compact JSON string */
static char *env_after(const char *config_text)
{
  json_auto_t *config = json_loads(config_text, JSON_ALLOW_NUL, NULL);
  if (config == NULL || own_bundle_env_last_wins(config) < 0)
    return strdup("error");
  json_t *env = json_object_get(json_object_get(config, "process"), "env");
  return env ? json_dumps(env, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("absent");
}

static void check(const char *config_text, const char *want, const char *what)
{
  char *got = env_after(config_text);
  TAP_IS_STR(got, want, "%s", what);
  free(got);
}

int main(void)
{
  /* what Slurm 22.05 writes: the image's list, then the job's environment */
  check("{\"process\":{\"env\":[\"PATH=/usr/bin:/bin\",\"TERM=xterm\",\"HOME=/root\","
        "\"PATH=/job/bin:/usr/bin\",\"SLURM_JOB_ID=7\",\"TERM=dumb\"]}}",
        "[\"HOME=/root\",\"PATH=/job/bin:/usr/bin\",\"SLURM_JOB_ID=7\",\"TERM=dumb\"]",
        "Slurm's appended environment: the last PATH and TERM win, once each");
  check("{\"process\":{\"env\":[\"A=1\",\"B=2\"]}}", "[\"A=1\",\"B=2\"]",
        "no duplicates: unchanged");
  check("{\"process\":{\"env\":[\"A=1\",\"A=\",\"AB=3\",\"A=x=y\"]}}", "[\"AB=3\",\"A=x=y\"]",
        "the name ends at the first '=': A and AB differ, A=x=y is A");
  check("{\"process\":{\"env\":[\"NOEQ\",\"NOEQ=1\",\"NOEQ\"]}}", "[\"NOEQ\"]",
        "an entry without '=' counts as its whole name");
  check("{\"process\":{\"env\":[\"A\\u0000B=1\",\"A=2\",\"A\\u0000B=3\"]}}",
        "[\"A=2\",\"A\\u0000B=3\"]", "a name holding a NUL is its own name");
  check("{\"process\":{\"env\":[\"A=1\",7,\"A=2\",null]}}", "[7,\"A=2\",null]",
        "entries that are not strings stay for the runtime to refuse");
  check("{\"process\":{\"env\":\"A=1\"}}", "\"A=1\"", "env that is not an array: untouched");
  check("{\"process\":{}}", "absent", "no env: nothing added");
  return tap_done();
}
