// The loop's timers: a priority queue of {deadline, sequence, slot} entries,
// kept as sorted runs.
//
// The timer nodes live inside the awaiting coroutines' frames (a sleep
// allocates nothing), but the queue never reads or writes them while it
// orders entries: with a hundred thousand sleeping tasks those frames are out
// of the caches. So each entry carries its own key, and a node is found
// through a slot number it keeps for as long as it is armed: `slots_[slot]`.
//
// Why runs and not a heap: timers mostly arrive in increasing order (every
// sleep or timeout of the same length, armed one after the other), and a
// binary heap of a hundred thousand entries spends ~80 ns a pop on cache
// misses in its lower levels, whatever the order. Here an entry is appended
// to the run whose last entry is the latest one not after it (or put in
// front of the earliest run, or starts a new run), so every run stays sorted
// and the runs are ordered by their last entries (patience sorting). A pop
// takes the first entry of the run with the earliest first entry, found
// through a small 4-ary heap of runs. Timers armed in increasing order make
// one run (push and pop O(1), memory read in order); decreasing order, one
// run too (from its front); the 100 interleaved increasing sequences of
// bench's sleep_timers, about 100 runs; random deadlines about 2*sqrt(n)
// runs, and a heap over 2*sqrt(n) runs still fits the caches.
//
// A cancelled timer is not searched for: its slot is emptied and its entry
// left where it is, to be dropped when it comes first, as asyncio does with
// its TimerHandles. So a cancel is O(1). When the cancelled entries outnumber
// the live ones (say, wait_for's 30 s timeouts cancelled by work that took a
// millisecond), the runs are rebuilt from the live entries.
//
// Ties on the deadline are broken by arming order, so equal deadlines fire
// FIFO. The sequence is 32 bits compared modulo 2^32: two timers with the very
// same nanosecond deadline armed more than 2^31 arms apart would swap; nothing
// else depends on it.
#pragma once

#include <aio/detail/trivial_array.hpp>
#include <aio/detail/trivial_ring.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace aio::detail {

/// What the queue keeps in an armed timer: the slot of its entry. (The
/// deadline stays in the queue; a timer that needs it later keeps a copy.)
struct timer_slot {
  static constexpr std::uint32_t not_armed = UINT32_MAX;
  std::uint32_t slot = not_armed;  // the queue's handle on this timer while armed
  [[nodiscard]] bool armed() const noexcept { return slot != not_armed; }
};

/// A timer that names what its expiry does: callbacks and timeouts. A sleep,
/// the timer there may be a million of, keeps no such function (8 bytes in
/// every sleeping frame): the queue marks it as a sleep instead, and the loop
/// knows what a sleep's expiry does.
struct timer_node : timer_slot {
  /// Called when the deadline passes, while the loop moves due timers to its
  /// ready queue. It must only schedule work, never run it.
  void (*expire)(timer_node*) noexcept = nullptr;
};

/// A timer taken from the queue: a sleep's timer_slot or a timer_node. Also
/// what the queue's slots hold while the timer is armed.
class due_timer {
 public:
  due_timer() noexcept = default;
  due_timer(timer_slot* t, bool is_sleep) noexcept
      : bits_(reinterpret_cast<std::uintptr_t>(t) | (is_sleep ? sleep_tag : 0)) {}

  [[nodiscard]] timer_slot* target() const noexcept {
    return reinterpret_cast<timer_slot*>(bits_ & ~sleep_tag);
  }
  [[nodiscard]] bool is_sleep() const noexcept { return (bits_ & sleep_tag) != 0; }
  /// The timer, which is not a sleep's.
  [[nodiscard]] timer_node* node() const noexcept { return static_cast<timer_node*>(target()); }

 private:
  friend class timer_queue;
  static constexpr std::uintptr_t sleep_tag = 2;  // bit 0 marks free slots (see timer_queue::free_slot)
  std::uintptr_t bits_ = 0;
};

class timer_queue {
 public:
  /// No armed timer (cancelled ones may still wait to be dropped).
  [[nodiscard]] bool empty() const noexcept { return live_ == 0; }
  /// The number of armed timers.
  [[nodiscard]] std::size_t size() const noexcept { return live_; }
  /// The earliest deadline of an armed timer; the queue must not be empty.
  [[nodiscard]] std::int64_t top_deadline() noexcept {
    drop_cancelled_first();
    return heads_[0].deadline;
  }

  /// Arms `n` to expire at `deadline` (nanoseconds on the loop's clock);
  /// `is_sleep`: n is a sleep's, else a timer_node.
  void push(timer_slot* n, std::int64_t deadline, bool is_sleep) {
    void* const target = reinterpret_cast<void*>(due_timer{n, is_sleep}.bits_);
    std::uint32_t s = free_slot_;
    if (s != none) {
      free_slot_ = next_free(s);
      slots_[s] = target;
    } else {
      s = static_cast<std::uint32_t>(slots_.size());
      slots_.push_back(target);
    }
    try {
      insert({deadline, next_sequence_, s});
    } catch (...) {  // out of memory: not armed, and the slot is free again
      free_slot(s);
      throw;
    }
    ++next_sequence_;
    n->slot = s;
    ++live_;
  }

  /// Removes and returns the earliest timer; the queue must not be empty.
  due_timer pop() noexcept {
    due_timer t = pop_unmarked();
    mark_popped(t.target());
    return t;
  }
  /// pop() without writing to the timer, which is likely out of the caches:
  /// the loop pops a batch of due timers, prefetches them, then marks them
  /// with mark_popped() before anything else can see them.
  due_timer pop_unmarked() noexcept {
    drop_cancelled_first();
    const std::uint32_t s = take_first();
    const due_timer t = armed_in(s);
    free_slot(s);
    --live_;
    return t;
  }
  static void mark_popped(timer_slot* n) noexcept { n->slot = timer_slot::not_armed; }

  /// Disarms `n` (armed): O(1), its entry stays behind until it is dropped.
  void remove(timer_slot* n) noexcept {
    slots_[n->slot] = nullptr;
    mark_popped(n);
    --live_;
    ++cancelled_;
    if (live_ == 0) forget_all();
    else if (cancelled_ > live_ && cancelled_ >= rebuild_threshold) rebuild();
  }

  template <class F>
  void for_each(F&& f) const {
    for (const run_key& k : by_last_) {
      const trivial_ring<entry>& entries = runs_[k.run];
      for (std::size_t i = 0; i < entries.size(); ++i)
        if (slots_[entries[i].slot] != nullptr) f(armed_in(entries[i].slot).target());
    }
  }

 private:
  static constexpr std::uint32_t none = UINT32_MAX;
  static constexpr std::size_t arity = 4;
  /// Below this many cancelled entries a rebuild is not worth its O(n).
  static constexpr std::size_t rebuild_threshold = 1024;

  struct entry {
    std::int64_t deadline;
    std::uint32_t sequence;
    std::uint32_t slot;
  };
  /// A run in heads_ (with the key of its first entry) or in by_last_ (with
  /// the key of its last): ordering the runs reads only these arrays.
  struct run_key {
    std::int64_t deadline;
    std::uint32_t sequence;
    std::uint32_t run;
  };
  template <class A, class B>
  static bool less(const A& a, const B& b) noexcept {
    return a.deadline < b.deadline ||
           (a.deadline == b.deadline && static_cast<std::int32_t>(a.sequence - b.sequence) < 0);
  }

  // --- slots: a slot holds its armed timer (tagged if a sleep's, see
  // due_timer); null once the timer was cancelled (its entry is still
  // queued); or, while free, the next free slot, tagged with the low bit
  // (timers are aligned, so their addresses never have it).
  [[nodiscard]] due_timer armed_in(std::uint32_t s) const noexcept {
    due_timer t;
    t.bits_ = reinterpret_cast<std::uintptr_t>(slots_[s]);
    return t;
  }
  [[nodiscard]] std::uint32_t next_free(std::uint32_t s) const noexcept {
    return static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(slots_[s]) >> 1);
  }
  void free_slot(std::uint32_t s) noexcept {
    slots_[s] = reinterpret_cast<void*>((std::uintptr_t{free_slot_} << 1) | 1);
    free_slot_ = s;
  }

  // --- runs
  [[nodiscard]] const entry& first_of(std::uint32_t r) const noexcept { return runs_[r].front(); }

  void insert(const entry& e) {
    // The runs whose last entry is not after e come first in by_last_: extend
    // the latest of them, which keeps by_last_ in order. Timers armed in
    // increasing order extend the latest run of all: checked first.
    if (!by_last_.empty() && !less(e, by_last_.back())) {
      append(by_last_.back(), e);
      return;
    }
    run_key* const after = std::upper_bound(by_last_.begin(), by_last_.end(), e,
                                            [](const entry& x, const run_key& k) { return less(x, k); });
    if (after != by_last_.begin()) {
      append(*(after - 1), e);
      return;
    }
    // Before every run's last entry. In front of the run that comes first,
    // if e is not after its first entry (deadlines armed in decreasing order
    // make one run this way): it stays the first run, and its last is unmoved.
    if (!heads_.empty() && !less(heads_[0], e)) {
      runs_[heads_[0].run].push_front(e);
      heads_[0] = key_of(heads_[0].run, e);
      return;
    }
    const std::uint32_t r = new_run();
    runs_[r].push_back(e);
    by_last_.insert_front(key_of(r, e));  // its last entry is the earliest of all
    heads_.push_back(key_of(r, e));
    sift_up(heads_.size() - 1);
  }

  void append(run_key& last, const entry& e) {
    runs_[last.run].push_back(e);
    last = key_of(last.run, e);
  }

  /// Takes the earliest entry (the queue must hold one) and returns its slot.
  std::uint32_t take_first() noexcept {
    const std::uint32_t r = heads_[0].run;
    trivial_ring<entry>& entries = runs_[r];
    const entry e = entries.pop_front();
    if (entries.empty()) {
      retire_first_run(r, e);
      return e.slot;
    }
    heads_[0] = key_of(r, entries.front());
    sift_down(0);
    return e.slot;
  }
  void drop_cancelled_first() noexcept {
    while (slots_[first_of(heads_[0].run).slot] == nullptr) {
      free_slot(take_first());
      --cancelled_;
    }
  }

  std::uint32_t new_run() {
    if (!spare_runs_.empty()) {
      const std::uint32_t r = spare_runs_.back();
      spare_runs_.pop_back();
      return r;
    }
    runs_.emplace_back();
    // Room for every run to be spare at once: retiring one never allocates.
    spare_runs_.reserve(runs_.size());
    return static_cast<std::uint32_t>(runs_.size() - 1);
  }
  /// Run `r`, first in heads_, was emptied by taking `last`, its last entry.
  void retire_first_run(std::uint32_t r, const entry& last) noexcept {
    const run_key* at = std::lower_bound(by_last_.begin(), by_last_.end(), last,
                                         [](const run_key& k, const entry& x) { return less(k, x); });
    by_last_.erase_at(static_cast<std::size_t>(at - by_last_.begin()));
    heads_[0] = heads_.back();
    heads_.pop_back();
    if (!heads_.empty()) sift_down(0);
    spare_runs_.push_back(r);  // keeps its block for the next run
  }
  /// Every armed timer was cancelled: all slots and runs are free again.
  void forget_all() noexcept {
    for (const run_key& k : by_last_) {
      runs_[k.run].clear();
      runs_[k.run].release_unused_room();
      spare_runs_.push_back(k.run);
    }
    by_last_.clear();
    heads_.clear();
    slots_.clear();
    slots_.release_unused_room();
    free_slot_ = none;
    cancelled_ = 0;
  }
  /// Drops every cancelled entry: each run keeps its live ones, in order.
  /// After a mass cancellation (most slots free), the live timers are also
  /// given new slots from 0, so that the memory of the cancelled ones goes
  /// back (their runs' too: release_unused_room).
  void rebuild() noexcept {
    const bool renumber = slots_.size() * sizeof(void*) >= trivial_array<void*>::big_block && live_ < slots_.size() / 4;
    trivial_array<void*> renumbered;
    if (renumber) {
      try {
        renumbered.reserve(live_);
      } catch (const std::bad_alloc&) {
        return rebuild_in(nullptr);
      }
    }
    rebuild_in(renumber ? &renumbered : nullptr);
    if (renumber) {
      slots_ = std::move(renumbered);
      free_slot_ = none;
    }
  }
  void rebuild_in(trivial_array<void*>* renumbered) noexcept {
    std::size_t kept_runs = 0;
    for (const run_key& k : by_last_) {
      const std::uint32_t r = k.run;
      trivial_ring<entry>& entries = runs_[r];
      for (std::size_t n = entries.size(); n > 0; --n) {
        entry e = entries.pop_front();
        if (slots_[e.slot] == nullptr) {
          if (renumbered == nullptr) free_slot(e.slot);
          continue;
        }
        if (renumbered != nullptr) {
          const auto s = static_cast<std::uint32_t>(renumbered->size());
          renumbered->push_back(slots_[e.slot]);  // reserved: cannot throw
          armed_in(e.slot).target()->slot = s;
          e.slot = s;
        }
        entries.push_back(e);  // room is there: one just left
      }
      entries.release_unused_room();
      if (entries.empty()) spare_runs_.push_back(r);
      else by_last_[kept_runs++] = key_of(r, entries.back());
    }
    by_last_.shrink_to(kept_runs);
    std::sort(by_last_.begin(), by_last_.end(), [](const run_key& a, const run_key& b) { return less(a, b); });
    heads_.clear();
    for (const run_key& k : by_last_) {
      heads_.push_back(key_of(k.run, first_of(k.run)));
      sift_up(heads_.size() - 1);
    }
    cancelled_ = 0;
  }

  // --- heads_: a 4-ary min-heap of the runs by their first entries
  static run_key key_of(std::uint32_t r, const entry& e) noexcept { return {e.deadline, e.sequence, r}; }
  void sift_up(std::size_t i) noexcept {
    const run_key h = heads_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / arity;
      if (!less(h, heads_[parent])) break;
      heads_[i] = heads_[parent];
      i = parent;
    }
    heads_[i] = h;
  }
  void sift_down(std::size_t i) noexcept {
    const run_key h = heads_[i];
    const std::size_t count = heads_.size();
    for (;;) {
      const std::size_t first = arity * i + 1;
      if (first >= count) break;
      const std::size_t end = first + arity < count ? first + arity : count;
      std::size_t best = first;
      for (std::size_t c = first + 1; c < end; ++c)
        if (less(heads_[c], heads_[best])) best = c;
      if (!less(heads_[best], h)) break;
      heads_[i] = heads_[best];
      i = best;
    }
    heads_[i] = h;
  }

  std::vector<trivial_ring<entry>> runs_;  // by run number; empty ones are spare
  trivial_array<run_key> by_last_;         // the runs in use, in the order of their last entries
  trivial_array<run_key> heads_;          // the runs in use, a heap by their first entries
  trivial_array<std::uint32_t> spare_runs_;
  trivial_array<void*> slots_;  // by slot: see armed_in
  std::uint32_t free_slot_ = none;
  std::uint32_t next_sequence_ = 0;
  std::size_t live_ = 0;
  std::size_t cancelled_ = 0;  // queued entries whose timer was cancelled
};

}  // namespace aio::detail
