// aio/aio.hpp — everything, like `import asyncio`. Re-exports only; include the
// module headers you use to keep compile times down.
#pragma once

#include <aio/cancellation.hpp>
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/files.hpp>
#include <aio/future.hpp>
#include <aio/generator.hpp>
#include <aio/locks.hpp>
#include <aio/log.hpp>
#include <aio/queues.hpp>
#include <aio/streams.hpp>
#include <aio/subprocess.hpp>
#include <aio/task.hpp>
#include <aio/task_group.hpp>
#include <aio/tasks.hpp>
#include <aio/testing.hpp>
#include <aio/threads.hpp>
#include <aio/timeouts.hpp>
