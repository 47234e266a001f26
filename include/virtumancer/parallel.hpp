// Runs fn(0) .. fn(n-1) on up to `threads` threads (the caller's among them), each taking the
// next index; returns when all are done and rethrows the first exception any of them threw.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace virtumancer {

template <class Fn> void parallel_for(size_t n, size_t threads, Fn&& fn) {
    threads = std::min(std::max<size_t>(threads, 1), n);
    if (threads <= 1) {
        for (size_t i = 0; i < n; ++i) fn(i);
        return;
    }
    std::atomic<size_t> next{0};
    std::exception_ptr first;
    std::mutex mu;
    auto worker = [&] {
        for (size_t i; (i = next.fetch_add(1)) < n;) {
            try {
                fn(i);
            } catch (...) { // safe: the first one is rethrown once every worker is joined
                std::lock_guard<std::mutex> lock(mu);
                if (!first) first = std::current_exception();
            }
        }
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (first) std::rethrow_exception(first);
}

} // namespace virtumancer
