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
class lock;
class event;
class condition;
class semaphore;
class bounded_semaphore;
class barrier;
template <class T> class queue;
template <class T> class lifo_queue;
class task_group;
template <class T> class async_generator;
class thread_pool;
class stream_reader;
class stream_writer;
class server;
class process;
}  // namespace aio
