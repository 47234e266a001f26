#include "virtumancer/interrupt.hpp"

#include <atomic>
#include <csignal>
#include <cstring>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <unistd.h>

namespace virtumancer {
namespace {

std::atomic<int> g_signal{0};
std::mutex g_mu; // guards the four below
InterruptMode g_mode = InterruptMode::Exit;
std::string g_note;
std::function<void()> g_cleanup;
std::string g_cleanup_done;

void say(const std::string& line) {
    std::string s = line + "\n";
    // stderr, unbuffered: the main thread's std::cout buffer may be mid-write
    ssize_t n = ::write(STDERR_FILENO, s.data(), s.size());
    (void)n;
}

[[noreturn]] void exit_now(int sig, bool second) {
    std::function<void()> cleanup;
    std::string note, done;
    {
        std::lock_guard<std::mutex> lock(g_mu);
        cleanup = g_cleanup;
        note = g_note;
        done = g_cleanup_done;
    }
    std::string line = second ? "virtumancer: " + signal_name(sig) + " again: exiting at once"
                              : "virtumancer: interrupted by " + signal_name(sig) + "; " +
                                    (note.empty() ? "nothing more was done" : note);
    if (cleanup) {
        try {
            cleanup();
            line += "; " + done;
        } catch (const std::exception& e) {
            line += "; could not finish cleaning up (" + done + "): " + e.what();
        } catch (...) { // safe: reported on the line below; the process must still reach _exit
            line += "; could not finish cleaning up (" + done + ")";
        }
    }
    say(line);
    ::_exit(kExitInterrupted);
}

void wait_for_signals(sigset_t set) {
    int received = 0;
    while (true) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        ++received;
        if (received == 1) {
            g_signal.store(sig);
            InterruptMode mode;
            {
                std::lock_guard<std::mutex> lock(g_mu);
                mode = g_mode;
            }
            if (mode == InterruptMode::Finish) {
                say("virtumancer: " + signal_name(sig) +
                    " received: no new step starts; steps running now finish or stop waiting "
                    "(press Ctrl-C again to exit at once)");
                continue;
            }
            exit_now(sig, false);
        }
        exit_now(sig, true);
    }
}

} // namespace

void install_interrupt_handling() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM}) {
        // Started with the signal ignored (a background job of a non-interactive shell,
        // nohup): keep ignoring it, as the default action would.
        struct sigaction old {};
        if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaddset(&set, sig);
    }
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread(wait_for_signals, set).detach();
}

int interrupt_signal() {
    return g_signal.load();
}

std::string signal_name(int sig) {
    if (sig == SIGINT) return "SIGINT";
    if (sig == SIGTERM) return "SIGTERM";
    return "signal " + std::to_string(sig);
}

void set_interrupt_mode(InterruptMode mode) {
    std::lock_guard<std::mutex> lock(g_mu);
    g_mode = mode;
}

void set_interrupt_note(const std::string& note) {
    std::lock_guard<std::mutex> lock(g_mu);
    g_note = note;
}

void set_interrupt_cleanup(std::function<void()> cleanup, const std::string& what) {
    std::lock_guard<std::mutex> lock(g_mu);
    g_cleanup = std::move(cleanup);
    g_cleanup_done = what;
}

void set_interrupt_signal_for_test(int sig) {
    g_signal.store(sig);
}

} // namespace virtumancer
