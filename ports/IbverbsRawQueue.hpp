// RawQueue over libibverbs: a raw-packet QP on the VF's RDMA device, with
// a receive CQ on a completion channel, a send CQ, one registered memory
// region, and steering rules for the VF's MAC, broadcast and multicast.
// Built only with TVF_WITH_VERBS. Not run on real hardware by this
// project's tests (there is no RDMA device here); VerbsRawPort above it
// is unit-tested with a fake queue.
#pragma once

#include "ports/RawQueue.hpp"

namespace tvf {

class IbverbsRawQueueProvider final : public RawQueueProvider {
 public:
  Result<RawQueuePtr> open(const RawQueueSpec& spec, std::span<std::uint8_t> region) override;
};

}  // namespace tvf
