// The table behind detail/task_extras.hpp. One for the process, behind a
// mutex: a task's state is made on its loop's thread but its last future may
// let go of it on another, and only named tasks (or debug mode) come here.
#include <aio/detail/task_extras.hpp>

#include <mutex>
#include <unordered_map>
#include <utility>

namespace aio::detail {
namespace {

struct extras_table {
  std::mutex mutex;
  std::unordered_map<const void*, task_extras> entries;
};

// Never destroyed: a task state in a static future may die after main().
extras_table& table() {
  static auto* t = new extras_table;
  return *t;
}

}  // namespace

void set_task_extras(const void* task, task_extras extras) {
  auto& t = table();
  std::lock_guard lock(t.mutex);
  t.entries.insert_or_assign(task, std::move(extras));
}

void set_task_extras_name(const void* task, std::string name) {
  auto& t = table();
  std::lock_guard lock(t.mutex);
  t.entries[task].name = std::move(name);
}

task_extras get_task_extras(const void* task) {
  auto& t = table();
  std::lock_guard lock(t.mutex);
  return t.entries.at(task);
}

const source_site& task_extras_site(const void* task) {
  auto& t = table();
  std::lock_guard lock(t.mutex);
  return t.entries.at(task).created_at;  // nodes stay put until erased
}

void erase_task_extras(const void* task) noexcept {
  auto& t = table();
  std::lock_guard lock(t.mutex);
  t.entries.erase(task);
}

}  // namespace aio::detail
