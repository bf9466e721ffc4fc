// The machinery of gather, gather_settled and when_any: one awaiter that runs
// its task children as tasks of their own and watches its future children.
//
// No child outlives the await. The task children were started here, from frames
// the caller handed over; were they left running after the awaiter resumed,
// they could outlive what they reference. So on the first failure (gather) or
// the first completion (when_any) the remaining task children are cancelled and
// awaited before the caller resumes. Futures passed in belong to the caller:
// they are neither cancelled nor waited for then — as in asyncio. Cancelling
// the awaiting task cancels every child, futures included (asyncio's gather does
// the same).
#pragma once

#include <aio/detail/future_state.hpp>
#include <aio/detail/task_state.hpp>
#include <aio/detail/waiting_task.hpp>
#include <aio/future.hpp>
#include <aio/task.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace aio::detail {

using child_status = future_state_base::status;

/// The non-template part: counts, the policy, and the awaiting task.
struct gather_core : waiting_task {
  enum class mode : unsigned char { all, settled, any };
  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  explicit gather_core(mode m) noexcept : policy(m) {}

  /// Stops waiting: cancels the task children (and, if `futures_too`, the
  /// futures) or, if not, stops watching the futures.
  void (*stop_children)(gather_core*, bool futures_too) noexcept = nullptr;

  std::size_t remaining = 0;  // children whose completion we still wait for
  std::size_t decided = none; // gather: first failure; when_any: the winner
  mode policy;
  bool suspended = false;
  bool outer_cancelled = false;

  void child_done(std::size_t index, child_status s) noexcept {
    --remaining;
    if (decided == none &&
        ((policy == mode::all && s != child_status::value) || policy == mode::any)) {
      decided = index;
      stop_children(this, false);
    }
    if (remaining == 0 && suspended) wake();
  }

  /// A cancel of the awaiting task wins over the children's results.
  void throw_if_outer_cancelled() {
    if (context) context->throw_if_cancel_pending();
    if (outer_cancelled) task_context::throw_cancelled();
  }

  static bool on_cancel(suspension* s) noexcept {
    auto* self = static_cast<gather_core*>(s);
    self->outer_cancelled = true;
    self->stop_children(self, true);
    return true;
  }

  template <class P>
  bool suspend_until_done(std::coroutine_handle<P> h) noexcept {
    if (remaining == 0) return false;
    suspended = true;
    suspend(h, policy == mode::any ? suspension_ops_for<&on_cancel, "aio::when_any">
                                   : suspension_ops_for<&on_cancel, "aio::gather">);
    return true;
  }
};

/// A task<T> child: runs as a task of its own, with its own context.
template <class T>
struct task_child final : child_context {
  gather_core* parent = nullptr;
  std::size_t index = 0;
  outcome<T> result;
  bool done = false;

  task_child() noexcept = default;
  task_child(const task_child&) = delete;
  ~task_child() {
    if (root) root.destroy();  // the gather itself was destroyed (loop closing)
  }

  static void check_startable(const task<T>& t) {
    if (!t.valid())
      throw invalid_state_error("aio::gather / when_any was given a moved-from or already-awaited task");
  }
  void start(gather_core& g, std::size_t i, task<T>& t, event_loop& l) {
    parent = &g;
    index = i;
    loop = &l;
    adopt_root(t.release());
    kind = &kind_table;
    ++g.remaining;
    l.schedule(ready_entry::start(this));
  }

  void stop(bool /*futures_too*/) noexcept {
    if (!done) request_cancel();
  }
  void drop() noexcept {}
  [[nodiscard]] child_status status() const noexcept {
    if (result.has_value()) return child_status::value;
    return result.cancelled() ? child_status::cancelled : child_status::error;
  }

  static std::string name_of(const task_context* ctx) {
    auto* self = static_cast<const task_child*>(ctx);
    std::string child = "gather child " + std::to_string(self->index);
    const task_context* awaiting = self->parent->context;
    return awaiting ? awaiting->display_name() + " > " + child : child;
  }
  static future_state_base* owner_of(const task_context* ctx) noexcept {
    const task_context* awaiting = static_cast<const task_child*>(ctx)->parent->context;
    return awaiting ? awaiting->owner() : nullptr;
  }
  static void on_finished(task_context* ctx, std::coroutine_handle<> r, bool never_started) noexcept {
    auto* self = static_cast<task_child*>(ctx);
    self->root = {};
    self->done = true;
    if (never_started) {
      r.destroy();
      self->result.store_cancelled();
    } else if (take_root_result<T>(r, self->result) == child_status::cancelled) {
      self->result.store_cancelled();
    }
    self->parent->child_done(self->index, self->status());
  }
  static constexpr child_context_kind kind_table{&task_child::on_finished, &task_child::name_of, &task_child::owner_of};
};

/// A future<T> child: watched, owned by the caller.
template <class T>
struct future_child final : future_waiter {
  gather_core* parent = nullptr;
  std::size_t index = 0;
  future<T> fut{static_cast<future_state<T>*>(nullptr)};
  bool done = false;

  future_child() noexcept = default;
  future_child(const future_child&) = delete;
  ~future_child() {
    if (fut.state()) fut.state()->remove_waiter(this);
  }

  static void check_startable(const future<T>&) noexcept {}
  // Moved, not copied: the caller handed the futures over, and each count
  // change is a visit to a state that has long left the cache.
  void start(gather_core& g, std::size_t i, future<T>& f, event_loop&) {
    fut = std::move(f);
    parent = &g;
    index = i;
    notify = &on_done;
    if (fut.done()) {
      done = true;
      if (g.decided == gather_core::none &&
          ((g.policy == gather_core::mode::all && status() != child_status::value) ||
           g.policy == gather_core::mode::any))
        g.decided = i;
      return;
    }
    ++g.remaining;
    fut.state()->add_waiter(this);
  }
  /// Lets go of the future once its value is taken, in the same visit.
  void drop() noexcept { fut = future<T>{static_cast<future_state<T>*>(nullptr)}; }
  void stop(bool futures_too) noexcept {
    if (done) return;
    if (futures_too) {
      fut.cancel();  // we stay linked and hear when it is done
    } else {
      fut.state()->remove_waiter(this);
      done = true;
      --parent->remaining;
    }
  }
  [[nodiscard]] child_status status() const noexcept { return fut.state()->state(); }

  static void on_done(future_waiter* w, bool discard) noexcept {
    auto* self = static_cast<future_child*>(w);
    if (discard) return;
    self->done = true;
    self->parent->child_done(self->index, self->status());
  }
};

// --- which child holds what ----------------------------------------------

template <class A> struct child_of;
template <class T> struct child_of<task<T>> { using type = task_child<T>; using value = T; };
template <class T> struct child_of<future<T>> { using type = future_child<T>; using value = T; };
template <class A> using child_t = typename child_of<std::remove_cvref_t<A>>::type;
template <class A> using child_value_t = typename child_of<std::remove_cvref_t<A>>::value;

/// What gather gives for a child of type T: T, with void as std::monostate.
template <class T> using gathered_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T> child_status status_of(const task_child<T>& c) noexcept { return c.status(); }
template <class T> child_status status_of(const future_child<T>& c) noexcept { return c.status(); }

/// The value of a successful child (or its error, rethrown).
template <class T>
gathered_t<T> value_of(task_child<T>& c) {
  if constexpr (std::is_void_v<T>) {
    c.result.value();
    return {};
  } else {
    return std::move(c.result).value();
  }
}
template <class T>
gathered_t<T> value_of(future_child<T>& c) {
  if constexpr (std::is_void_v<T>) {
    c.fut.result();
    return {};
  } else {
    return c.fut.state()->take();
  }
}
template <class T>
outcome<T> outcome_of(task_child<T>& c) noexcept {
  return std::move(c.result);
}
template <class T>
outcome<T> outcome_of(future_child<T>& c) {
  outcome<T> o;
  switch (c.status()) {
    case child_status::value:
      if constexpr (std::is_void_v<T>) o.store_value();
      else o.store_value(c.fut.state()->take());
      break;
    case child_status::error: o.store_error(c.fut.exception()); break;
    default: o.store_cancelled(); break;
  }
  return o;
}


// --- variadic ------------------------------------------------------------

template <class... A>
class gather_tuple_operation : gather_core {
 public:
  gather_tuple_operation(mode m, A&&... a) : gather_core(m), args_(std::forward<A>(a)...) {
    stop_children = &stop_all;
  }

  bool await_ready() const noexcept { return false; }
  // The results are read afterwards through values() / outcomes() / winner().
  void await_resume() const noexcept {}
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    event_loop& l = *context_of(h)->loop;
    // Every argument is checked before any child starts: a child already on
    // the ready queue would outlive the frame the exception unwinds.
    std::apply([](const auto&... a) { (child_t<A>::check_startable(a), ...); }, args_);
    // A fold over the pack starts the children in argument order (a function
    // argument list would not: g++ evaluates it right to left).
    start_all(l, std::index_sequence_for<A...>{});
    if (decided != none) stop_all(this, false);
    return suspend_until_done(h);
  }

  /// gather: the values, or the first failure rethrown.
  auto values() {
    rethrow_on_failure();
    return values(std::index_sequence_for<A...>{});
  }
  auto outcomes() {
    throw_if_outer_cancelled();
    return outcomes(std::index_sequence_for<A...>{});
  }
  /// when_any: {index, value} of the winner; its failure rethrown.
  template <class R>
  R winner() {
    throw_if_outer_cancelled();
    return winner<R>(std::index_sequence_for<A...>{});
  }

 private:
  void rethrow_on_failure() {
    throw_if_outer_cancelled();
    if (decided != none) rethrow_child(decided, std::index_sequence_for<A...>{});
  }
  template <std::size_t... I>
  void rethrow_child(std::size_t which, std::index_sequence<I...>) {
    ((I == which ? (void)value_of(std::get<I>(children_)) : void()), ...);
  }
  template <std::size_t... I>
  void start_all(event_loop& l, std::index_sequence<I...>) {
    (std::get<I>(children_).start(*this, I, std::get<I>(args_), l), ...);
  }
  template <std::size_t... I>
  auto values(std::index_sequence<I...>) {
    return std::tuple<gathered_t<child_value_t<A>>...>{value_of(std::get<I>(children_))...};
  }
  template <std::size_t... I>
  auto outcomes(std::index_sequence<I...>) {
    return std::tuple<outcome<child_value_t<A>>...>{outcome_of(std::get<I>(children_))...};
  }
  template <class R, std::size_t... I>
  R winner(std::index_sequence<I...>) {
    std::optional<R> r;
    ((I == decided ? (void)r.emplace(make_winner<R, I>()) : void()), ...);
    return std::move(*r);
  }
  template <class R, std::size_t I>
  R make_winner() {
    if constexpr (std::is_same_v<decltype(R::value), gathered_t<child_value_t<std::tuple_element_t<I, std::tuple<A...>>>>>)
      return R{I, value_of(std::get<I>(children_))};
    else
      return R{I, decltype(R::value){std::in_place_index<I>, value_of(std::get<I>(children_))}};
  }
  static void stop_all(gather_core* g, bool futures_too) noexcept {
    auto* self = static_cast<gather_tuple_operation*>(g);
    std::apply([&](auto&... c) { (c.stop(futures_too), ...); }, self->children_);
  }

  std::tuple<std::remove_cvref_t<A>...> args_;
  std::tuple<child_t<A>...> children_{};
};

// --- a vector of children ------------------------------------------------

template <class Arg>
class gather_vector_operation : gather_core {
  using child = child_t<Arg>;
  using value = child_value_t<Arg>;

 public:
  gather_vector_operation(mode m, std::vector<Arg>&& args)
      : gather_core(m), args_(std::move(args)), children_(std::make_unique<child[]>(args_.size())) {
    stop_children = &stop_all;
  }

  bool await_ready() const noexcept { return args_.empty(); }
  void await_resume() const noexcept {}
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    event_loop& l = *context_of(h)->loop;
    for (const auto& a : args_) child::check_startable(a);  // before any child starts (see above)
    for (std::size_t i = 0; i < args_.size(); ++i) children_[i].start(*this, i, args_[i], l);
    if (decided != none) stop_all(this, false);
    return suspend_until_done(h);
  }

  std::vector<gathered_t<value>> values() {
    throw_if_outer_cancelled();
    if (decided != none) (void)value_of(children_[decided]);
    std::vector<gathered_t<value>> out;
    out.reserve(args_.size());
    for (std::size_t i = 0; i < args_.size(); ++i) {
      out.push_back(value_of(children_[i]));
      children_[i].drop();
    }
    return out;
  }
  std::vector<outcome<value>> outcomes() {
    throw_if_outer_cancelled();
    std::vector<outcome<value>> out;
    out.reserve(args_.size());
    for (std::size_t i = 0; i < args_.size(); ++i) out.push_back(outcome_of(children_[i]));
    return out;
  }
  template <class R>
  R winner() {
    throw_if_outer_cancelled();
    if (decided == none)
      throw invalid_state_error("aio::when_any() needs at least one child to wait for");
    return R{decided, value_of(children_[decided])};
  }

 private:
  static void stop_all(gather_core* g, bool futures_too) noexcept {
    auto* self = static_cast<gather_vector_operation*>(g);
    for (std::size_t i = 0; i < self->args_.size(); ++i) self->children_[i].stop(futures_too);
  }

  std::vector<Arg> args_;
  std::unique_ptr<child[]> children_;
};

}  // namespace aio::detail
