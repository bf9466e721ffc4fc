// docs/pitfalls-cpp.md: references across co_await, and tasks that outlive
// what they point to — the correct forms, and what aio says about the
// mistakes it can see. On virtual time.

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/task_group.hpp>
#include <aio/tasks.hpp>
#include <aio/testing.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

// [reference_param]
// A reference parameter is fine when the caller awaits the task right away:
// the caller's frame, and `text` in it, outlives the await.
aio::task<std::size_t> count_words(const std::string& text) {
  co_await aio::sleep(10ms);  // `text` is still the caller's string here
  std::size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    if (c != ' ' && !in_word) ++words;
    in_word = c != ' ';
  }
  co_return words;
}

// ❌ Compiled here, never called: the temporary std::string made for the
// parameter dies at the end of this statement; the task runs later.
aio::future<std::size_t> count_words_later_wrong() { return aio::create_task(count_words("one two three")); }

// ✅ A task that may run later takes its data by value.
aio::task<void> log_later(std::string message, aio::duration delay) {
  co_await aio::sleep(delay);
  std::printf("log: %s\n", message.c_str());
}
// [/reference_param]

// [container]
// Another task may change a container while this one is suspended: an
// iterator or reference into it can dangle after any co_await.
aio::task<void> add_later(std::vector<std::string>* names, std::string name) {
  co_await aio::sleep(5ms);
  names->push_back(std::move(name));  // may reallocate the vector
}

aio::task<void> greet_all(std::vector<std::string>* names) {
  // ❌ for (const std::string& n : *names) { co_await ...; use n; } — the
  // push_back above may move the elements away under the loop.
  // ✅ Index, and re-read the element after each await (or copy it first).
  for (std::size_t i = 0; i < names->size(); ++i) {
    co_await aio::sleep(4ms);
    std::printf("hello %s\n", (*names)[i].c_str());
  }
}
// [/container]

// [outlive]
struct stats {
  int requests = 0;
};

aio::task<void> count_requests(stats* s, int n) {
  for (int i = 0; i < n; ++i) {
    co_await aio::sleep(1s);
    ++s->requests;
  }
}

// ✅ The children are awaited before `s` goes out of scope: with_task_group
// (or gather) does not return before every task it started has finished.
aio::task<void> start_counters(aio::task_group& group, stats* s) {
  group.create_task(count_requests(s, 2));
  group.create_task(count_requests(s, 3));
  co_return;
}

aio::task<void> structured() {
  stats s;
  co_await aio::with_task_group(start_counters, &s);
  std::printf("structured: %d requests counted\n", s.requests);
}

// ✅ A task that must outlive its creator shares ownership of its state.
aio::task<void> count_shared(std::shared_ptr<stats> s, int n) { co_await count_requests(s.get(), n); }
// [/outlive]

// [await_once]
aio::task<int> answer() { co_return 42; }

aio::task<void> await_twice() {
  aio::task<int> t = answer();
  int first = co_await t;  // awaiting consumes the task, even an lvalue
  try {
    int again = co_await t;
    std::printf("unexpected: %d\n", again);
  } catch (const aio::invalid_state_error& e) {
    std::printf("first: %d; second await: %s\n", first, e.what());
  }
}
// [/await_once]

// [forgotten_task]
// ❌ A test that starts a task and returns without awaiting it. This task
// shares ownership of its state, so nothing dangles; given `&local` instead,
// it would point into a dead frame. aio::testing reports it either way.
aio::task<void> test_leaves_a_task_behind() {
  auto s = std::make_shared<stats>();  // shared, so the leftover task is harmless here
  aio::future<void> counting = aio::create_task(count_shared(s, 10), "counter");
  co_await aio::sleep(1500ms);
}
// [/forgotten_task]

aio::task<void> references() {
  std::string text = "the quick brown fox";
  std::size_t words = co_await count_words(text);
  std::printf("%zu words\n", words);
  aio::future<void> later = aio::create_task(log_later("written after a second", 1s));
  co_await later;
}

aio::task<void> containers() {
  std::vector<std::string> names{"Ada", "Grace"};
  co_await aio::gather(greet_all(&names), add_later(&names, "Linus"));
}

int main() {
  aio::run(references(), aio::virtual_time);
  aio::run(containers(), aio::virtual_time);
  aio::run(structured(), aio::virtual_time);
  aio::run(await_twice(), aio::virtual_time);
  try {
    aio::testing::run(test_leaves_a_task_behind());
  } catch (const aio::testing::test_failure& e) {
    std::printf("%s\n", e.what());
  }
}
