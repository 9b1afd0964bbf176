#include "ports/PacketBackend.hpp"

#include "ports/PacketSocketPort.hpp"

namespace tvf {

Result<BackendFeatures> PacketBackend::probe(const LinkInfo& link, unsigned queues) {
  if (link.ifindex <= 0) return Error{ENODEV, "packet backend: no such link"};
  auto f = BackendFeatures::full("packet");
  f.queues = queues;
  return f;
}

Result<PortPtr> PacketBackend::open(const LinkInfo& link, unsigned, const BackendFeatures& negotiated) {
  PacketPortOptions opts;
  if (negotiated.queues > 1) opts.fanoutGroup = link.ifindex & 0xffff;
  return PacketSocketPort::open(link.ifindex, opts);
}

}  // namespace tvf
