// SIGINT/SIGTERM: a thread of our own waits for them (no work in a signal handler). Until a
// command says it can stop cleanly (Finish), the first signal prints one line, runs the
// registered cleanup and exits with 130. In Finish mode the first signal only raises a flag
// the command polls (interrupt_signal()); a second signal exits at once, after the cleanup.
#pragma once
#include <functional>
#include <string>

namespace virtumancer {

constexpr int kExitInterrupted = 130; // 128 + SIGINT, as shells report it

enum class InterruptMode { Exit, Finish };

// Blocks SIGINT and SIGTERM in the calling thread (and so in every thread it starts later)
// and starts the thread that waits for them. Call first thing in main, before any thread.
void install_interrupt_handling();

// The first SIGINT/SIGTERM received (0: none yet). Safe from any thread.
int interrupt_signal();
// "SIGINT", "SIGTERM" (or "signal N").
std::string signal_name(int sig);

// What the first signal does (default Exit).
void set_interrupt_mode(InterruptMode mode);
// Appended to the one-line message printed on an immediate exit ("interrupted by SIGINT; " +
// note). Empty: "nothing more was done".
void set_interrupt_note(const std::string& note);
// Run (on the waiting thread) before an immediate exit, e.g. releasing the apply lock through
// a connection of its own; `what` is added to the exit message when it succeeded ("the apply
// lock was released"). Pass {} to clear.
void set_interrupt_cleanup(std::function<void()> cleanup, const std::string& what = {});

// Tests: behave as if `sig` was received (0 clears) without exiting.
void set_interrupt_signal_for_test(int sig);

} // namespace virtumancer
