// One worker loop of a WorkerSet (worker.hpp): take a task, check it, run
// it, deliver its result; reclaim abandoned tasks once per heartbeat.
#include <cmath>

#include "cluster/link.hpp"
#include "cluster/worker_shared.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

namespace tide::cluster {

namespace {

const std::string kWindowMs = std::to_string(kReplayWindowMs);

Outcome failure(ErrorKind kind, std::string text) {
  Outcome o;
  o.state = CompletionState::Failed;
  o.failure_kind = kind;
  o.text = std::move(text);
  return o;
}

const std::string* field(const Reply& fields, std::string_view name) {
  for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2)
    if (fields.elements[i].str == name) return &fields.elements[i + 1].str;
  return nullptr;
}

class Loop final : public ThreadBody {
 public:
  Loop(std::shared_ptr<WorkerShared> s, int index)
      : s_(std::move(s)),
        index_(index),
        consumer_(s_->label + ":" + std::to_string(index)),
        block_ms_(std::to_string(std::max<long long>(1, std::llround(s_->opt.heartbeat * 1000)))),
        link_(s_->opt.url, {s_->opt.timeout, s_->hard_stop.get()}, "worker " + consumer_, [this](Redis& r) {
          Reply g = r.call({"XGROUP", "CREATE", s_->keys.tasks, kGroup, "0", "MKSTREAM"});
          if (g.is_error() && g.str.rfind("BUSYGROUP", 0) != 0) g.ok("XGROUP CREATE");
        }) {}

  Outcome run(Thread&) noexcept override {
    try {
      exec_ = s_->opt.executor();
      serve();
      if (!s_->stopping_now) finish_own();
    } catch (const std::exception& e) {
      if (!s_->stopping_now) log::error("worker {}: stopped: {}", consumer_, e.what());
    }
    exec_.reset();
    s_->loop_ended();
    return Outcome{};
  }

 private:
  // The main loop, until a stop.
  void serve() {
    Deadline next_claim = Deadline::after(0);
    while (!s_->stopping) {
      try {
        Redis& r = link_.get();
        if (next_claim.passed()) {
          next_claim = Deadline::after(s_->opt.heartbeat);
          append_delivery(r);
          confirm(r);
          reclaim(r);
        }
        append_delivery(r);
        r.append({"XREADGROUP", "GROUP", kGroup, consumer_, "COUNT", "1", "BLOCK", block_ms_, "STREAMS",
                  s_->keys.tasks, ">"});
        confirm(r);
        Reply got = r.read(s_->opt.heartbeat, s_->idle_stop.get());
        take(r, got, 1);
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::Cancelled && s_->stopping) return;
        if (e.kind() != ErrorKind::OSError) throw;
        link_.lost(e);
        appended_ = false;
      }
    }
  }

  // Entries of an XREADGROUP reply: [[stream, [[id, fields]...]]] or nil.
  void take(Redis& r, const Reply& got, long long deliveries) {
    if (!got.is_array() || got.elements.empty() || got.elements[0].elements.size() != 2) return;
    for (const Reply& entry : got.elements[0].elements[1].elements) {
      if (entry.elements.size() != 2) continue;
      if (entry.elements[1].is_nil()) {  // deleted while pending (a cancelled task)
        r.call({"XACK", s_->keys.tasks, kGroup, entry.elements[0].str});
        continue;
      }
      handle(r, entry.elements[0].str, entry.elements[1], deliveries);
    }
  }

  // Once per heartbeat: a task idle for kMissedBeats beats lost its worker.
  void reclaim(Redis& r) {
    Reply c = r.call({"XAUTOCLAIM", s_->keys.tasks, kGroup, consumer_, s_->min_idle_ms, cursor_, "COUNT", "1"});
    if (c.is_error() || c.elements.size() < 2) {
      log::debug("worker {}: XAUTOCLAIM: {}", consumer_, c.str);
      return;
    }
    cursor_ = c.elements[0].str;
    for (const Reply& entry : c.elements[1].elements) {
      if (entry.elements.size() != 2 || entry.elements[1].is_nil()) continue;
      const std::string& id = entry.elements[0].str;
      Reply p = r.call({"XPENDING", s_->keys.tasks, kGroup, id, id, "1"});
      long long deliveries = 1;
      if (p.is_array() && !p.elements.empty() && p.elements[0].elements.size() == 4)
        deliveries = p.elements[0].elements[3].integer;
      log::info("worker {}: reclaimed task {} from a worker that stopped (delivery {})", consumer_, id,
                      deliveries);
      handle(r, id, entry.elements[1], deliveries);
      append_delivery(r);
      confirm(r);
    }
  }

  void handle(Redis& r, const std::string& id, const Reply& fields, long long deliveries) {
    const std::string* m = field(fields, "m");
    Entry e;
    std::string why;
    Verdict v = m ? open(*m, s_->opt.key, unix_ms(), e, why) : Verdict::Unsigned;
    if (!m) why = "it has no 'm' field";
    if (v == Verdict::Ok && e.kind != EntryKind::Task) {
      v = Verdict::Malformed;
      why = "it is not a task";
    }
    if (v != Verdict::Ok) return refuse(r, id, m, verdict_name(v), why);
    if (deliveries > static_cast<long long>(e.max_deliveries)) return give_up(r, id, e, *m, deliveries);
    // A replay is a copy of an authentic task added again: its nonce was
    // first seen under another stream id. (A redelivery keeps its id.)
    Reply seen = r.call({"SET", s_->keys.seen(hex(e.nonce)), id, "NX", "GET", "PX", kWindowMs});
    seen.ok("SET NX GET (tide.cluster needs Redis 7)");
    if (!seen.is_nil() && seen.str != id)
      return refuse(r, id, m, "replayed", "its nonce was first seen as stream entry " + seen.str);
    Outcome out;
    if (std::string mismatch = check_runtime(e, s_->opt.lua, "its task"); !mismatch.empty()) {
      log::warn("worker {}: task {}: {}", consumer_, id, mismatch);
      out = failure(ErrorKind::TransferError, "failed: " + mismatch);
    } else {
      s_->set_running(index_, id);
      out = exec_->run(e, consumer_);
      s_->set_running(index_, "");
      if (s_->stopping_now) throw Error(ErrorKind::Cancelled, "stopped");  // left for another worker
    }
    deliver(id, e, std::move(out));
  }

  // Seals the result; it is sent with the next command batch and counts as
  // delivered once Redis confirmed it (after a lost connection it is sent
  // again: the client takes the first of duplicates).
  void deliver(const std::string& id, const Entry& task, Outcome out) {
    Entry res;
    res.kind = EntryKind::Result;
    res.lua = s_->opt.lua;
    res.arch = local_arch();
    res.client = task.client;
    res.task = task.task;
    out.worker = consumer_;
    res.outcome = std::move(out);
    delivery_ = Delivery{id, task.reply, seal(res, s_->opt.key)};
    has_delivery_ = true;
    appended_ = false;
  }

  void append_delivery(Redis& r) {
    if (!has_delivery_ || appended_) return;
    r.append({"XADD", delivery_.reply, "NOMKSTREAM", "*", "m", delivery_.sealed});
    r.append({"XACK", s_->keys.tasks, kGroup, delivery_.id});
    r.append({"XDEL", s_->keys.tasks, delivery_.id});
    appended_ = true;
  }

  void confirm(Redis& r) {
    if (!has_delivery_ || !appended_) return;
    Reply added = r.read();
    r.read();
    r.read();
    if (added.is_nil())
      log::debug("worker {}: the client of task {} is gone; its result is dropped", consumer_, delivery_.id);
    else if (added.is_error())
      log::warn("worker {}: Redis refused the result of task {}: {}", consumer_, delivery_.id, added.str);
    has_delivery_ = appended_ = false;
  }

  void refuse(Redis& r, const std::string& id, const std::string* m, const char* verdict, const std::string& why) {
    log::warn("worker {}: refused task entry {} ({}): {}; dead-lettered", consumer_, id, verdict, why);
    r.append({"XADD", s_->keys.dead, "MAXLEN", "~", kDeadMaxLen, "*", "reason", why, "verdict", verdict, "stream",
              s_->keys.tasks, "id", id, "consumer", consumer_, "m", m ? std::string_view(*m) : std::string_view()});
    r.append({"XACK", s_->keys.tasks, kGroup, id});
    r.append({"XDEL", s_->keys.tasks, id});
    for (int i = 0; i < 3; ++i) r.read();
  }

  // Delivered more than max_deliveries times: every worker that took it
  // stopped. Its future fails with WorkerDied; the task is dead-lettered.
  void give_up(Redis& r, const std::string& id, const Entry& e, const std::string& m, long long deliveries) {
    std::string why = "delivered " + std::to_string(deliveries) + " times (max_deliveries " +
                      std::to_string(e.max_deliveries) + "), and every worker that took it stopped";
    log::warn("worker {}: task {} {}; dead-lettered", consumer_, id, why);
    r.append({"XADD", s_->keys.dead, "MAXLEN", "~", kDeadMaxLen, "*", "reason", why, "verdict", "undeliverable",
              "stream", s_->keys.tasks, "id", id, "consumer", consumer_, "m", m});
    r.read();
    deliver(id, e, failure(ErrorKind::WorkerDied, "failed: its task was " + why + " (killed, crashed or cut off)"));
  }

  // After a graceful stop: confirm the last result, run what was delivered
  // to this consumer meanwhile (an XREADGROUP cut short may have taken a
  // task), then leave the group.
  void finish_own() {
    try {
      auto r = Redis::connect(s_->opt.url, {s_->opt.timeout, s_->hard_stop.get()});
      appended_ = false;
      for (;;) {
        append_delivery(*r);
        r->append({"XREADGROUP", "GROUP", kGroup, consumer_, "COUNT", "10", "STREAMS", s_->keys.tasks, "0"});
        confirm(*r);
        Reply own = r->read();
        if (!own.is_array() || own.elements.empty() || own.elements[0].elements.size() != 2 ||
            own.elements[0].elements[1].elements.empty())
          break;
        take(*r, own, 1);
      }
      r->call({"XGROUP", "DELCONSUMER", s_->keys.tasks, kGroup, consumer_});
    } catch (const std::exception& e) {
      log::warn("worker {}: could not finish cleanly: {}", consumer_, e.what());
    }
  }

  struct Delivery {
    std::string id;      // the task's stream id
    std::string reply;   // the client's result stream
    std::string sealed;  // the result envelope
  };

  std::shared_ptr<WorkerShared> s_;
  const int index_;
  const std::string consumer_;  // "host:pid:index" in the consumer group
  const std::string block_ms_;
  Link link_;
  std::unique_ptr<Executor> exec_;
  std::string cursor_ = "0-0";  // XAUTOCLAIM's scan position
  Delivery delivery_;
  bool has_delivery_ = false;  // a result waits to be confirmed
  bool appended_ = false;      // ...and is queued on the current connection
};

}  // namespace

std::unique_ptr<ThreadBody> make_loop(std::shared_ptr<WorkerShared> shared, int index) {
  return std::make_unique<Loop>(std::move(shared), index);
}

}  // namespace tide::cluster
