// Stop signals: SIGINT/SIGTERM set a flag that the training loop polls between steps, so the step
// in flight finishes, a checkpoint is written, and the process exits 0. (Swift 6 forbids mutable C
// globals in Swift, hence these accessors.)
#include "csupport.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t stop_signal = 0;

static void record_stop(int sig) { stop_signal = sig; }

void cs_install_stop_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = record_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cs_stop_signal(void) { return stop_signal; }
