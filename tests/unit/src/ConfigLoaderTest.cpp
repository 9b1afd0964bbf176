// The config loader: a valid file, every kind of problem with its exact
// message, path and line, and all problems listed at once.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "src/ConfigLoader.hpp"
#include "tvf/ConfigKeys.hpp"

namespace tvf {
namespace {

std::vector<ConfigProblem> problems(const std::string& yaml) {
  auto r = ConfigLoader::loadString(yaml);
  if (auto* p = std::get_if<std::vector<ConfigProblem>>(&r)) return *p;
  return {};
}

Config config(const std::string& yaml) {
  auto r = ConfigLoader::loadString(yaml);
  if (auto* p = std::get_if<std::vector<ConfigProblem>>(&r)) {
    for (auto& x : *p) ADD_FAILURE() << x.format("test");
    return {};
  }
  return std::get<Config>(r);
}

TEST(ConfigLoader, ShippedConfigIsValid) {
  auto r = ConfigLoader::loadFile(TVF_SOURCE_DIR "/conf/tvf.yaml");
  ASSERT_TRUE(std::holds_alternative<Config>(r));
  const auto& c = std::get<Config>(r);
  ASSERT_EQ(c.pairs.size(), 1u);
  EXPECT_EQ(c.pairs[0].name, "tvf0");
  EXPECT_EQ(c.pairs[0].synthetic, "eth0");
  EXPECT_EQ(c.controlSocket, "/run/tvf/tvf.sock");
}

TEST(ConfigLoader, DefaultsAreDocumented) {
  auto c = config("pairs:\n  - name: tvf0\n    synthetic: eth0\n");
  ASSERT_EQ(c.pairs.size(), 1u);
  const auto& p = c.pairs[0];
  EXPECT_TRUE(p.transparent);
  EXPECT_EQ(p.attachWait.count(), 2000);
  EXPECT_EQ(p.vfDatapath, VfDatapath::Auto);
  EXPECT_EQ(p.queues, 1u);
  EXPECT_TRUE(p.persist);
  EXPECT_EQ(p.announceCount, 3u);
  EXPECT_EQ(p.onSwitch, "");
  EXPECT_EQ(p.drainGrace.count(), 200);
  EXPECT_EQ(p.vfMtuPolicy, VfMtuPolicy::Refuse);
  EXPECT_EQ(p.carrierUpDelay.count(), 2000);
  EXPECT_EQ(c.controlSocket, kDefaultControlSocket);
  EXPECT_EQ(c.logLevel, LogLevel::Info);
  EXPECT_EQ(c.workerPriority, 1);
}

TEST(ConfigLoader, ReadsEveryKey) {
  auto c = config(R"(control_socket: /tmp/x.sock
control_group: netadm
log_level: debug
worker_priority: 0
pairs:
  - name: tvf1
    synthetic: mac:02:00:C6:12:00:02
    transparent: false
    attach_wait_ms: 0
    vf_datapath: packet
    tc_hook: clsact
    queues: 4
    persist: false
    announce_count: 0
    on_switch: /usr/local/bin/hook
    hook_timeout_ms: 1000
    drain_ms: 50
    vf_mtu_policy: clamp
    carrier_up_delay_ms: 0
)");
  ASSERT_EQ(c.pairs.size(), 1u);
  const auto& p = c.pairs[0];
  EXPECT_EQ(c.controlSocket, "/tmp/x.sock");
  EXPECT_EQ(c.controlGroup, "netadm");
  EXPECT_EQ(c.logLevel, LogLevel::Debug);
  EXPECT_EQ(c.workerPriority, 0);
  EXPECT_EQ(p.syntheticMac->toString(), "02:00:c6:12:00:02");
  EXPECT_EQ(p.syntheticSpec(), "mac:02:00:c6:12:00:02");
  EXPECT_FALSE(p.transparent);
  EXPECT_EQ(p.attachWait.count(), 0);
  EXPECT_EQ(p.vfDatapath, VfDatapath::Packet);
  EXPECT_EQ(p.tcHook, TcHookChoice::Clsact);
  EXPECT_EQ(p.queues, 4u);
  EXPECT_FALSE(p.persist);
  EXPECT_EQ(p.announceCount, 0u);
  EXPECT_EQ(p.onSwitch, "/usr/local/bin/hook");
  EXPECT_EQ(p.hookTimeout.count(), 1000);
  EXPECT_EQ(p.drainGrace.count(), 50);
  EXPECT_EQ(p.vfMtuPolicy, VfMtuPolicy::Clamp);
  EXPECT_EQ(p.carrierUpDelay.count(), 0);
}

struct Expected {
  std::string path;
  int line;
  std::string message;
};

void expectOne(const std::string& yaml, const Expected& e) {
  auto ps = problems(yaml);
  ASSERT_EQ(ps.size(), 1u) << yaml;
  EXPECT_EQ(ps[0].path, e.path);
  EXPECT_EQ(ps[0].line, e.line);
  EXPECT_EQ(ps[0].message, e.message);
}

TEST(ConfigLoader, UnknownKey) {
  expectOne("pairs:\n  - name: tvf0\n    synthetic: eth0\n    atach_wait_ms: 5\n",
            {"pairs[0].atach_wait_ms", 4,
             "unknown key 'atach_wait_ms' (known: announce_count, attach_wait_ms, carrier_up_delay_ms, datapath, "
             "drain_ms, hook_timeout_ms, name, on_switch, persist, queues, synthetic, tc_hook, transparent, "
             "vf_datapath, vf_mtu_policy)"});
  expectOne("verbose: 1\npairs:\n  - name: tvf0\n    synthetic: eth0\n",
            {"verbose", 1,
             "unknown key 'verbose' (known: control_group, control_socket, log_level, metrics_listen, pairs, worker_priority)"});
}

TEST(ConfigLoader, WrongType) {
  expectOne("pairs:\n  - name: tvf0\n    synthetic: eth0\n    transparent: maybe\n",
            {"pairs[0].transparent", 4, "expected a boolean (true or false), got 'maybe'"});
  expectOne("pairs:\n  - name: tvf0\n    synthetic: eth0\n    queues: two\n",
            {"pairs[0].queues", 4, "expected an integer, got 'two'"});
  expectOne("pairs:\n  - name: [a, b]\n    synthetic: eth0\n",
            {"pairs[0].name", 2, "expected a string, got a sequence"});
  expectOne("pairs: tvf0\n", {"pairs", 1, "expected a sequence of pairs, got a scalar"});
}

TEST(ConfigLoader, OutOfRange) {
  expectOne("pairs:\n  - name: tvf0\n    synthetic: eth0\n    attach_wait_ms: -5\n",
            {"pairs[0].attach_wait_ms", 4, "out of range: -5 (allowed 0..600000)"});
  expectOne("pairs:\n  - name: tvf0\n    synthetic: eth0\n    queues: 64\n",
            {"pairs[0].queues", 4, "out of range: 64 (allowed 1..16)"});
  expectOne("worker_priority: 100\npairs:\n  - name: tvf0\n    synthetic: eth0\n",
            {"worker_priority", 1, "out of range: 100 (allowed 0..99)"});
}

TEST(ConfigLoader, UnknownEnumValue) {
  expectOne("pairs:\n  - name: tvf0\n    synthetic: eth0\n    vf_datapath: dpdk\n",
            {"pairs[0].vf_datapath", 4, "unknown value 'dpdk' (expected auto | packet | verbs)"});
  expectOne("pairs:\n  - name: tvf0\n    synthetic: eth0\n    tc_hook: tc\n",
            {"pairs[0].tc_hook", 4, "unknown value 'tc' (expected auto | tcx | clsact)"});
}

TEST(ConfigLoader, VerbsDatapathTakesOneQueue) {
  expectOne("pairs:\n  - name: tvf0\n    synthetic: eth0\n    vf_datapath: verbs\n    queues: 2\n",
            {"pairs[0].queues", 5,
             "vf_datapath verbs takes one queue (its QP has no RSS spread yet); got 2"});
  EXPECT_TRUE(problems("pairs:\n  - name: tvf0\n    synthetic: eth0\n    vf_datapath: auto\n    queues: 2\n").empty());
}

TEST(ConfigLoader, TcHookNeedsAPairThatCanRunTheKernelDatapath) {
  expectOne("pairs:\n  - name: tvf0\n    synthetic: eth0\n    datapath: user\n    tc_hook: tcx\n",
            {"pairs[0].tc_hook", 5,
             "tc_hook places the kernel datapath's program; this pair runs the user datapath (datapath user), "
             "which has none: remove the key or leave it auto"});
  expectOne("pairs:\n  - name: tvf0\n    synthetic: eth0\n    vf_datapath: verbs\n    tc_hook: clsact\n",
            {"pairs[0].tc_hook", 5,
             "tc_hook places the kernel datapath's program; this pair runs the user datapath (vf_datapath verbs), "
             "which has none: remove the key or leave it auto"});
  EXPECT_TRUE(problems("pairs:\n  - name: tvf0\n    synthetic: eth0\n    datapath: user\n    tc_hook: auto\n").empty());
  EXPECT_TRUE(problems("pairs:\n  - name: tvf0\n    synthetic: eth0\n    datapath: auto\n    tc_hook: clsact\n").empty());
}

TEST(ConfigLoader, DuplicatePairName) {
  expectOne("pairs:\n  - name: tvf0\n    synthetic: eth0\n  - name: tvf0\n    synthetic: eth1\n",
            {"pairs[1].name", 4, "duplicate pair name 'tvf0' (also pairs[0])"});
}

TEST(ConfigLoader, TwoPairsOnOneSynthetic) {
  expectOne("pairs:\n  - name: tvf0\n    synthetic: eth0\n  - name: tvf1\n    synthetic: eth0\n",
            {"pairs[1].synthetic", 5,
             "synthetic 'eth0' is already used by pairs[0] (one pair per synthetic)"});
  // The same MAC written differently is the same synthetic.
  expectOne("pairs:\n  - name: a\n    synthetic: mac:02:00:00:00:00:01\n"
            "  - name: b\n    synthetic: mac:02:00:00:00:00:01\n",
            {"pairs[1].synthetic", 5,
             "synthetic 'mac:02:00:00:00:00:01' is already used by pairs[0] (one pair per synthetic)"});
}

TEST(ConfigLoader, BadMac) {
  expectOne("pairs:\n  - name: tvf0\n    synthetic: mac:02:00:c6:12:00\n",
            {"pairs[0].synthetic", 3, "bad MAC address '02:00:c6:12:00' (expected xx:xx:xx:xx:xx:xx)"});
  expectOne("pairs:\n  - name: tvf0\n    synthetic: mac:01:00:5e:00:00:01\n",
            {"pairs[0].synthetic", 3, "MAC address 01:00:5e:00:00:01 is not a unicast address"});
}

TEST(ConfigLoader, MissingKeysAndBadNames) {
  expectOne("pairs:\n  - name: tvf0\n", {"pairs[0].synthetic", 2, "missing required key 'synthetic'"});
  expectOne("pairs:\n  - name: a-very-long-interface-name\n    synthetic: eth0\n",
            {"pairs[0].name", 2,
             "'a-very-long-interface-name' is not a valid interface name (1-15 characters, no '/', ':', '%' or spaces)"});
  // A '%' makes the kernel take the name as a template: tvf%d came up as tvf0.
  expectOne("pairs:\n  - name: tvf%d\n    synthetic: eth0\n",
            {"pairs[0].name", 2, "'tvf%d' is not a valid interface name (1-15 characters, no '/', ':', '%' or spaces)"});
  expectOne("log_level: info\n", {"pairs", 1, "missing required key 'pairs'"});
  // An empty file: only pairs is required, and the message says so.
  expectOne("", {"", 0,
                 "the config must be a mapping with a 'pairs' list (and optional daemon keys such as "
                 "control_socket and log_level), got nothing (null)"});
  expectOne("pairs: []\n", {"pairs", 1, "at least one pair is needed"});
  expectOne("pairs:\n  - name: eth0\n    synthetic: eth0\n",
            {"pairs[0].synthetic", 3, "the synthetic cannot be the pair's own TAP 'eth0'"});
  expectOne("control_socket: tvf.sock\npairs:\n  - name: tvf0\n    synthetic: eth0\n",
            {"control_socket", 1, "must be an absolute path, got 'tvf.sock'"});
  expectOne("pairs:\n  - name: tvf0\n    synthetic: eth0\n    on_switch: hook.sh\n",
            {"pairs[0].on_switch", 4, "hook must be an absolute path, got 'hook.sh'"});
}

TEST(ConfigLoader, ListsEveryProblemAtOnce) {
  auto ps = problems(R"(log_level: loud
pairs:
  - name: tvf0
    synthetic: eth0
    queues: 0
    colour: blue
  - name: tvf0
    synthetic: mac:zz:00:00:00:00:00
    persist: 3
)");
  ASSERT_EQ(ps.size(), 6u);
  EXPECT_EQ(ps[0].path, "log_level");
  EXPECT_EQ(ps[1].path, "pairs[0].colour");
  EXPECT_EQ(ps[2].path, "pairs[0].queues");
  EXPECT_EQ(ps[3].path, "pairs[1].synthetic");
  EXPECT_EQ(ps[4].path, "pairs[1].persist");
  EXPECT_EQ(ps[5].path, "pairs[1].name");
  EXPECT_EQ(ps[5].line, 7);
  EXPECT_EQ(ps[0].format("tvf.yaml"),
            "tvf.yaml:1: log_level: unknown value 'loud' (expected trace | debug | info | warn | error)");
}

TEST(ConfigLoader, SyntaxErrorHasALine) {
  auto ps = problems("pairs:\n  - name: tvf0\n   synthetic: [eth0\n");
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_GT(ps[0].line, 1);
  EXPECT_NE(ps[0].message.find("YAML syntax error"), std::string::npos);
}

TEST(ConfigLoader, MissingFile) {
  auto r = ConfigLoader::loadFile("/nonexistent/tvf.yaml");
  ASSERT_TRUE(std::holds_alternative<std::vector<ConfigProblem>>(r));
  EXPECT_NE(std::get<1>(r)[0].message.find("cannot read /nonexistent/tvf.yaml"), std::string::npos);
}

// The key table and conf/tvf.yaml say the same: every key of the table is
// in the shipped file with the table's default, and the shipped file has no
// key the table lacks. A key added in one place only fails here.
TEST(ConfigKeyTable, MatchesTheShippedConfig) {
  std::ifstream in(TVF_SOURCE_DIR "/conf/tvf.yaml");
  std::stringstream text;
  text << in.rdbuf();
  const YAML::Node root = YAML::Load(text.str());
  ASSERT_TRUE(root["pairs"] && root["pairs"].IsSequence() && root["pairs"].size() == 1);
  const YAML::Node pair = root["pairs"][0];
  std::set<std::string> inFile;
  for (const auto& kv : root) inFile.insert(kv.first.Scalar());
  for (const auto& kv : pair) inFile.insert("pairs." + kv.first.Scalar());
  std::set<std::string> inTable{"pairs"};
  for (const auto& k : configKeys()) {
    const std::string name(k.name);
    const bool daemon = k.scope == KeyScope::Daemon;
    inTable.insert(daemon ? name : "pairs." + name);
    const YAML::Node node = daemon ? root[name] : pair[name];
    ASSERT_TRUE(node) << name << " is in the key table but not in conf/tvf.yaml";
    if (!k.defaultText.empty()) {
      const std::string def = k.defaultText == "\"\"" ? "" : std::string(k.defaultText);
      EXPECT_EQ(node.Scalar(), def) << name << ": conf/tvf.yaml shows another default than the table";
    }
    EXPECT_FALSE(k.doc.empty()) << name;
    EXPECT_FALSE(k.range.empty()) << name;
    EXPECT_EQ(daemon, k.parseDaemon != nullptr) << name;
    EXPECT_EQ(!daemon, k.parsePair != nullptr) << name;
  }
  EXPECT_EQ(inFile, inTable);
}

// The table's defaults are the config structs' defaults: loading each
// default text gives the value a missing key gets.
TEST(ConfigKeyTable, DefaultsParseToTheStructDefaults) {
  std::string yaml;
  std::string pairYaml = "  - name: tvf0\n    synthetic: eth0\n";
  for (const auto& k : configKeys()) {
    if (k.defaultText.empty()) continue;
    if (k.scope == KeyScope::Daemon)
      yaml += std::string(k.name) + ": " + std::string(k.defaultText) + "\n";
    else
      pairYaml += "    " + std::string(k.name) + ": " + std::string(k.defaultText) + "\n";
  }
  const Config explicitDefaults = config(yaml + "pairs:\n" + pairYaml);
  const Config implicitDefaults = config("pairs:\n  - name: tvf0\n    synthetic: eth0\n");
  ASSERT_EQ(explicitDefaults.pairs.size(), 1u);
  ASSERT_EQ(implicitDefaults.pairs.size(), 1u);
  for (const auto& k : configKeys()) {
    if (k.scope == KeyScope::Daemon)
      EXPECT_TRUE(k.sameDaemon(explicitDefaults, implicitDefaults)) << k.name;
    else
      EXPECT_TRUE(k.samePair(explicitDefaults.pairs[0], implicitDefaults.pairs[0])) << k.name;
  }
}

// A reload takes the live keys and reports the restart-only ones unchanged.
TEST(ConfigKeyTable, AReloadTakesLiveKeysOnly) {
  PairConfig live;
  live.name = "tvf0";
  PairConfig next = live;
  next.attachWait = std::chrono::milliseconds(50);
  next.queues = 4;
  next.announceCount = 7;
  auto restartOnly = reloadPair(live, next);
  EXPECT_EQ(restartOnly, std::vector<std::string>{"queues"});
  EXPECT_EQ(live.attachWait.count(), 50);
  EXPECT_EQ(live.announceCount, 7u);
  EXPECT_EQ(live.queues, 1u);
  Config d;
  Config dn;
  dn.logLevel = LogLevel::Debug;
  dn.workerPriority = 5;
  EXPECT_EQ(reloadDaemon(d, dn), std::vector<std::string>{"worker_priority"});
  EXPECT_EQ(d.logLevel, LogLevel::Debug);
  EXPECT_EQ(d.workerPriority, 1);
}

}  // namespace
}  // namespace tvf
