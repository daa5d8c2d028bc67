/*
 * Minimal pod-sandbox "pause" process for the local test cluster
 * (hack/local-cluster.sh). Same contract as Kubernetes' build/pause:
 *   - sleeps forever holding the pod's namespaces;
 *   - as PID 1 of the pod, reaps every child that exits (SIGCHLD);
 *   - exits 0 on SIGINT/SIGTERM;
 *   - "pause -v" prints the version.
 * Built with: gcc -static -O2 -o pause pause.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERSION "3.10-kuo"

static void sigdown(int signo) {
  psignal(signo, "Shutting down, got signal");
  exit(0);
}

static void sigreap(int signo) {
  (void)signo;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

int main(int argc, char **argv) {
  struct sigaction sa;

  if (argc > 1 && (strcasecmp(argv[1], "-v") == 0 || strcasecmp(argv[1], "--version") == 0)) {
    printf("pause %s\n", VERSION);
    return 0;
  }
  if (getpid() != 1) {
    /* Not an error: the process still pauses, as upstream's does. */
    fprintf(stderr, "Warning: pause should be the first process\n");
  }

  memset(&sa, 0, sizeof(sa));
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = sigdown;
  if (sigaction(SIGINT, &sa, NULL) < 0) return 1;
  if (sigaction(SIGTERM, &sa, NULL) < 0) return 2;

  memset(&sa, 0, sizeof(sa));
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = sigreap;
  sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  if (sigaction(SIGCHLD, &sa, NULL) < 0) return 3;

  for (;;) pause();
  fprintf(stderr, "Error: infinite loop terminated\n");
  return 42;
}
