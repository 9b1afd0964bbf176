// One entry point per parser of outside input. Each takes arbitrary bytes,
// hands them to the parser the way tvfd receives them, and checks what the
// parser promises; a broken promise aborts (a crash to libFuzzer, a failed
// death test to gtest). Shared by the libFuzzer harnesses (libfuzzer/,
// built with -DTVF_FUZZ=ON and clang) and the gtest replay of the corpus
// and of the crash inputs (ParserRegressionTest.cpp), so what the fuzzer
// found once stays a test in every build.
//
// The netlink entries copy the message into a heap buffer of exactly
// nlmsg_len bytes, so ASan sees any read past the message (libnl hands the
// parsers messages whose nlmsg_len fits what was received; a length that
// does not fit is replaced by the input's size, as the old seeded test did).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tvf::fuzz {

// rtnetlink RTM_NEWLINK / RTM_DELLINK -> parseLinkMessage.
void linkMessage(const std::uint8_t* data, std::size_t size);
// rtnetlink RTM_NEWADDR / RTM_DELADDR -> parseAddressMessage.
void addressMessage(const std::uint8_t* data, std::size_t size);
// rtnetlink RTM_NEWNEIGH -> parseNeighbourMessage.
void neighbourMessage(const std::uint8_t* data, std::size_t size);
// A frame received on a VF while its path is proven -> arpReplyTo.
void arpReply(const std::uint8_t* data, std::size_t size);
// NLMSG_ERROR with extended-ack TLVs -> extackMessage.
void extackMessage(const std::uint8_t* data, std::size_t size);
// Control socket bytes, split into lines as ControlServer does ->
// parseRequest -> ControlCommands::handle (against a fake daemon) -> the
// reply, serialised.
void controlRequest(const std::uint8_t* data, std::size_t size);
// A config file -> ConfigLoader::loadString.
void config(const std::uint8_t* data, std::size_t size);
// /proc/net/dev_mcast text -> parseDevMcast.
void devMcast(const std::uint8_t* data, std::size_t size);

// The harnesses by name: the corpus folder tests/fuzz/corpus/<name>/ and
// the libFuzzer binary tvf_fuzz_<name>.
struct Target {
  const char* name;
  void (*run)(const std::uint8_t*, std::size_t);
};
const std::vector<Target>& targets();

// The netlink framing above, for a caller that wants the message in a
// buffer of its own (the guard-page regression tests): the message's
// bytes with nlmsg_len made to fit, or empty when shorter than a header.
std::vector<std::uint8_t> framedNetlinkMessage(const std::uint8_t* data, std::size_t size);

}  // namespace tvf::fuzz
