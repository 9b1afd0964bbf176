#include "Topology.hpp"

#include <regex>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace tvf::it {
namespace {
std::atomic<int> counter{0};
const std::string kScript = std::string(TVF_SOURCE_DIR) + "/scripts/topology.sh";
}  // namespace

namespace {
// $TVF_IT_DATAPATH: MODE or MODE/TC_HOOK (one variable: ctest's ENVIRONMENT
// property as gtest_discover_tests writes it holds a single entry).
std::pair<std::string, std::string> itDatapath() {
  const char* m = std::getenv("TVF_IT_DATAPATH");
  const std::string v = m && *m ? m : "user";
  const auto slash = v.find('/');
  if (slash == std::string::npos) return {v, "auto"};
  return {v.substr(0, slash), v.substr(slash + 1)};
}
}  // namespace

std::string datapathMode() { return itDatapath().first; }

std::string tcHookMode() { return itDatapath().second; }

CommandResult run(const std::string& cmd) {
  CommandResult r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

Topology::Topology(int mtu) {
  prefix_ = "tvfit" + std::to_string(::getpid()) + "x" + std::to_string(counter++);
  dir_ = "/tmp/" + prefix_;
  run("rm -rf " + dir_ + " && mkdir -p " + dir_);
  auto r = run(kScript + " up " + prefix_ + " " + std::to_string(mtu));
  ok_ = r.status == 0;
  if (!ok_) std::fprintf(stderr, "topology up failed: %s\n", r.out.c_str());
}

Topology::~Topology() {
  // SIGTERM: the daemon's own shutdown runs (and, sanitized, its leak check).
  stopTvfd(15);
  checkSanitizerReports();
  run(kScript + " down " + prefix_);
  run("rm -rf " + dir_);
}

CommandResult Topology::inGuest(const std::string& cmd) const {
  return run("ip netns exec " + guest() + " sh -c '" + cmd + "'");
}
CommandResult Topology::inHost(const std::string& cmd) const {
  return run("ip netns exec " + host() + " sh -c '" + cmd + "'");
}

std::string ethtoolFeature(const std::string& ethtoolK, const std::string& name) {
  std::smatch m;
  std::regex re("(^|\\n)\\s*" + name + ": (on|off)");
  return std::regex_search(ethtoolK, m, re) ? m[2].str() : "?";
}

bool Topology::guestShows(const std::string& cmd, const std::string& needle) const {
  return waitFor([&] { return contains(inGuest(cmd).out, needle); }, std::chrono::seconds(10));
}

bool Topology::guestLacks(const std::string& cmd, const std::string& needle) const {
  return waitFor([&] { return !contains(inGuest(cmd).out, needle); }, std::chrono::seconds(10));
}

std::string Topology::guestTcPrograms(const std::string& dev, const std::string& dir) const {
  std::string out;
  std::istringstream tcx(inGuest(std::string(TCX_TOOL_PATH) + " " + dev + " " + dir).out);
  for (std::string name; std::getline(tcx, name);) out += "tcx " + name + "\n";
  return out + inGuest("tc filter show dev " + dev + " " + dir).out;
}

bool Topology::waitForListener(bool host, const std::string& proto, int port) const {
  const std::string cmd = "ss -Hln" + std::string(proto == "tcp" ? "t" : "u") + " 'sport = :" + std::to_string(port) + "'";
  return waitFor([&] { return !(host ? inHost(cmd) : inGuest(cmd)).out.empty(); }, std::chrono::seconds(10));
}

void Topology::addVf(const std::string& name) const { run(kScript + " add-vf " + prefix_ + " " + name); }
void Topology::delVf(const std::string& name) const { run(kScript + " del-vf " + prefix_ + " " + name); }

bool Topology::startTvfd(const std::string& pairExtra, bool configureTap, const std::string& launcher) {
  {
    std::ofstream f(dir_ + "/tvf.yaml");
    f << "control_socket: " << socket() << "\n"
      << "log_level: debug\n"
      << "pairs:\n"
      << "  - name: tvf0\n"
      << "    synthetic: eth0\n";
    if (pairExtra.find("attach_wait_ms") == std::string::npos) f << "    attach_wait_ms: 300\n";
    if (pairExtra.find("persist") == std::string::npos) f << "    persist: false\n";
    // Every test runs in both datapath modes: ctest registers the suite
    // once per mode with TVF_IT_DATAPATH set (tests/CMakeLists.txt).
    if (pairExtra.find(" datapath:") == std::string::npos) f << "    datapath: " << datapathMode() << "\n";
    // And the kernel datapath's own suites once more on clsact (kernel/clsact);
    // a pair set to the user datapath takes no tc_hook (a config error).
    if (pairExtra.find("tc_hook:") == std::string::npos && pairExtra.find(" datapath: user") == std::string::npos)
      f << "    tc_hook: " << tcHookMode() << "\n";
    f << pairExtra;
  }
  launcher_ = launcher;
  if (!spawnTvfd()) return false;
  if (configureTap) {
    inGuest("ip addr add 198.18.0.2/24 dev tvf0 && ip addr add fd00:18::2/64 dev tvf0 nodad && ip link set tvf0 up");
  }
  return true;
}

bool Topology::restartTvfd() { return spawnTvfd(); }

bool Topology::spawnTvfd() {
  // A sanitized tvfd reports into the topology's folder, where the
  // destructor finds it and fails the test; an unsanitized one ignores it.
  // The environment is made before fork(): the child only execs.
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  for (const std::string var : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"}) {
    const std::string reports = "log_path=" + dir_ + "/sanitizer";
    const char* old = std::getenv(var.c_str());
    std::erase_if(env, [&](const std::string& x) { return x.rfind(var + "=", 0) == 0; });
    env.push_back(var + "=" + (old && *old ? std::string(old) + ":" : std::string()) + reports);
  }
  std::vector<char*> envp;
  for (auto& x : env) envp.push_back(x.data());
  envp.push_back(nullptr);
  const std::string log = dir_ + "/tvfd.log";
  const std::string cmd = "exec " + launcher_ + " " + TVFD_PATH + " --config " + dir_ + "/tvf.yaml";
  const std::string ns = guest();
  const char* argv[] = {"ip", "netns", "exec", ns.c_str(), "sh", "-c", cmd.c_str(), nullptr};
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    ::execvpe("ip", const_cast<char* const*>(argv), envp.data());
    ::_exit(127);
  }
  tvfd_ = pid;
  return waitFor([&] { return !status().is_null(); }, std::chrono::seconds(10));
}

void Topology::stopTvfd(int signal) {
  if (tvfd_ <= 0) return;
  ::kill(tvfd_, signal);
  int st = 0;
  for (int i = 0; i < 500; ++i) {
    if (::waitpid(tvfd_, &st, WNOHANG) == tvfd_) {
      tvfd_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(tvfd_, SIGKILL);
  ::waitpid(tvfd_, &st, 0);
  tvfd_ = -1;
}

void Topology::checkSanitizerReports() const {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    if (e.path().filename().string().rfind("sanitizer.", 0) != 0) continue;
    std::ifstream f(e.path());
    std::stringstream ss;
    ss << f.rdbuf();
    ADD_FAILURE() << "tvfd's sanitizer report " << e.path().filename().string() << ":\n" << ss.str();
  }
}

int Topology::tvfdPid() const { return tvfd_; }

bool Topology::tvfdRunning() const { return tvfd_ > 0 && ::kill(tvfd_, 0) == 0; }

std::string Topology::tvfdLog() const {
  std::ifstream f(dir_ + "/tvfd.log");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

CommandResult Topology::tvfctl(const std::string& args) const {
  return run("ip netns exec " + guest() + " " + TVFCTL_PATH + " --socket " + socket() + " " + args);
}

nlohmann::json Topology::statusAll() const {
  auto r = run("ip netns exec " + guest() + " " + TVFCTL_PATH + " --socket " + socket() + " status --json 2>/dev/null");
  if (r.status != 0) return nullptr;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded()) return nullptr;
  return j;
}

nlohmann::json Topology::status() const {
  auto j = statusAll();
  if (j.is_null() || !j.contains("pairs") || j["pairs"].empty()) return nullptr;
  return j["pairs"][0];
}

bool Topology::waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

bool Topology::waitForLog(const std::string& needle, std::chrono::milliseconds timeout) const {
  return waitFor([&] { return tvfdLog().find(needle) != std::string::npos; }, timeout);
}

bool Topology::waitForCounter(const std::string& path, const std::string& counter, std::uint64_t atLeast,
                              std::chrono::milliseconds timeout) const {
  return waitFor(
      [&] {
        const auto s = status();
        if (s.is_null() || !s.contains("counters") || !s["counters"].contains(path)) return false;
        const auto& c = s["counters"][path];
        return c.contains(counter) && c[counter].is_number_integer() && c[counter].get<std::uint64_t>() >= atLeast;
      },
      timeout);
}

bool Topology::waitForState(const std::string& state, const std::string& active,
                            std::chrono::milliseconds timeout) const {
  return waitFor(
      [&] {
        auto s = status();
        return !s.is_null() && s["state"] == state && s["active"] == active;
      },
      timeout);
}

}  // namespace tvf::it
