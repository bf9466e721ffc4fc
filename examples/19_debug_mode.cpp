// 19 — Debug mode: each pitfall triggered, and what aio says about it.
//
// asyncio's debug mode (asyncio.run(main(), debug=True), loop.set_debug(True)
// or PYTHONASYNCIODEBUG=1) turns silent mistakes into log messages. aio's is
// the same switch: loop.set_debug(true), or AIO_DEBUG=1 in the environment for
// every loop the program makes (try `AIO_DEBUG=1 build/examples/12_pitfalls`).
// This program triggers each mistake once, one event loop per section so that
// each report lands under its heading:
//   1. a blocking call inside a coroutine  -> the slow-step report;
//   2. a task that is never awaited         -> "coroutine ... was never awaited";
//   3. a failed task nobody looks at        -> "exception was never retrieved";
//   4. an exception escaping the loop       -> the async chain it crossed;
//   5. a deadlock                           -> aio::deadlock_error;
//   6. where is every task stuck?           -> aio::dump_tasks.
//
// aio reports through aio::log, whose default handler writes to stderr (as
// asyncio's "asyncio" logger does). main() installs a handler that prints each
// report to stdout marked "[aio log]", so that you see it where it happens.
// The source locations in the reports are the compiler's (__FILE__): this
// example is built with -fmacro-prefix-map so that they read
// examples/19_debug_mode.cpp, and with AIO_ASYNC_STACKS=1 so that they name the
// line of each co_await in release builds too (examples/CMakeLists.txt).

#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/locks.hpp>
#include <aio/log.hpp>
#include <aio/queues.hpp>
#include <aio/tasks.hpp>
#include <aio/threads.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

using namespace std::chrono_literals;

// --- 1. Blocking the event loop ------------------------------------------------

std::string read_sensor() {
  std::this_thread::sleep_for(150ms);  // a blocking call: a C library, a disk, a lock
  return "21.5 C";
}

// [blocking]
aio::task<std::string> poll_sensor() {
  co_await aio::sleep(10ms);
  co_return read_sensor();  // ❌ 150 ms on the loop's thread: every other task waits
}

aio::task<std::string> poll_sensor_on_a_thread() {
  co_await aio::sleep(10ms);
  co_return co_await aio::to_thread(read_sensor);  // ✅ the loop runs on meanwhile
}
// [/blocking]

aio::task<void> blocking_main() {
  aio::future<std::string> bad = aio::create_task(poll_sensor(), "sensor");
  std::string value = co_await bad;
  std::printf("  blocking:  read %s\n", value.c_str());
  aio::future<std::string> good = aio::create_task(poll_sensor_on_a_thread(), "sensor-thread");
  value = co_await good;
  std::printf("  to_thread: read %s (no report)\n", value.c_str());
}

// asyncio: "Executing <Task pending name='sensor' coro=<poll_sensor() running
// at demo.py:12> ...> took 0.150 seconds". aio names the same three things: the
// task, where it was created (create_task's caller, kept in debug mode only)
// and the coroutine with the await that step resumed from: the blocking call
// is between that await and the next one. Steps of 0.1 s or less pass
// (loop.slow_callback_duration).
void section_blocking() {
  std::printf("1. A blocking call inside a coroutine\n");
  aio::event_loop loop;
  loop.set_debug(true);
  loop.run_until_complete(blocking_main());
}

// --- 2. Forgetting to await ----------------------------------------------------

// [never_awaited]
aio::task<int> count_users() { co_return 42; }

aio::task<void> forgetful_main() {
  auto users = count_users();  // ❌ a task, not the count; its body never runs
  std::printf("  made the task, never awaited it\n");
  co_return;
}  // `users` is destroyed here: debug mode reports it
// [/never_awaited]

// asyncio warns "RuntimeWarning: coroutine 'count_users' was never awaited"
// even without debug mode, when the coroutine object is garbage-collected. In
// C++ the compiler catches the plain statement `count_users();` ([[nodiscard]],
// see 12_pitfalls); a task kept in a variable and dropped compiles, and debug
// mode reports it when it is destroyed, naming the coroutine (the line g++
// gives a coroutine's own frame is its closing brace).
void section_never_awaited() {
  std::printf("2. A task that is never awaited\n");
  aio::event_loop loop;
  loop.set_debug(true);
  loop.run_until_complete(forgetful_main());
}

// --- 3. An exception nobody retrieves ------------------------------------------

// [unretrieved]
aio::task<void> send_welcome_mail() {
  co_await aio::sleep(10ms);
  throw std::runtime_error("SMTP server refused the connection");
}

aio::task<void> fire_and_forget_main() {
  aio::future<void> mail = aio::create_task(send_welcome_mail(), "mailer");
  co_await aio::sleep(50ms);  // ❌ the task fails meanwhile; nobody awaits `mail`
  std::printf("  done, without looking at the mailer\n");
}  // the last handle on the failed task goes: "exception was never retrieved"
// [/unretrieved]

// asyncio's "Task exception was never retrieved", logged when the failed
// task is garbage-collected; aio logs it when the last future<T> handle on the
// failed task is destroyed. This one needs no debug mode: it is always on, so
// this section runs with debug mode off.
void section_unretrieved() {
  std::printf("3. A failed task whose exception nobody retrieves (debug mode off)\n");
  aio::event_loop loop;
  loop.set_debug(false);
  loop.run_until_complete(fire_and_forget_main());
}

// --- 4. An exception escaping the loop -----------------------------------------

// [escaping]
aio::task<std::string> read_config() {
  co_await aio::sleep(10ms);
  throw std::runtime_error("config.toml: no such file");
}

aio::task<std::string> load_settings() {
  std::string text = co_await read_config();
  co_return text;
}

aio::task<void> service_main() {
  aio::future<std::string> settings = aio::create_task(load_settings(), "settings");
  std::string text = co_await settings;
  std::printf("  settings: %s\n", text.c_str());
}
// [/escaping]

// Python prints a traceback through every coroutine the exception left. A C++
// exception carries no trace: main's catch sees only what(). So in debug mode
// the loop logs the chain of coroutines the exception travelled through,
// across task boundaries ('settings' -> 'main'), each at the last co_await
// it had reached (not the throw's line).
void section_escaping() {
  std::printf("4. An exception escaping run_until_complete\n");
  aio::event_loop loop;
  loop.set_debug(true);
  try {
    loop.run_until_complete(service_main());
  } catch (const std::exception& e) {
    std::printf("  main() caught: %s\n", e.what());
  }
}

// --- 5. A deadlock -------------------------------------------------------------

// [deadlock]
aio::task<void> consumer(aio::queue<std::string>* orders) {
  std::string order = co_await orders->get();  // nobody will ever put anything
  std::printf("  shipping %s\n", order.c_str());
}

aio::task<void> shop_main(aio::queue<std::string>* orders) {
  aio::future<void> shipping = aio::create_task(consumer(orders), "consumer");
  // ❌ forgot to start the producer
  co_await shipping;
}
// [/deadlock]

// asyncio would hang here forever. aio's loop sees that nothing is ready, no
// timer is armed and no I/O or thread could wake anyone, and throws
// aio::deadlock_error naming every task and what it waits on (debug mode or
// not). The tasks are then still pending: closing the loop destroys them, and
// says so (asyncio's "Task was destroyed but it is pending!").
void section_deadlock() {
  std::printf("5. A deadlock: a consumer waiting on a queue nobody fills\n");
  aio::queue<std::string> orders;  // outlives the loop and its tasks
  aio::event_loop loop;
  loop.set_debug(true);
  try {
    loop.run_until_complete(shop_main(&orders));
  } catch (const aio::deadlock_error& e) {
    std::printf("  aio::deadlock_error: %s\n", e.what());
  }
  loop.close();
}

// --- 6. Where is every task? ---------------------------------------------------

// [dump]
aio::task<int> next_order(aio::queue<int>& orders) {
  int order = co_await orders.get();
  co_return order;
}

aio::task<void> order_worker(aio::queue<int>* orders) {
  for (;;) {
    int order = co_await next_order(*orders);
    std::printf("  worker: order %d\n", order);
  }
}

aio::task<void> heartbeat() {
  for (;;) co_await aio::sleep(1s);
}

aio::task<void> ledger_writer(aio::lock* ledger) {
  aio::lock::guard held = co_await ledger->acquire();
  std::printf("  ledger: written\n");
}

aio::task<void> busy_main() {
  aio::queue<int> orders;
  aio::lock ledger;
  aio::lock::guard held = co_await ledger.acquire();  // main holds the ledger for now
  aio::future<void> worker = aio::create_task(order_worker(&orders), "worker");
  aio::future<void> beat = aio::create_task(heartbeat(), "heartbeat");
  aio::future<void> writer = aio::create_task(ledger_writer(&ledger), "ledger");
  orders.put_nowait(1);
  co_await aio::sleep(20ms);  // everyone reaches the await they will wait at

  aio::dump_tasks(std::cout);  // or from a signal handler, in a server

  held.release();                        // the ledger writer runs
  co_await writer;
  worker.cancel();
  beat.cancel();
  co_await aio::gather_settled(worker, beat);
}
// [/dump]

// asyncio.all_tasks() and Task.print_stack() (or `python -m asyncio pstree`
// in 3.14): each pending task, what it waits on, and its async stack — the
// chain of coroutines it is suspended in, each at its co_await. "created at"
// appears in debug mode only.
void section_dump() {
  std::printf("6. aio::dump_tasks: what every task waits on\n");
  aio::event_loop loop;
  loop.set_debug(true);
  loop.run_until_complete(busy_main());
}

// [main]
int main() {
  // Each report, line by line, on stdout and marked.
  aio::set_log_handler([](std::string_view message) {
    for (std::size_t start = 0; start <= message.size();) {
      std::size_t end = message.find('\n', start);
      if (end == std::string_view::npos) end = message.size();
      std::string_view line = message.substr(start, end - start);
      std::printf("  [aio log] %.*s\n", static_cast<int>(line.size()), line.data());
      start = end + 1;
    }
  });
  section_blocking();
  section_never_awaited();
  section_unretrieved();
  section_escaping();
  section_deadlock();
  section_dump();
}
// [/main]
