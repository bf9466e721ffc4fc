// What few tasks have: a name of their own (else "Task-<id>") and, in debug
// mode, the place create_task was called. Kept aside in a table keyed by the
// task's state rather than in every task (a million sleeping tasks would
// carry 8 MB of empty pointers); a task with an entry says so with a flag, so
// the others never look. src/task_extras.cpp.
#pragma once

#include <aio/detail/source_site.hpp>

#include <string>

namespace aio::detail {

struct task_extras {
  std::string name;
  source_site created_at;
};

/// Adds or replaces the entry of `task` (a task state's address).
void set_task_extras(const void* task, task_extras extras);
/// Replaces only the name, adding an entry if there is none.
void set_task_extras_name(const void* task, std::string name);
/// Copies the entry of `task`; there must be one.
task_extras get_task_extras(const void* task);
/// The creation site in the entry of `task`, which must have one: valid until
/// the entry is erased.
const source_site& task_extras_site(const void* task);
void erase_task_extras(const void* task) noexcept;

}  // namespace aio::detail
