// What the libFuzzer harnesses found, kept as tests in every build: the
// crash inputs of issue 12, each parsed from a buffer that ends right at a
// PROT_NONE page (so a read past the message faults with or without ASan),
// and the whole corpus (tests/fuzz/corpus/<harness>/) replayed through the
// harnesses' own checks (FuzzTargets.hpp).
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "FuzzTargets.hpp"
#include "src/NetlinkTypes.hpp"

namespace tvf {
namespace {

std::vector<std::uint8_t> fromHex(const std::string& text) {
  std::vector<std::uint8_t> out;
  std::string digits;
  for (char c : text)
    if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  return out;
}

// A netlink message whose (4-byte aligned) end touches an inaccessible
// page. The alignment padding, at most 3 bytes, is 0xff: never a NUL, so a
// string read that runs off the message runs on into the guard page.
class GuardedMessage {
 public:
  explicit GuardedMessage(const std::vector<std::uint8_t>& msg) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t padded = NLMSG_ALIGN(msg.size());
    length_ = (padded + page - 1) / page * page + page;
    void* p = ::mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) std::abort();
    base_ = static_cast<std::uint8_t*>(p);
    if (::mprotect(base_ + length_ - page, page, PROT_NONE) != 0) std::abort();
    std::uint8_t* start = base_ + length_ - page - padded;
    std::memset(start, 0xff, padded);
    std::memcpy(start, msg.data(), msg.size());
    hdr_ = reinterpret_cast<const nlmsghdr*>(start);
  }
  ~GuardedMessage() { ::munmap(base_, length_); }
  GuardedMessage(const GuardedMessage&) = delete;
  GuardedMessage& operator=(const GuardedMessage&) = delete;
  const nlmsghdr* hdr() const { return hdr_; }

 private:
  std::uint8_t* base_ = nullptr;
  std::size_t length_ = 0;
  const nlmsghdr* hdr_ = nullptr;
};

std::vector<std::uint8_t> framed(const std::string& hex) {
  const auto raw = fromHex(hex);
  return fuzz::framedNetlinkMessage(raw.data(), raw.size());
}

// Issue 12, crash input 1: RTM_NEWLINK whose IFLA_IFNAME is "vf0\x02" with
// no NUL, the attribute ending the message.
const char* kIfnameWithoutNul =
    "94010000 10000000 00000000 00000000 00000100 05000000 43100100 00000000 08000300 76663002";
// Issue 12, crash input 2: RTM_DELLINK whose IFLA_LINKINFO holds an
// IFLA_INFO_KIND of five 0xf7 bytes and no NUL, near the message's end.
const char* kInfoKindWithoutNul =
    "6c000000 11000000 00000000 00000000 00000100 050001c6 12000002 00ff0000 10001200 09000100 f7f7f7f7 "
    "f7f7f7f7 f7f7";

// Death tests run the parse in a child: a fault there fails this test
// instead of killing the whole binary.
TEST(ParserRegression, IfnameWithoutNulIsRejectedNotReadPastTheMessage) {
  const auto msg = framed(kIfnameWithoutNul);
  ASSERT_EQ(msg.size(), 40u);
  EXPECT_EXIT(
      {
        GuardedMessage g(msg);
        std::exit(parseLinkMessage(g.hdr()) ? 2 : 0);  // malformed: nullopt
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(ParserRegression, InfoKindWithoutNulStopsAtItsAttribute) {
  const auto msg = framed(kInfoKindWithoutNul);
  ASSERT_EQ(msg.size(), 50u);
  EXPECT_EXIT(
      {
        GuardedMessage g(msg);
        auto p = parseLinkMessage(g.hdr());
        std::exit(p && p->kind == LinkMessageKind::Del && p->link.kind == std::string(5, '\xf7') ? 0 : 2);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(ParserRegression, WellFormedNamesStillParse) {
  // The first crash input with its name NUL-terminated: "vf0".
  auto msg = framed(kIfnameWithoutNul);
  msg.back() = 0;
  GuardedMessage g(msg);
  auto p = parseLinkMessage(g.hdr());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->link.ifname, "vf0");
  EXPECT_EQ(p->link.ifindex, 5);
}

TEST(ParserRegression, IfnameOfIfnamsizOrMoreIsRejected) {
  auto msg = framed(kIfnameWithoutNul);
  msg.resize(msg.size() - 4);  // drop the name's payload
  const std::string name(IFNAMSIZ, 'v');  // 16 characters and a NUL
  const std::size_t attrLen = 4 + name.size() + 1;
  msg[msg.size() - 4] = static_cast<std::uint8_t>(attrLen);
  msg.insert(msg.end(), name.begin(), name.end());
  msg.resize(msg.size() + 1 + (NLMSG_ALIGN(attrLen) - attrLen), 0);
  const auto len = static_cast<std::uint32_t>(msg.size());
  std::memcpy(msg.data(), &len, sizeof len);
  GuardedMessage g(msg);
  EXPECT_FALSE(parseLinkMessage(g.hdr()));
}

std::vector<std::uint8_t> corpusFile(const std::string& harness, const std::string& name) {
  std::ifstream f(std::string(TVF_SOURCE_DIR) + "/tests/fuzz/corpus/" + harness + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

TEST(ParserRegression, AddressFlagsShorterThanFourBytesAreNotRead) {
  // RTM_NEWADDR, AF_INET6 fd00:18::2/64 on ifindex 7, ifa_flags NODAD, then
  // an IFA_FLAGS with 2 bytes of payload as the message's last attribute.
  const auto msg = framed(
      "34000000 14000000 00000000 00000000 0a400200 07000000"
      "14000100 fd000018 00000000 00000000 00000002"
      "06000800 8000ffff");
  ASSERT_EQ(msg.size(), 52u);
  GuardedMessage g(msg);
  auto a = parseAddressMessage(g.hdr());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->family, AF_INET6);
  EXPECT_EQ(a->ifindex, 7);
  EXPECT_EQ(a->flags, 0x02u);  // ifa_flags, not 4 bytes read from a 2-byte attribute
  ASSERT_EQ(a->address.size(), 16u);
  EXPECT_EQ(a->address[0], 0xfd);
  EXPECT_EQ(a->address[15], 0x02);
  EXPECT_TRUE(a->local.empty());
}

TEST(ParserRegression, ExtackIsReadFromTheKernelsErrorAndNeverPastIt) {
  // Recorded by make_corpus.py: creating a link of kind "nosuchkind".
  auto msg = corpusFile("extack_message", "kernel-00");
  ASSERT_GE(msg.size(), 36u);
  {
    GuardedMessage g(msg);
    EXPECT_EQ(extackMessage(g.hdr()), "Unknown device type");
  }
  // The echoed request claims to be longer than the error message.
  const std::uint32_t huge = 0xfffffff0;
  std::memcpy(msg.data() + 20, &huge, sizeof huge);
  GuardedMessage g(msg);
  EXPECT_EQ(extackMessage(g.hdr()), "");
}

TEST(ParserRegression, CorpusReplaysThroughEveryHarness) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(TVF_SOURCE_DIR) / "tests/fuzz/corpus";
  for (const auto& t : fuzz::targets()) {
    const fs::path dir = root / t.name;
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    int inputs = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
      std::ifstream f(e.path(), std::ios::binary);
      const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      SCOPED_TRACE(e.path().string());
      t.run(bytes.data(), bytes.size());
      ++inputs;
    }
    EXPECT_GT(inputs, 0) << t.name << ": an empty corpus";
  }
}

}  // namespace
}  // namespace tvf
