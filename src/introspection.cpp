// Looking at tasks from outside: current_task / all_tasks / dump_tasks, the
// async stack traces behind them, and the debug-mode reports that name a
// coroutine by where it is (a task never awaited, an exception escaping run).
//
// A suspended task's chain of coroutines is found without any bookkeeping on
// the hot path: the suspension it waits at holds the innermost coroutine's
// handle, and each coroutine's promise holds its awaiter (continuation()) and
// the line of its last co_await (await_transform).
#include <aio/event_loop.hpp>
#include <aio/future.hpp>
#include <aio/log.hpp>
#include <aio/tasks.hpp>

#include <algorithm>
#include <exception>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aio {
namespace detail {

// g++ names a function by its signature ("aio::task<int> {anonymous}::fetch(
// std::string)"), clang by its bare name ("fetch"): reports use the bare name.
std::string source_site::function() const {
  std::string_view s = function_signature();
  // g++'s template signatures end with " [with T = int]".
  if (const std::size_t with = s.find(" [with "); with != std::string_view::npos) s = s.substr(0, with);
  std::size_t end = s.size();
  // Drop the parameter list: the parenthesised group at the end.
  if (end > 0 && s[end - 1] == ')') {
    int depth = 0;
    for (std::size_t i = end; i-- > 0;) {
      if (s[i] == ')') ++depth;
      else if (s[i] == '(' && --depth == 0) {
        end = i;
        break;
      }
    }
  }
  // "operator()" itself (clang names a lambda's body so): its "()" is the name.
  if (s.substr(0, end).ends_with("operator") && s.substr(end, 2) == "()") end += 2;
  // The last qualified-name component outside template arguments and
  // parentheses: after the last space (the return type) or "::".
  std::size_t begin = 0;
  int depth = 0;
  for (std::size_t i = end; i-- > 0;) {
    const char c = s[i];
    if (c == '>' || c == ')') ++depth;
    else if (c == '<' || c == '(') --depth;
    else if (depth == 0 && (c == ' ' || (c == ':' && i > 0 && s[i - 1] == ':'))) {
      // "operator<" and friends contain a '<' that opens nothing; they are rare
      // enough in coroutine names to be printed as the compiler gives them.
      begin = i + 1;
      break;
    }
  }
  if (depth < 0) return std::string(s);
  return std::string(s.substr(begin, end - begin));
}

std::string source_site::location() const { return std::string(file()) + ':' + std::to_string(line()); }

namespace {

/// The coroutine a context is suspended in, or null while it runs or is ready.
std::coroutine_handle<> innermost(const task_context& t) noexcept {
  const suspension* s = t.waiting_on();
  if (s == nullptr) return {};
  if (s->ops->suspended != nullptr) return s->ops->suspended(s);
  return static_cast<const waiting_task*>(s)->handle;
}

std::vector<stack_frame> stack_of(const task_context& t) {
  std::vector<stack_frame> frames;
  for (std::coroutine_handle<> h = innermost(t); h; h = promise_of(h).continuation()) {
    const source_site at = promise_of(h).suspended_at();
    frames.push_back({at.function(), at.file(), at.line()});
  }
  std::reverse(frames.begin(), frames.end());
  return frames;
}

void print_site(std::ostream& out, const source_site& at) { out << at.function() << " at " << at.location(); }

/// The exception last seen leaving a coroutine in debug mode, and where it went.
struct exception_trace {
  std::exception_ptr exception;
  std::vector<source_site> sites;  // innermost first
};
thread_local exception_trace exception_trace_tls;

}  // namespace

void report_never_awaited(const promise_base& never_started) noexcept {
  event_loop* loop = running_loop();
  if (loop == nullptr || !loop->get_debug()) return;
  try {
    std::ostringstream msg;
    msg << "aio: coroutine ";
    print_site(msg, never_started.suspended_at());
    msg << " was never awaited: its body never ran (forgot co_await, or aio::create_task?)";
    log(msg.str());
  } catch (...) {
    log("aio: a task was destroyed without ever being awaited");
  }
}

void note_exception_passing(const std::exception_ptr& e, source_site where) noexcept {
  event_loop* loop = running_loop();
  if (loop == nullptr || !loop->get_debug()) return;
  if (is_cancellation(e)) return;  // cancellation is how tasks stop, not a failure
  exception_trace& trace = exception_trace_tls;
  try {
    if (trace.exception != e) {
      trace.exception = e;
      trace.sites.clear();
    }
    trace.sites.push_back(where);
  } catch (...) {  // out of memory: the trace is only a diagnostic
    trace = {};
  }
}

}  // namespace detail

const char* task_info::waiting_on() const noexcept {
  const detail::task_context* t = state_ ? state_->task() : nullptr;
  const detail::suspension* s = t ? t->waiting_on() : nullptr;
  return s ? s->ops->what : nullptr;
}

std::vector<stack_frame> task_info::get_stack() const {
  const detail::task_context* t = state_ ? state_->task() : nullptr;
  return t ? detail::stack_of(*t) : std::vector<stack_frame>{};
}

void task_info::print_stack(std::ostream& out) const {
  if (!state_) {
    out << "no task\n";
    return;
  }
  out << "Task '" << get_name() << "' ";
  if (const detail::source_site* at = state_->created_at()) out << "(created at " << at->location() << ") ";
  if (done()) {
    out << (cancelled() ? "cancelled" : "done") << '\n';
    return;
  }
  const char* what = waiting_on();
  if (what == nullptr) {
    out << "running or ready to run\n";
    return;
  }
  out << "waiting on " << what << ", suspended in (outermost first):\n";
  for (const stack_frame& f : get_stack()) out << "  " << f.function << " at " << f.file << ':' << f.line << '\n';
}

std::vector<task_info> all_tasks(const event_loop& loop) {
  std::vector<task_info> tasks;
  loop.tasks_.for_each([&](const detail::task_context* t) { tasks.emplace_back(t->owner()); });
  return tasks;
}

std::vector<task_info> all_tasks() { return all_tasks(get_running_loop()); }

void dump_tasks(std::ostream& out, const event_loop& loop) {
  const std::vector<task_info> tasks = all_tasks(loop);
  out << "aio: " << tasks.size() << (tasks.size() == 1 ? " pending task\n" : " pending tasks\n");
  for (const task_info& t : tasks) t.print_stack(out);
}

void dump_tasks(std::ostream& out) { dump_tasks(out, get_running_loop()); }

void event_loop::report_escaping_exception(detail::future_state_base& main) noexcept {
  if (main.state() != detail::future_state_base::status::error) return;
  detail::exception_trace& trace = detail::exception_trace_tls;
  try {
    std::exception_ptr e = main.exception();
    std::ostringstream msg;
    msg << "aio: exception escaped run_until_complete (or aio::run) from task '" << main.task_name()
        << "': " << detail::exception_message(e);
    if (trace.exception == e && !trace.sites.empty()) {
      msg << "\n  it travelled through (innermost first):";
      for (const detail::source_site& at : trace.sites) {
        msg << "\n    ";
        detail::print_site(msg, at);
      }
    }
    log(msg.str());
  } catch (...) {
    log("aio: exception escaped run_until_complete (or aio::run)");
  }
  trace = {};
}

}  // namespace aio
