// Stop signals: the first SIGINT/SIGTERM sets a flag that the run controller polls (between steps
// and between the pieces of whole-dataset passes), so the run stops at a safe point, writes a
// checkpoint and exits. A second one exits at once with 128 + signal: checkpoints are written
// atomically, so the last complete one stays on disk. (Swift 6 forbids mutable C globals in
// Swift, hence these accessors.)
#include "csupport.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal = 0;

static void record_stop(int sig) {
    if (stop_signal != 0) {
        static const char msg[] = "\nsecond stop signal: exiting at once; the last complete checkpoint is kept\n";
        ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)ignored;
        _exit(128 + sig);
    }
    stop_signal = sig;
    static const char msg[] = "\nstop requested: stopping at the next safe point (a second signal exits at once)\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
}

void cs_install_stop_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = record_stop;
    // Interrupted system calls resume: the stop is acted on by polling, never by a failed call.
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cs_stop_signal(void) { return stop_signal; }
