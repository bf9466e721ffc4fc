// aio/fwd.hpp — forward declarations of the public types.
#pragma once

namespace aio {
template <class T> class task;
template <class T> class future;
template <class T> class outcome;
class event_loop;
class cancellation_source;
class cancellation_token;
class cancellation_registration;
class timeout_scope;
}  // namespace aio
