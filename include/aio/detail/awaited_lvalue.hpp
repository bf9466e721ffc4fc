// How an awaitable named by an lvalue (`co_await fut`, `co_await op`) passes
// through promise_base::await_transform without being copied.
//
// await_transform returns what the compiler then awaits. Returning the lvalue
// itself as a reference is what the language intends, but g++ 12 copies such
// an awaiter into the frame (and destroys a temporary one too early), so the
// lvalue is wrapped instead: a small awaiter holding a pointer to it, or, for
// an object with operator co_await (a future, a task), the awaiter that
// operator returns, built in place.
#pragma once

#include <coroutine>
#include <utility>

namespace aio::detail {

template <class A>
concept has_member_co_await = requires(A& a) { a.operator co_await(); };

/// Forwards to an awaiter the caller keeps alive (a named variable).
template <class A>
class awaited_lvalue {
 public:
  explicit awaited_lvalue(A& a) noexcept : a_(&a) {}
  decltype(auto) await_ready() { return a_->await_ready(); }
  template <class P>
  decltype(auto) await_suspend(std::coroutine_handle<P> h) {
    return a_->await_suspend(h);
  }
  decltype(auto) await_resume() { return a_->await_resume(); }

 private:
  A* a_;
};

/// Holds the awaiter `a.operator co_await()` returns.
template <class A>
class awaited_lvalue_operator {
  using awaiter = decltype(std::declval<A&>().operator co_await());

 public:
  explicit awaited_lvalue_operator(A& a) : awaiter_(a.operator co_await()) {}
  decltype(auto) await_ready() { return awaiter_.await_ready(); }
  template <class P>
  decltype(auto) await_suspend(std::coroutine_handle<P> h) {
    return awaiter_.await_suspend(h);
  }
  decltype(auto) await_resume() { return awaiter_.await_resume(); }

 private:
  awaiter awaiter_;
};

template <class A>
auto await_lvalue(A& a) {
  if constexpr (has_member_co_await<A>) return awaited_lvalue_operator<A>{a};
  else return awaited_lvalue<A>{a};
}

}  // namespace aio::detail
