// aio/aio.hpp — everything, like `import asyncio`. Re-exports only; include the
// module headers you use to keep compile times down.
#pragma once

#include <aio/cancellation.hpp>
#include <aio/event_loop.hpp>
#include <aio/exceptions.hpp>
#include <aio/future.hpp>
#include <aio/task.hpp>
#include <aio/tasks.hpp>
#include <aio/timeouts.hpp>
