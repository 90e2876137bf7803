// A small "game loop" embedding tide (API.md §15): 60 frames a second, a
// native module the workers call, work offloaded to the pool every frame,
// completions pumped each frame without blocking, and frame-time figures.
// The program is also its own worker executable: a child process started
// with the spawn method runs this binary, which serves it from main().
//   game_loop [frames] [tasks in flight]          (default 120, 100)
#include <lua.hpp>
#include <tide/tide.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// game.work(n): the game's own native code, run on pool workers.
int game_work(lua_State* L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  double acc = 0;
  for (lua_Integer i = 1; i <= n; ++i) acc += std::sqrt(static_cast<double>(i));
  lua_pushinteger(L, static_cast<lua_Integer>(acc));
  return 1;
}

int open_game(lua_State* L) {
  static const luaL_Reg fns[] = {{"work", game_work}, {nullptr, nullptr}};
  luaL_newlib(L, fns);
  return 1;
}

double us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  tide::Host::register_module("game", open_game);  // before serving as a worker, too
  if (int status; tide::run_worker_mode(argc, argv, &status)) return status;
  int frames = argc > 1 ? std::atoi(argv[1]) : 120;
  int inflight = argc > 2 ? std::atoi(argv[2]) : 100;
  try {
    tide::HostOptions options;
    options.worker_executable = "/proc/self/exe";  // spawned children run this program
    tide::Host host(options);
    host.run_string(R"(
      function crunch(n) return require("game").work(n), n end
    )");
    // Results must match what the same code gives on this thread.
    long long expect = host.call("crunch", {2000}).at(0).integer();

    long long completed = 0, wrong = 0, submitted = 0;
    std::vector<double> tide_us;  // time spent in tide each frame
    const auto frame = std::chrono::microseconds(16667);
    auto next = Clock::now() + frame;
    for (int f = 0; f < frames; ++f) {
      auto t0 = Clock::now();
      while (submitted - completed < inflight) {
        host.submit("crunch", {2000}).then([&](tide::Future& done) {
          tide::Values r = done.get();
          ++completed;
          if (r.at(0).integer() != expect || r.at(1).integer() != 2000) ++wrong;
        });
        ++submitted;
      }
      host.pump(0.002);
      tide_us.push_back(us(Clock::now() - t0));
      std::this_thread::sleep_until(next);  // the rest of the frame: rendering
      next += frame;
    }
    // Let the last tasks land, still without blocking in tide.
    auto give_up = Clock::now() + std::chrono::seconds(30);
    while (completed < submitted && Clock::now() < give_up) {
      host.pump(0.002);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // An idle pump: nothing ready.
    std::vector<double> idle;
    for (int i = 0; i < 1000; ++i) {
      auto t0 = Clock::now();
      host.pump();
      idle.push_back(us(Clock::now() - t0));
    }
    std::printf("frames: %d\n", frames);
    std::printf("tasks: %lld submitted, %lld completed, %lld wrong\n", submitted, completed, wrong);
    std::printf("tide per frame (submit + pump): p50 %.1f us, p99 %.1f us, max %.1f us\n",
                percentile(tide_us, 0.5), percentile(tide_us, 0.99), percentile(tide_us, 1.0));
    std::printf("idle pump: p50 %.2f us, p99 %.2f us\n", percentile(idle, 0.5), percentile(idle, 0.99));
    host.run_string(R"(
      function in_child(n)  -- a child process (spawn: a fresh run of this program)
        local p = require("tide.process").Process{start_method = "spawn", args = {n},
                                                  target = function(k) return require("game").work(k) end}
        p:start()
        return p:join()
      end
    )");
    bool child_ok = host.call("in_child", {2000}).at(0).integer() == expect;
    std::printf("spawned child process: %s\n", child_ok ? "same result" : "WRONG");
    try {
      host.call("error", {"from a script"});
    } catch (const tide::Error& e) {
      std::printf("error crossed to C++: %s: %s\n", e.kind_name(), e.what());
    }
    return completed == submitted && wrong == 0 && child_ok ? 0 : 1;
  } catch (const tide::Error& e) {
    std::fprintf(stderr, "game_loop: %s: %s\n%s\n", e.kind_name(), e.what(), e.traceback().c_str());
    return 1;
  }
}
