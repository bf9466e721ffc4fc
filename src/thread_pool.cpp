#include <aio/threads.hpp>

#include <aio/log.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace aio {

struct thread_pool::impl {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<detail::callback> jobs;
  std::vector<std::thread> workers;
  bool stopping = false;

  void work() {
    for (;;) {
      detail::callback job;
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [this] { return stopping || !jobs.empty(); });
        if (jobs.empty()) return;  // stopping and drained
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      // Jobs made by aio catch their own exceptions; a raw submit() must too.
      try {
        job();
      } catch (...) {
        log("aio: exception escaped a thread_pool job; it is dropped");
      }
    }
  }
};

thread_pool::thread_pool(std::size_t threads) : impl_(std::make_unique<impl>()) {
  if (threads == 0) threads = std::min<std::size_t>(32, std::thread::hardware_concurrency() + 4);
  impl_->workers.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) impl_->workers.emplace_back([p = impl_.get()] { p->work(); });
}

thread_pool::~thread_pool() { shutdown(true); }

void thread_pool::submit(detail::callback job) {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->stopping)
      throw invalid_state_error("aio::thread_pool::submit() after shutdown(): the pool accepts no more work");
    impl_->jobs.push_back(std::move(job));
  }
  impl_->wake.notify_one();
}

void thread_pool::shutdown(bool wait) {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  for (auto& w : impl_->workers) {
    if (!w.joinable()) continue;
    if (wait) w.join();
    else w.detach();
  }
}

std::size_t thread_pool::size() const noexcept { return impl_->workers.size(); }

}  // namespace aio
