/* SPDX-License-Identifier: Apache-2.0 */
/* Without libFuzzer (gcc builds), run a harness over the files and
 * directories named on the command line: the seed corpora become a
 * regression test under the sanitizers.  Prints TAP. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
  FILE *f = fopen(path, "rbe");
  if (f == NULL)
    return -1;
  size_t cap = 1 << 16, len = 0;
  uint8_t *buf = malloc(cap);
  size_t n;
  while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
    len += n;
    if (len == cap) {
      uint8_t *nb = realloc(buf, cap *= 2);
      if (nb == NULL) {
        free(buf);
        buf = NULL;
      } else {
        buf = nb;
      }
    }
  }
  fclose(f);
  if (buf == NULL)
    return -1;
  LLVMFuzzerTestOneInput(buf, len);
  free(buf);
  return 0;
}

int main(int argc, char **argv)
{
  int n = 0, failed = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) < 0)
      continue;
    if (!S_ISDIR(st.st_mode)) {
      int r = run_file(argv[i]);
      printf("%s %d - %s\n", r == 0 ? "ok" : "not ok", ++n, argv[i]);
      failed += r != 0;
      continue;
    }
    DIR *d = opendir(argv[i]);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.')
        continue;
      char path[4096];
      snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
      if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        continue;
      int r = run_file(path);
      printf("%s %d - %s\n", r == 0 ? "ok" : "not ok", ++n, path);
      failed += r != 0;
    }
    if (d)
      closedir(d);
  }
  printf("1..%d\n", n);
  return failed ? 1 : 0;
}
