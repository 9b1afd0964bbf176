// tvfctl: talks to tvfd over its control socket (line-delimited JSON).
// Exit codes: 0 success, 1 the daemon reported an error, 2 usage error,
// 3 the daemon cannot be reached.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "protocol/StatusReport.hpp"
#include "protocol/SwitchTimelineReport.hpp"
#include "tvf/Config.hpp"
#include "tvf/Version.hpp"

namespace {

constexpr int kExitDaemonError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;

struct Reply {
  int exitCode = 0;
  nlohmann::json body;
};

Reply call(const std::string& path, const nlohmann::json& request, int timeoutMs) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  // A connect to a daemon whose listen backlog is full blocks; the timeout
  // bounds that wait too (EAGAIN when it passes).
  const timeval tv{timeoutMs / 1000, (timeoutMs % 1000) * 1000};
  if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    std::cerr << "tvfctl: cannot reach tvfd at " << path << ": " << std::strerror(errno) << "\n";
    if (fd >= 0) ::close(fd);
    return {kExitUnreachable, {}};
  }
  const std::string line = request.dump() + "\n";
  // A daemon that refuses this peer (SO_PEERCRED) writes its reason and hangs
  // up at once, possibly before the request is sent: then send() fails with
  // EPIPE, but the reason is still waiting to be read, so read it.
  int sendErrno = 0;
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
    sendErrno = errno != 0 ? errno : EIO;
  std::string buf;
  char chunk[65536];
  while (buf.find('\n') == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeoutMs) <= 0) {
      std::cerr << "tvfctl: no reply from tvfd within " << timeoutMs << " ms\n";
      ::close(fd);
      return {kExitUnreachable, {}};
    }
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) {
      if (sendErrno != 0)
        std::cerr << "tvfctl: send to " << path << ": " << std::strerror(sendErrno) << "\n";
      else
        std::cerr << "tvfctl: tvfd closed the connection\n";
      ::close(fd);
      return {kExitUnreachable, {}};
    }
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto j = nlohmann::json::parse(buf.substr(0, buf.find('\n')), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    std::cerr << "tvfctl: malformed reply from tvfd\n";
    return {kExitDaemonError, {}};
  }
  if (!j.value("ok", false)) {
    std::cerr << "tvfctl: " << j.value("error", std::string("error")) << "\n";
    return {kExitDaemonError, j};
  }
  return {0, j};
}

// `tvfctl events`: prints each pair's timeline; with `follow`, keeps asking
// for what it has not seen (every kFollowPollMs, so a switch shows within
// about that long) until the daemon goes away or the output closes.
constexpr int kFollowPollMs = 25;

int printEvents(const std::string& socket, const std::string& pair, bool json, bool follow, int timeoutMs) {
  nlohmann::json after = nlohmann::json::object();
  nlohmann::json all = nlohmann::json::array();
  while (true) {
    nlohmann::json req{{"cmd", "events"}, {"after", after}};
    if (!pair.empty()) req["pair"] = pair;
    Reply r = call(socket, req, timeoutMs);
    if (r.exitCode != 0) return r.exitCode;
    for (const auto& [name, body] : r.body["pairs"].items()) {
      for (auto e : body["events"]) {
        if (json && !follow) {
          e["pair"] = name;
          all.push_back(std::move(e));
        } else if (json) {
          e["pair"] = name;
          std::cout << e.dump() << "\n";
        } else {
          std::cout << tvf::timelineLine(name, e) << "\n";
        }
      }
      after[name] = body["last_seq"];
    }
    if (!follow) break;
    std::cout.flush();
    if (!std::cout) return 0;
    ::usleep(kFollowPollMs * 1000);
  }
  if (json) std::cout << all.dump(2) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tvfctl: control a running tvfd"};
  app.set_version_flag("--version", std::string("tvfctl ") + tvf::kVersionLine,
                       "print the version and git revision, then exit");
  std::string socket = tvf::kDefaultControlSocket;
  int timeoutMs = 30000;
  app.add_option("--socket", socket, "control socket path")->capture_default_str();
  app.add_option("--timeout-ms", timeoutMs, "how long to wait for a reply (1 or more)")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400000));
  // --socket and --timeout-ms also after the command (tvfctl status --socket
  // X): what a command does not know falls through to these.
  app.fallthrough();

  auto* status = app.add_subcommand("status", "show every pair");
  bool json = false;
  status->add_flag("--json", json, "print the status as JSON");
  auto* detach = app.add_subcommand("detach", "planned detach before a migration");
  std::string pair;
  bool wait = false;
  detach->add_option("PAIR", pair, "pair name")->required();
  detach->add_flag("--wait", wait, "return once TX is on the synthetic and the VF port is retired");
  auto* attach = app.add_subcommand("attach", "end a planned detach; let a VF attach");
  std::string ifname;
  attach->add_option("PAIR", pair, "pair name")->required();
  attach->add_option("IFNAME", ifname, "force this VF candidate");
  app.add_subcommand("metrics", "Prometheus text exposition");
  auto* events = app.add_subcommand("events", "the last switches of each pair (or of PAIR), oldest first");
  bool follow = false;
  events->add_option("PAIR", pair, "only this pair");
  events->add_flag("--json", json, "a JSON array (with --follow: one JSON object per line)");
  events->add_flag("--follow", follow, "keep printing new switches as they happen, like ip monitor");
  app.add_subcommand("reload", "re-read the configuration");
  // Words no command takes are collected, not refused by CLI11, so that an
  // unknown command is named as one (CLI11 would say "A subcommand is
  // required").
  app.require_subcommand(0, 1);
  app.allow_extras();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // CLI11's own words ("PAIR is required"), said by whom and with the way on.
    std::string who = "tvfctl";
    for (const auto* sub : app.get_subcommands()) who += " " + sub->get_name();
    std::cerr << who << ": " << e.what() << " (" << who << " --help says more)\n";
    return kExitUsage;
  }
  if (app.get_subcommands().empty() || !app.remaining().empty()) {
    std::string known;
    for (const auto* sub : app.get_subcommands({})) {
      if (!known.empty()) known += ", ";
      known += sub->get_name();
    }
    if (app.get_subcommands().empty() && app.remaining().empty())
      std::cerr << "tvfctl: a command is required (one of " << known << "); --help says more\n";
    else if (app.get_subcommands().empty())
      std::cerr << "tvfctl: unknown command '" << app.remaining().front() << "' (one of " << known << ")\n";
    else
      std::cerr << "tvfctl " << app.get_subcommands().front()->get_name() << ": unexpected argument '"
                << app.remaining().front() << "'\n";
    return kExitUsage;
  }

  const std::string cmd = app.get_subcommands().front()->get_name();
  if (cmd == "events") return printEvents(socket, pair, json, follow, timeoutMs);
  nlohmann::json req;
  req["cmd"] = cmd;
  if (cmd == "detach") {
    req["pair"] = pair;
    req["wait"] = wait;
    if (wait) timeoutMs = std::max(timeoutMs, 120000);
  } else if (cmd == "attach") {
    req["pair"] = pair;
    if (!ifname.empty()) req["ifname"] = ifname;
  }
  Reply r = call(socket, req, timeoutMs);
  if (r.exitCode != 0) return r.exitCode;
  if (cmd == "status") {
    if (json)
      std::cout << r.body["status"].dump(2) << "\n";
    else
      std::cout << tvf::statusTable(r.body["status"]);
  } else if (cmd == "metrics") {
    std::cout << r.body["metrics"].get<std::string>();
  } else if (cmd == "reload") {
    for (const auto& w : r.body.value("warnings", nlohmann::json::array())) std::cerr << "tvfctl: " << w.get<std::string>() << "\n";
  } else if (r.body.contains("state")) {
    std::cout << pair << ": " << r.body["state"].get<std::string>() << "\n";
  }
  return 0;
}
